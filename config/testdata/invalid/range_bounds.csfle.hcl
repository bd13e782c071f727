key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "a" {
  kms = kms.local
}

data_key "b" {
  kms = kms.local
}

data_key "c" {
  kms = kms.local
}

data_key "d" {
  kms = kms.local
}

data_key "e" {
  kms = kms.local
}

data_key "f" {
  kms = kms.local
}

collection "hr" "employees" {
  mode = "queryable"
  field "salary" {
    data_key  = data_key.a
    bson_type = "int"
    query {
      type = "range"
      min  = 1000
      max  = 1000 # ERROR: Invalid range bounds
    }
  }
  field "bonus" {
    data_key  = data_key.b
    bson_type = "int"
    query {
      type = "range"
      min  = 0.5 # ERROR: Invalid range bound
      max  = 3000000000 # ERROR: Invalid range bound
    }
  }
  field "hired" {
    data_key  = data_key.c
    bson_type = "date"
    query {
      type = "range"
      min  = "yesterday" # ERROR: Invalid range bound
      max  = "2100-01-01T00:00:00Z"
    }
  }
  field "rating" {
    data_key  = data_key.d
    bson_type = "double"
    query {
      type      = "range"
      min       = 0.125 # ERROR: Invalid range bound
      max       = "5"
      precision = 2
    }
  }
  field "balance" {
    data_key  = data_key.e
    bson_type = "decimal"
    query {
      type      = "range"
      min       = "-1e3"
      max       = "ten" # ERROR: Invalid range bound
      precision = 2
    }
  }
  field "level" {
    data_key  = data_key.f
    bson_type = "long"
    query {
      type = "range"
      min  = true # ERROR: Incorrect attribute value type
      max  = 10
    }
  }
}
