key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" {
  key = "this is not base64!" # ERROR: Local master key is not valid base64
}
