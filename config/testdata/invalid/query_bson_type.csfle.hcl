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
  field "name" {
    data_key  = data_key.a
    bson_type = "string" # ERROR: BSON type not supported by range queries
    query {
      type = "range"
      min  = "a"
      max  = "z"
    }
  }
  field "rating" {
    data_key  = data_key.b
    bson_type = "double" # ERROR: BSON type not supported by equality queries
    query {
      type = "equality"
    }
  }
  field "profile" {
    data_key  = data_key.c
    bson_type = "object" # ERROR: BSON type not supported by equality queries
    query {
      type = "equality"
    }
  }
  field "age" {
    data_key = data_key.d
    query { # ERROR: Missing required argument
      type = "equality"
    }
  }
}
