key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

namespace = "encryption.__keyVault" # ERROR: Unsupported argument
