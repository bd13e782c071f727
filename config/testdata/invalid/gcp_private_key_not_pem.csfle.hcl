key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "key" {
  sensitive = true
  default   = "-- not a key, and not base64 --"
}

kms "gcp" {
  email       = "csfle@project.iam.gserviceaccount.com"
  private_key = var.key # ERROR: Invalid GCP private key
}
