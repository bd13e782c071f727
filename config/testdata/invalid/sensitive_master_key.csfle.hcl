key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "cmk_arn" {
  default   = "arn:aws:kms:us-east-1:111122223333:key/1"
  sensitive = true
}

kms "aws" {
  region = "us-east-1"
}

data_key "ssn" {
  kms = kms.aws
  master_key = {
    key = var.cmk_arn # ERROR: Sensitive value not allowed here
  }
}
