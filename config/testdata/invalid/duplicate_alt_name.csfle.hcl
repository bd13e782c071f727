key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "ssn" {
  kms = kms.local
}

data_key "ssn_v2" {
  kms       = kms.local
  alt_names = [
    "ssn-v2",
    "ssn", # ERROR: Duplicate alt name
  ]
}
