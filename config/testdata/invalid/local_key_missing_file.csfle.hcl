key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

kms "local" {
  key = file("no-such-master-key.txt") # ERROR: Invalid function argument
}
