key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" { # ERROR: Missing required argument
  access_token = env("CSFLE_DEV_MONGODB_URI")
}
