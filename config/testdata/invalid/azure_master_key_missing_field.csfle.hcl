key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" {
  tenant_id    = "72f988bf-86f1-41af-91ab-2d7cd011db47"
  access_token = env("CSFLE_DEV_MONGODB_URI")
}

data_key "ssn" {
  kms = kms.azure
  master_key = { # ERROR: Missing master_key.keyVaultEndpoint
    keyName = "cmk"
  }
}

data_key "dob" {
  kms = kms.azure
  master_key = {
    keyVaultEndpoint = "csfle.vault.azure.net"
    key_name         = "cmk" # ERROR: Unsupported master_key field
  }
}
