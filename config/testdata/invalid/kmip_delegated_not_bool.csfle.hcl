key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint = "localhost:5696"
}

data_key "ssn" {
  kms = kms.kmip
  master_key = {
    keyId     = "1"
    delegated = "yes" # ERROR: Invalid master_key.delegated
  }
}

data_key "dob" {
  kms = kms.kmip
  master_key = {
    keyName = "1" # ERROR: Unsupported master_key field
  }
}
