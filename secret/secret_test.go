package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	v := FromString("hunter2-very-secret")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		got := fmt.Sprintf(verb, v)
		if strings.Contains(got, "hunter2") {
			t.Errorf("%s printed the secret: %q", verb, got)
		}
	}
	if got := fmt.Sprint(struct{ K Value }{v}); strings.Contains(got, "hunter2") {
		t.Errorf("nested value printed the secret: %q", got)
	}
	if _, err := json.Marshal(struct{ K Value }{v}); !errors.Is(err, ErrMarshal) {
		t.Errorf("json.Marshal error = %v, want ErrMarshal", err)
	}
	if v.RevealString() != "hunter2-very-secret" || v.Len() != 19 {
		t.Errorf("Reveal lost the value")
	}
}
