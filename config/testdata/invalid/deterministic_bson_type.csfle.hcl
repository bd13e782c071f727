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
  field "weight" {
    data_key  = data_key.ssn
    bson_type = "double" # ERROR: BSON type not supported by deterministic encryption
    algorithm = "deterministic"
  }
  field "balance" {
    data_key  = data_key.ssn
    bson_type = "decimal" # ERROR: BSON type not supported by deterministic encryption
    algorithm = "deterministic"
  }
  field "smoker" {
    data_key  = data_key.ssn
    bson_type = "bool" # ERROR: BSON type not supported by deterministic encryption
    algorithm = "deterministic"
  }
  field "address" {
    data_key  = data_key.ssn
    bson_type = "object" # ERROR: BSON type not supported by deterministic encryption
    algorithm = "deterministic"
  }
  field "allergies" {
    data_key  = data_key.ssn
    bson_type = "array" # ERROR: BSON type not supported by deterministic encryption
    algorithm = "deterministic"
  }
  field "script" {
    data_key  = data_key.ssn
    bson_type = "javascriptWithScope" # ERROR: BSON type not supported by deterministic encryption
    algorithm = "deterministic"
  }
  field "ssn" { # ERROR: Missing required argument
    data_key  = data_key.ssn
    algorithm = "deterministic"
  }
  # Random takes any type, or none.
  field "history" {
    data_key  = data_key.ssn
    bson_type = "array"
    algorithm = "random"
  }
  field "extra" {
    data_key  = data_key.ssn
    algorithm = "random"
  }
}
