key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI")
}

variable "cmk_id" { # ERROR: No value for variable
  type = string
}
