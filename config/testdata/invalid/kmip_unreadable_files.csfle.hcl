key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint         = "localhost:5696"
  client_cert_file = "files/no-such-client.pem" # ERROR: Cannot read client certificate file
  client_key_file  = "files"                    # ERROR: Cannot read client key file
  ca_file          = "files/no-such-ca.pem"     # ERROR: Cannot read CA file
}
