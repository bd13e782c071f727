key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "vault" { # ERROR: Unknown KMS provider kind
}
