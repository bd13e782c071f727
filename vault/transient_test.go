package vault

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

func TestIsTransient(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{errors.New("mongocrypt error 1: Error in KMS response. HTTP status=500. Response body=..."), true},
		{errors.New("mongocrypt error 1: Error in KMS response. HTTP status=503"), true},
		{errors.New(`{"__type":"ThrottlingException","message":"Rate exceeded"}`), true},
		{fmt.Errorf("vault: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{errors.New("mongocrypt error 1: argument 'bytes' cannot be empty"), true},
		{errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"), true},
		{errors.New("mongocrypt error 1: Error in KMS response. HTTP status=400. AccessDeniedException"), false},
		{errors.New("NotFoundException: key does not exist"), false},
		{nil, false},
	} {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
