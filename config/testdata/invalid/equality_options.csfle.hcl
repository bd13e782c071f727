key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "a" {
  kms = kms.local
}

collection "hr" "employees" {
  mode = "queryable"
  field "badge" {
    data_key  = data_key.a
    bson_type = "string"
    query {
      type        = "equality"
      contention  = 2
      min         = 0 # ERROR: Option not allowed for equality queries
      max         = 10 # ERROR: Option not allowed for equality queries
      sparsity    = 1 # ERROR: Option not allowed for equality queries
      precision   = 1 # ERROR: Option not allowed for equality queries
      trim_factor = 1 # ERROR: Option not allowed for equality queries
    }
  }
}
