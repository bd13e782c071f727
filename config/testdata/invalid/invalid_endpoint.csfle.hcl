key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region   = "us-east-1"
  endpoint = "https://kms.us-east-1.amazonaws.com" # ERROR: Invalid KMS endpoint
}
