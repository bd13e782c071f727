key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint         = "localhost:5696"
  client_cert_file = "files/not-pem.txt" # ERROR: No certificate in client certificate file
  ca_file          = "files/not-pem.txt" # ERROR: No certificates in CA file
}
