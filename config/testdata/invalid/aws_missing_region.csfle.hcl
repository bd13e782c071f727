key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {}

data_key "ssn" {
  kms = kms.aws
  master_key = { # ERROR: Missing master_key.region
    key = "arn:aws:kms:us-east-1:111122223333:key/1"
  }
}
