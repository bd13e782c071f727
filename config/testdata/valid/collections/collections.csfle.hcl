# A server-side validator, with nested paths and both algorithms.
collection "medical" "patients" {
  field "ssn" {
    data_key  = data_key.ssn
    bson_type = "string"
    algorithm = "deterministic"
  }
  field "billing.card.number" {
    data_key  = data_key.billing
    bson_type = "string"
    algorithm = "random"
  }
  field "billing.card.expiry" {
    data_key  = data_key.billing
    algorithm = "random"
  }
  field "diagnosis" {
    data_key  = data_key.clinical
    bson_type = "object"
    algorithm = "random"
  }
  field "birth_date" {
    data_key  = data_key.ssn
    bson_type = "date"
    algorithm = "deterministic"
  }
}

# A schemaMap for applications only.
collection "medical" "visits" {
  mode = "schema_map"
  field "notes" {
    data_key  = data_key.clinical
    bson_type = "string"
    algorithm = "random"
  }
  field "patient_ref" {
    data_key  = data_key.clinical
    bson_type = "objectId"
    algorithm = "deterministic"
  }
}

# Queryable Encryption: equality, range on several types, and a field
# without queries.
collection "hr" "employees" {
  mode = "queryable"
  field "salary" {
    data_key  = data_key.salary
    bson_type = "int"
    query {
      type        = "range"
      contention  = 4
      min         = 0
      max         = 1000000
      sparsity    = 1
      trim_factor = 6
    }
  }
  field "badge" {
    data_key  = data_key.badge
    bson_type = "string"
    query {
      type       = "equality"
      contention = 0
    }
  }
  field "hired" {
    data_key  = data_key.hired
    bson_type = "date"
    query {
      type = "range"
      min  = "2000-01-01T00:00:00Z"
      max  = "2100-01-01T00:00:00Z"
    }
  }
  field "review.rating" {
    data_key  = data_key.rating
    bson_type = "double"
    query {
      type      = "range"
      min       = 0
      max       = 5.5
      precision = 1
    }
  }
  field "review.text" {
    data_key = data_key.review
  }
}
