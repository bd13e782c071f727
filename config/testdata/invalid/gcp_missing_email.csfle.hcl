key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "gcp" { # ERROR: Missing email
  private_key = file("../valid/gcp/gcp-private-key.txt")
}
