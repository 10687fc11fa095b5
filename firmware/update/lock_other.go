//go:build !unix

package update

// lockFile is a no-op where flock does not exist: the gateway runs on Linux.
func lockFile(string) (func(), error) { return func() {}, nil }
