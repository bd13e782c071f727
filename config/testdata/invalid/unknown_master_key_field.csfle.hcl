key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region = "us-east-1"
}

data_key "ssn" {
  kms = kms.aws
  master_key = {
    key     = "arn:aws:kms:us-east-1:111122223333:key/1"
    keyName = "ssn" # ERROR: Unsupported master_key field
  }
}
