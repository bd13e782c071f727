# Data keys wrapped by keys in Azure Key Vault, with the client secret of an
# app registration read from a file.
key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" {
  tenant_id                  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
  client_id                  = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
  client_secret              = trimspace(file("azure-client-secret.txt"))
  identity_platform_endpoint = "login.microsoftonline.com"
  ca_file                    = "ca.pem"
}

data_key "ssn" {
  kms = kms.azure
  master_key = {
    keyVaultEndpoint = "csfle-test.vault.azure.net"
    keyName          = "csfle-cmk"
  }
}

data_key "dob" {
  kms = kms.azure
  master_key = {
    keyVaultEndpoint = "localhost:8443"
    keyName          = "csfle-cmk"
    keyVersion       = "0f3a9c1e2b4d4e5f8a6b7c8d9e0f1a2b"
  }
}
