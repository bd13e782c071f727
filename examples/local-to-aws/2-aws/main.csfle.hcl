# Stage 2: the same data keys, rewrapped under an AWS KMS customer master key.

variable "cmk_arn" {
  description = "ARN of the symmetric AWS KMS key that will wrap the data keys"
}

variable "aws_region" {
  default = "us-east-1"
}

key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

# Kept until the rewrap is applied: csfle unwraps each key with it first.
kms "local" {
  key = file("master-key.txt")
}

kms "aws" {
  region = var.aws_region
  # Only for a non-default KMS endpoint, such as the development environment's.
  endpoint = env("CSFLE_DEV_AWS_ENDPOINT", "")
}

data_key "patients_ssn" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn }
  lifecycle {
    prevent_destroy = true
  }
}

data_key "patients_billing" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn }
}
