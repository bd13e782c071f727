# Quickstart: two data keys wrapped by a locally managed master key.
#
# master-key.txt holds the 96-byte local master key in base64. Keep it out of
# version control. Make one with:
#   head -c 96 /dev/urandom | base64 -w0 > master-key.txt

key_vault {
  uri       = env("CSFLE_DEV_MONGODB_URI", "mongodb://127.0.0.1:27017/")
  namespace = "encryption.__keyVault"
}

kms "local" {
  key = file("master-key.txt")
}

data_key "ssn" {
  kms = kms.local
  lifecycle {
    prevent_destroy = true
  }
}

data_key "billing" {
  kms       = kms.local
  alt_names = ["billing", "billing-2026"]
}
