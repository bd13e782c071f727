key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region      = "us-east-1"
  external_id = "csfle-7f3a" # ERROR: Missing role_arn
}
