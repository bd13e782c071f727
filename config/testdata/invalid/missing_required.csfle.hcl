key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" { # ERROR: Missing required argument
}
