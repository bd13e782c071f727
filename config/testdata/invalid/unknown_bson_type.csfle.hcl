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
  field "id" {
    data_key  = data_key.ssn
    bson_type = "uuid" # ERROR: Unknown BSON type
    algorithm = "deterministic"
  }
  field "ref" {
    data_key  = data_key.ssn
    bson_type = "ObjectId" # ERROR: Unknown BSON type
    algorithm = "deterministic"
  }
  field "count" {
    data_key  = data_key.ssn
    bson_type = "number" # ERROR: Unknown BSON type
    algorithm = "random"
  }
  field "nothing" {
    data_key  = data_key.ssn
    bson_type = "null" # ERROR: BSON type cannot be encrypted
    algorithm = "random"
  }
  field "lowest" {
    data_key  = data_key.ssn
    bson_type = "minKey" # ERROR: BSON type cannot be encrypted
    algorithm = "random"
  }
}
