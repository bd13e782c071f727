key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "ssn" {
  kms = kms.local
}

data_key "billing" {
  kms = kms.local
}

collection "medical" "patients" {
  field "ssn" {
    data_key  = data_key.sn # ERROR: Reference to undeclared data key
    bson_type = "string"
    algorithm = "deterministic"
  }
  field "name" {
    data_key  = "ssn" # ERROR: Invalid data key reference
    algorithm = "random"
  }
  field "card" {
    data_key  = kms.local # ERROR: Invalid data key reference
    algorithm = "random"
  }
}
