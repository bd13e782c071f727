key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region = "us-east-1"
}

data_key "ssn" { # ERROR: Missing master_key.key
  kms = kms.aws
}
