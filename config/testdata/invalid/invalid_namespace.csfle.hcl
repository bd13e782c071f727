key_vault {
  uri       = env("CSFLE_DEV_MONGODB_URI")
  namespace = "__keyVault" # ERROR: Invalid key vault namespace
}
