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

collection "hr" "employees" {
  mode = "queryable"
  field "salary" {
    data_key  = data_key.a
    bson_type = "int"
    query { # ERROR: Missing range bounds
      type = "range"
    }
  }
  field "bonus" {
    data_key  = data_key.b
    bson_type = "long"
    query { # ERROR: Missing range bounds
      type = "range"
      min  = 0
    }
  }
  field "rating" {
    data_key  = data_key.c
    bson_type = "double"
    query { # ERROR: Missing precision
      type = "range"
      min  = 0
      max  = 5
    }
  }
  field "age" {
    data_key  = data_key.d
    bson_type = "int"
    query {
      type      = "range"
      min       = 0
      max       = 150
      precision = 2 # ERROR: Precision needs a double or decimal field
    }
  }
}
