key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region       = "us-east-1"
  role_arn     = "arn:aws:iam::111122223333:user/csfle" # ERROR: Invalid role ARN
  session_name = "csfle plan"                           # ERROR: Invalid session_name
}
