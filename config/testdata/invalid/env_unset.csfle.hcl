key_vault {
  uri = env("CSFLE_NO_SUCH_VARIABLE") # ERROR: Invalid function argument
}
