key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

data_key { # ERROR: Missing name for data_key block
}
