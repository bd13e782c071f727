key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {}

data_key "ssn" {
  kms = kms.aws
  master_key = { # ERROR: Missing master_key.key
    region = "us-east-1"
  }
}
