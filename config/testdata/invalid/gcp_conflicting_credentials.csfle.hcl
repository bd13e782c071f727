key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "token" {
  sensitive = true
  default   = "ya29.token"
}

kms "gcp" {
  email        = "csfle@project.iam.gserviceaccount.com"
  access_token = var.token # ERROR: Conflicting GCP credentials
}
