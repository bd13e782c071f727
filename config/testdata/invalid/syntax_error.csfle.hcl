key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" {
  key = # ERROR: Invalid expression
}
