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
  field "billing" {
    data_key  = data_key.ssn
    algorithm = "random"
  }
  field "billing.card.number" { # ERROR: Overlapping field paths
    data_key  = data_key.ssn
    bson_type = "string"
    algorithm = "random"
  }
  field "address.city" {
    data_key  = data_key.ssn
    algorithm = "random"
  }
  field "address" { # ERROR: Overlapping field paths
    data_key  = data_key.ssn
    algorithm = "random"
  }
  # A common prefix that is not a whole segment is no overlap.
  field "billingAddress" {
    data_key  = data_key.ssn
    algorithm = "random"
  }
}
