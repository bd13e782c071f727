key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "1st" { # ERROR: Invalid name
  default = "x"
}
