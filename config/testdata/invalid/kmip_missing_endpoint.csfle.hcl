key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" { # ERROR: Missing required argument
  ca_file = "files/client-cert-only.pem"
}
