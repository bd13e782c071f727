key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" { # ERROR: KMS provider not supported yet
}
