key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region = "us-east-1"
}

data_key "ssn" {
  kms = kms.aws
  master_key = {
    key = "" # ERROR: Missing master_key.key
  }
}
