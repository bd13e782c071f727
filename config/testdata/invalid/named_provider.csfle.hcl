key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" "prod" { # ERROR: Named KMS providers need libmongocrypt 1.9+
  region = "us-east-1"
}
