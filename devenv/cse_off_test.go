//go:build !cse

package devenv_test

// cseBuild reports whether the driver was built with libmongocrypt. Without
// it, mongo.NewClientEncryption panics and takes the whole test binary down.
const cseBuild = false
