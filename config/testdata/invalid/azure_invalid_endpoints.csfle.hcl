key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" {
  tenant_id                  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
  access_token               = env("CSFLE_DEV_MONGODB_URI")
  identity_platform_endpoint = "login.microsoftonline.com/oauth2" # ERROR: Invalid KMS endpoint
}

data_key "ssn" {
  kms = kms.azure
  master_key = {
    keyVaultEndpoint = "https://csfle.vault.azure.net/" # ERROR: Invalid KMS endpoint
    keyName          = "cmk"
  }
}
