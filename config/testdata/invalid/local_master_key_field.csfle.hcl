key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "ssn" {
  kms = kms.local
  master_key = {
    key = "arn:aws:kms:us-east-1:111122223333:key/1" # ERROR: Unsupported master_key field
  }
}
