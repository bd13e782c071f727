key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "n" {
  type    = list # ERROR: Invalid variable type
  default = 1
}
