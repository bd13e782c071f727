key_vault {
  uri = "localhost:27017" # ERROR: Invalid key vault URI
}
