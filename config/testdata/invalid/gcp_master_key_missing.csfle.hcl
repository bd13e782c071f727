key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "token" {
  sensitive = true
  default   = "ya29.token"
}

kms "gcp" {
  access_token = var.token
}

data_key "ssn" { # ERROR: Missing master_key fields
  kms = kms.gcp
}

data_key "dob" {
  kms = kms.gcp
  master_key = {
    projectId = "p"
    location  = "global"
    keyRing   = "r"
    keyName   = "" # ERROR: Missing master_key.keyName
  }
}
