// Package vault is the one place csfle talks to MongoDB and libmongocrypt.
// It reads the key vault into model.Live in one pass and carries out single
// changes (create, alt names, rewrap, delete, the keyAltNames index), each
// of which the executor reads back.
//
// Key material is only ever handled by libmongocrypt through the driver's
// ClientEncryption; this package never reads keyMaterial from the vault.
// Builds that use it need the cse build tag.
package vault
