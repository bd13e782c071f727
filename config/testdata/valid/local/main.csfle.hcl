# The simplest configuration: one local master key, one data key.
key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" {
  key = file("master-key.txt")
}

data_key "ssn" {
  kms = kms.local
}
