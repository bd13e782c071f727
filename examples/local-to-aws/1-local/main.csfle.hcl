# Stage 1: data keys wrapped by a local master key.

key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

kms "local" {
  key = file("master-key.txt")
}

data_key "patients_ssn" {
  kms = kms.local
  lifecycle {
    prevent_destroy = true
  }
}

data_key "patients_billing" {
  kms = kms.local
}
