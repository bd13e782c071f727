key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" "hsm" { # ERROR: Named KMS providers need libmongocrypt 1.9+
  endpoint = "localhost:5696"
}
