package devenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KeySpec describes a CMK for CreateKey. The zero value is an enabled
// symmetric key, the only kind CSFLE can use as an AWS master key.
type KeySpec struct {
	// Asymmetric makes an RSA_2048 ENCRYPT_DECRYPT key instead.
	Asymmetric bool
	// Disabled disables the key right after creating it.
	Disabled    bool
	Description string
}

// KMSClient is an AWS SDK client for the environment's KMS, with its
// credentials and CA.
func (e *Env) KMSClient() *kms.Client {
	return kms.New(kms.Options{
		Region:       e.Region,
		BaseEndpoint: aws.String(e.KMSURL),
		Credentials:  credentials.NewStaticCredentialsProvider(e.AccessKeyID, e.SecretAccessKey, ""),
		HTTPClient:   e.httpClient,
	})
}

// CreateKey creates a CMK and returns its ARN.
func (e *Env) CreateKey(ctx context.Context, spec KeySpec) (arn string, err error) {
	in := &kms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt}
	if spec.Asymmetric {
		in.KeySpec = types.KeySpecRsa2048
	}
	if spec.Description != "" {
		in.Description = aws.String(spec.Description)
	}
	client := e.KMSClient()
	out, err := client.CreateKey(ctx, in)
	if err != nil {
		return "", fmt.Errorf("devenv: create %s key: %w", in.KeySpec, err)
	}
	arn = aws.ToString(out.KeyMetadata.Arn)
	if spec.Disabled {
		if _, err := client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)}); err != nil {
			return "", fmt.Errorf("devenv: disable key %s: %w", arn, err)
		}
	}
	return arn, nil
}

// reuseOrCreateCMK keeps the previous run's CMK if the KMS still has it
// enabled and symmetric, so env files and data keys stay valid across
// restarts; otherwise it creates one.
func (e *Env) reuseOrCreateCMK(ctx context.Context, prev string) (string, error) {
	if prev != "" {
		out, err := e.KMSClient().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(prev)})
		if err == nil && out.KeyMetadata != nil &&
			out.KeyMetadata.KeyState == types.KeyStateEnabled &&
			out.KeyMetadata.KeySpec == types.KeySpecSymmetricDefault {
			return prev, nil
		}
	}
	return e.CreateKey(ctx, KeySpec{Description: "csfle devenv CMK"})
}
