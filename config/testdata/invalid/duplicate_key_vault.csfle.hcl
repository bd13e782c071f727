key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

key_vault { # ERROR: Duplicate key_vault block
  uri = "mongodb://localhost"
}
