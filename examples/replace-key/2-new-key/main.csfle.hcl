key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

kms "local" {
  key = file("master-key.txt")
}

# Kept: documents written before still hold values made with it.
data_key "ssn_v1" {
  kms = kms.local
}

data_key "ssn_v2" {
  kms = kms.local
}

collection "hr" "employees" {
  mode = "schema_map"
  field "ssn" {
    data_key  = data_key.ssn_v2
    bson_type = "string"
    algorithm = "deterministic"
  }
}
