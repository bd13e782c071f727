key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint        = "localhost:5696"
  client_key_file = "files/client-with-key.pem" # ERROR: Missing client_cert_file
}
