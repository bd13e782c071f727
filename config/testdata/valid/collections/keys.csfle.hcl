# Data keys for the medical and hr collections.
key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" {
  key = file("master-key.txt")
}

data_key "ssn" {
  kms = kms.local
}

data_key "billing" {
  kms = kms.local
}

data_key "clinical" {
  kms = kms.local
}

data_key "salary" {
  kms = kms.local
}

data_key "badge" {
  kms = kms.local
}

data_key "hired" {
  kms = kms.local
}

data_key "rating" {
  kms = kms.local
}

data_key "review" {
  kms = kms.local
}
