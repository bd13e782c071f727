key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" # ERROR: Local master key must be 96 bytes
}
