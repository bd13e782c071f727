key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "ssn" {
  kms = kms.local
}

collection "medical" "patients" {
  field "ssn" {
    data_key  = data_key.ssn
    bson_type = "string"
    algorithm = "deterministic"
  }
  field "ssn" { # ERROR: Duplicate field block
    data_key  = data_key.ssn
    algorithm = "random"
  }
}
