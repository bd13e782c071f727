key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "ssn" {
  kms = kms.local
}

data_key "a" {
  kms = kms.local
}

data_key "b" {
  kms = kms.local
}

collection "medical" "patients" {
  field "_id" { # ERROR: _id cannot be encrypted
    data_key  = data_key.ssn
    algorithm = "random"
  }
}

collection "hr" "employees" {
  mode = "queryable"
  field "_id" { # ERROR: _id cannot be encrypted
    data_key  = data_key.a
    bson_type = "string"
  }
  field "_id.badge" { # ERROR: _id cannot be encrypted
    data_key  = data_key.b
    bson_type = "string"
  }
}
