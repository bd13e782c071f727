# Data keys wrapped by a KMIP server, which csfle authenticates to with a TLS
# client certificate.
key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "kmip" {
  endpoint         = "localhost:5696"
  client_cert_file = "client.pem"
  client_key_file  = "client-key.pem"
  ca_file          = "ca.pem"
}

# No keyId: the KMIP server creates the master key.
data_key "ssn" {
  kms = kms.kmip
}

data_key "dob" {
  kms = kms.kmip
  master_key = {
    keyId     = "42"
    delegated = true
  }
}

data_key "zip" {
  kms = kms.kmip
  master_key = {
    keyId     = "43"
    endpoint  = "kmip-2.example.com:5696"
    delegated = false
  }
}
