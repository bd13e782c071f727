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
  field "" { # ERROR: Invalid field path
    data_key  = data_key.ssn
    algorithm = "random"
  }
  field ".ssn" { # ERROR: Invalid field path
    data_key  = data_key.ssn
    algorithm = "random"
  }
  field "billing." { # ERROR: Invalid field path
    data_key  = data_key.ssn
    algorithm = "random"
  }
  field "billing..card" { # ERROR: Invalid field path
    data_key  = data_key.ssn
    algorithm = "random"
  }
  field "billing.$card" { # ERROR: Invalid field path
    data_key  = data_key.ssn
    algorithm = "random"
  }
}
