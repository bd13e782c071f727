# The guide's end state: a data key wrapped by a customer master key in AWS
# KMS, region and endpoint taken from the kms block.
variable "cmk_arn" {
  description = "ARN of the AWS CMK"
  type        = string
}

variable "protect" {
  type    = bool
  default = true
}

key_vault {
  uri       = env("CSFLE_DEV_MONGODB_URI")
  namespace = "medical.__keyVault"
}

kms "aws" {
  region   = "us-east-1"
  profile  = "prod"
  endpoint = env("CSFLE_DEV_AWS_ENDPOINT", "")

  # Assume a role on top of the default chain's credentials.
  role_arn     = "arn:aws:iam::111122223333:role/csfle-keys"
  external_id  = "csfle-7f3a"
  session_name = "csfle-plan"
}

data_key "ssn" {
  kms = kms.aws
  master_key = {
    key = var.cmk_arn
  }
  alt_names = ["ssn", "ssn-v1", "ssn"]

  lifecycle {
    prevent_destroy = var.protect
  }
}

data_key "dob" {
  kms = kms.aws
  master_key = {
    key      = var.cmk_arn
    region   = "eu-west-1"
    endpoint = "kms.eu-west-1.amazonaws.com"
  }
}
