key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "aws" {
  region = var.region # ERROR: Reference to undeclared variable
}
