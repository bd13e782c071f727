//go:build cse

package devenv_test

// cseBuild reports whether the driver was built with libmongocrypt.
const cseBuild = true
