key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "gcp" {
  email       = "csfle" # ERROR: Invalid service account email
  private_key = file("../valid/gcp/gcp-private-key.txt")
}

data_key "ssn" {
  kms = kms.gcp
  master_key = {
    projectId = "p"
    location  = "global"
    keyRing   = "r"
    keyName   = "k"
    endpoint  = "cloudkms.googleapis.com:https" # ERROR: Invalid KMS endpoint
  }
}
