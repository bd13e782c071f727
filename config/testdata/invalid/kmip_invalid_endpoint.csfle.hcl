key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint = "kmip://localhost:5696" # ERROR: Invalid KMS endpoint
}
