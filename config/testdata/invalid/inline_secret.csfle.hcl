key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" {
  tenant_id     = "72f988bf-86f1-41af-91ab-2d7cd011db47"
  client_id     = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
  client_secret = "written-inline" # WARNING: Secret written in the configuration
}

data_key "ssn" {
  kms = kms.azure
  master_key = {
    keyVaultEndpoint = "csfle.vault.azure.net"
    keyName          = "cmk"
  }
}
