key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}
kms "local" {
  key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
}

data_key "ssn" {
  kms = kms.local
}

collection "med.ical" "patients" { # ERROR: Invalid database name
}

collection "" "patients" { # ERROR: Invalid database name
}

collection "medical" "system.users" { # ERROR: Invalid collection name
}

collection "medical" "pa$tients" { # ERROR: Invalid collection name
}

collection "encryption" "__keyVault" { # ERROR: Collection is the key vault
}
