key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "shared" {
  kms = kms.local
}

collection "hr" "employees" {
  mode = "queryable"
  field "salary" {
    data_key  = data_key.shared
    bson_type = "int"
  }
  field "bonus" {
    data_key  = data_key.shared # ERROR: Data key shared by two fields
    bson_type = "int"
  }
}

# CSFLE lets fields share a key, and so do two queryable collections.
collection "hr" "contractors" {
  mode = "queryable"
  field "rate" {
    data_key  = data_key.shared
    bson_type = "int"
  }
}
collection "hr" "managers" {
  field "salary" {
    data_key  = data_key.shared
    algorithm = "random"
  }
  field "bonus" {
    data_key  = data_key.shared
    algorithm = "random"
  }
}
