key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

resource "ssn" { # ERROR: Unsupported block type
}
