// Package schema makes and reads the documents that tell MongoDB which
// fields are encrypted: the CSFLE $jsonSchema (with encrypt and
// encryptMetadata keywords), the client schemaMap, and Queryable
// Encryption's encryptedFields and encryptedFieldsMap.
//
// Documents are canonical extended JSON v2 strings, MongoDB's own text form
// of BSON: key ids are {"$binary":{"base64":…,"subType":"04"}}, numbers
// carry their type ({"$numberInt":"8"}, {"$numberLong":"8"}…). The package
// that talks to MongoDB turns them into BSON with bson.UnmarshalExtJSON and
// hands back what the server holds in the same form, so the planner can
// compare documents without a driver.
//
// The package is pure: it must never import the MongoDB driver
// (go.mongodb.org/...) nor anything that does I/O, because the planner
// imports it. A test holds it to that.
package schema
