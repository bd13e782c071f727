# Medical records: three collections, nested paths, both CSFLE algorithms,
# and a Queryable Encryption collection.
#
# mode "validator" needs a real MongoDB (the development environment's
# FerretDB has no validators): there, plan and apply with -var mode=schema_map,
# which writes nothing to the server and keeps the schemaMap for
# applications (csfle schema export).

variable "mode" {
  description = "How the CSFLE collections are enforced: validator or schema_map"
  default     = "validator"
}

key_vault {
  uri = env("CSFLE_DEV_MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

kms "local" {
  key = file("master-key.txt")
}

data_key "patients_ssn" {
  kms = kms.local
  lifecycle {
    prevent_destroy = true
  }
}

data_key "patients_billing" {
  kms = kms.local
}

data_key "visits_notes" {
  kms = kms.local
}

data_key "labs_result" {
  kms = kms.local
}

data_key "labs_taken_at" {
  kms = kms.local
}

collection "medical" "patients" {
  mode = var.mode

  # Deterministic: the application can query by equality on it.
  field "ssn" {
    data_key  = data_key.patients_ssn
    bson_type = "string"
    algorithm = "deterministic"
  }

  # Random: stronger, not queryable. Nested paths become nested properties.
  field "billing.card.number" {
    data_key  = data_key.patients_billing
    bson_type = "string"
    algorithm = "random"
  }

  field "billing.card.expiry" {
    data_key  = data_key.patients_billing
    bson_type = "string"
    algorithm = "random"
  }
}

collection "medical" "visits" {
  mode = var.mode

  field "notes" {
    data_key  = data_key.visits_notes
    algorithm = "random" # any BSON type
  }
}

# Queryable Encryption: fixed when the collection is created (MongoDB 7+).
collection "medical" "labs" {
  mode = "queryable"

  field "result" {
    data_key  = data_key.labs_result
    bson_type = "string"
    query {
      type = "equality"
    }
  }

  field "taken_at" {
    data_key  = data_key.labs_taken_at
    bson_type = "date"
    query {
      type = "range"
      min  = "2000-01-01T00:00:00Z"
      max  = "2100-01-01T00:00:00Z"
    }
  }
}
