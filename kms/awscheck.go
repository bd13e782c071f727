package kms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/csfle/csfle/model"
)

// CheckAWSKey asks AWS KMS about an aws master key with DescribeKey and
// says what, if anything, makes it unfit to wrap data keys: it must exist,
// be enabled, be a symmetric key for ENCRYPT_DECRYPT, and live in the
// region the master key names. The error names the key.
func (p *Providers) CheckAWSKey(ctx context.Context, mk model.MasterKey) error {
	cfg, ok := p.aws[mk.Provider]
	if !ok {
		return fmt.Errorf("kms: the %q provider is not configured", mk.Provider)
	}
	keyID := mk.Fields["key"]
	region := mk.Fields["region"]
	client := awskms.NewFromConfig(cfg, func(o *awskms.Options) {
		if region != "" {
			o.Region = region
		}
		if ep := mk.Fields["endpoint"]; ep != "" {
			o.BaseEndpoint = aws.String("https://" + ep)
		}
		if t := p.tls[mk.Provider]; t != nil {
			o.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: t, Proxy: http.ProxyFromEnvironment}}
		}
	})
	// A KMS that accepts a connection and never answers must not hang the
	// plan: the SDK's HTTP client has no overall timeout of its own.
	ctx, cancel := context.WithTimeout(ctx, describeKeyTimeout)
	defer cancel()
	out, err := client.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode() {
			case "NotFoundException":
				return fmt.Errorf("kms: AWS KMS key %s does not exist in %s", keyID, regionName(region))
			case "AccessDeniedException":
				return fmt.Errorf("kms: AWS KMS key %s: the configured credentials may not describe it (kms:DescribeKey is denied); grant kms:DescribeKey, kms:Encrypt and kms:Decrypt on it", keyID)
			}
			return fmt.Errorf("kms: AWS KMS key %s: DescribeKey failed: %s", keyID, apiErr.ErrorCode())
		}
		return fmt.Errorf("kms: AWS KMS key %s: DescribeKey failed: %w", keyID, err)
	}
	return checkKeyMetadata(keyID, region, out.KeyMetadata)
}

// describeKeyTimeout bounds a DescribeKey check, retries included.
const describeKeyTimeout = 30 * time.Second

func regionName(region string) string {
	if region == "" {
		return "the default region"
	}
	return region
}

// checkKeyMetadata holds the rules, apart from the call, for tests.
func checkKeyMetadata(keyID, region string, md *types.KeyMetadata) error {
	if md == nil {
		return fmt.Errorf("kms: AWS KMS key %s: DescribeKey returned no metadata", keyID)
	}
	var problems []string
	if md.KeyState != types.KeyStateEnabled {
		problems = append(problems, fmt.Sprintf("it is %s, not Enabled", md.KeyState))
	}
	if md.KeySpec != "" && md.KeySpec != types.KeySpecSymmetricDefault {
		problems = append(problems, fmt.Sprintf("it is a %s key, not a symmetric (SYMMETRIC_DEFAULT) one", md.KeySpec))
	}
	if md.KeyUsage != "" && md.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
		problems = append(problems, fmt.Sprintf("its usage is %s, not ENCRYPT_DECRYPT", md.KeyUsage))
	}
	if arn := aws.ToString(md.Arn); region != "" && arn != "" {
		if parts := strings.Split(arn, ":"); len(parts) > 3 && parts[3] != region {
			problems = append(problems, fmt.Sprintf("it is in region %s, but the master key says %s", parts[3], region))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("kms: AWS KMS key %s cannot wrap data keys: %s", keyID, strings.Join(problems, "; "))
	}
	return nil
}
