# Data keys wrapped by keys in Google Cloud KMS, with a service account's
# private key (base64 of its PKCS#8 DER encoding) read from a file.
variable "project" {
  default = "csfle-test"
}

key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "gcp" {
  email       = "csfle@${var.project}.iam.gserviceaccount.com"
  private_key = file("gcp-private-key.txt")
  endpoint    = "oauth2.googleapis.com"
}

data_key "ssn" {
  kms = kms.gcp
  master_key = {
    projectId = var.project
    location  = "global"
    keyRing   = "csfle"
    keyName   = "cmk"
  }
}

data_key "dob" {
  kms = kms.gcp
  master_key = {
    projectId  = var.project
    location   = "europe-west1"
    keyRing    = "csfle"
    keyName    = "cmk"
    keyVersion = "3"
    endpoint   = "localhost:9443"
  }
  alt_names = ["dob", "birth-date"]
}
