key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
  url = "mongodb://localhost" # ERROR: Unsupported argument
}
