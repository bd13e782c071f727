key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "gcp" { # ERROR: Missing GCP credentials
  endpoint = "oauth2.googleapis.com"
}
