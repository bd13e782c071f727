key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "azure" { # ERROR: Missing Azure credentials
  tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
}
