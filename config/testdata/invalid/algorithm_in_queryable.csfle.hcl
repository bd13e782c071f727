key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "salary" {
  kms = kms.local
}

collection "hr" "employees" {
  mode = "queryable"
  field "salary" {
    data_key  = data_key.salary
    bson_type = "int"
    algorithm = "deterministic" # ERROR: Algorithm not used in queryable mode
  }
}
