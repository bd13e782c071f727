key_vault {
  uri       = env("CSFLE_DEV_MONGODB_URI")
  namespace = format("%s.%s", "encryption", "__keyVault")
}

data_key "ssn" {
  kms = kms.aws
  master_key = {
    key = "arn:aws:kms:eu-central-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }
  alt_names = concat(["ssn"], [join("-", ["ssn", lower(var.env)])])
}

data_key "notes" {
  kms        = kms.local
  master_key = {}
  alt_names  = [upper("notes"), "notes"]
}

data_key "legacy" {
  kms = kms.local
  lifecycle {
    prevent_destroy = true
  }
}
