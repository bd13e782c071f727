key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint         = "localhost:5696"
  client_cert_file = "files/client-cert-only.pem" # ERROR: No private key for the client certificate
}
