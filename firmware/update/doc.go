// Package update installs new firmware uploaded to a running gateway and
// takes it back when it does not come up.
//
// An update is Tipring's own Debian package (the .deb `make deb` writes)
// with a detached Ed25519 signature over the whole file (Signature). Only
// the program is taken from it: usr/bin/tipring is checked for this
// machine's architecture and written to a slot under the state directory,
// <state>/update/slots/<version>/tipring; the rest of the package (unit,
// configuration) stays as apt installed it.
//
// The program that systemd starts, /usr/bin/tipring (the base), becomes a
// Supervisor as soon as <state>/update/state.json exists: it runs the slot
// on trial once, a committed slot, or itself, as a child process with
// EnvSupervised set. A trial must report healthy (the child writes
// HealthyFile once its board, lines and web listener are up) before a
// deadline and stay up for a confirmation period; then it is committed.
// If it exits, reports itself unhealthy (UnhealthyFile, with the reason)
// or never reports healthy, the supervisor stops it, records why, and runs
// the last committed slot, or the base. The configuration file is copied
// when a trial is staged and put back when it is rolled back, if the trial
// changed it (the trial's copy is kept beside it). When apt upgrades the
// base, the package wins: the slots are dropped.
//
// The state file is small JSON (State), replaced atomically (temporary
// file, fsync, rename, fsync of the directory) under an flock, so a power
// cut leaves the old or the new state; a trial interrupted by one counts
// as failed.
package update

import "errors"

// Errors a caller can tell apart with errors.Is.
var (
	// ErrNoTrustedKey: the gateway trusts no signing key, so it takes no
	// update at all.
	ErrNoTrustedKey = errors.New("no trusted update key: add the base64 Ed25519 public key made by `updatesign -genkey` to update.public_keys in the configuration (or build it in with -ldflags -X main.updateKey=…); until then no update is accepted")
	// ErrUnsigned: no signature file came with the package.
	ErrUnsigned = errors.New("the package is not signed: upload its .sig file too (updatesign -key KEY FILE.deb writes it)")
	// ErrSignatureFormat: the signature file is not one.
	ErrSignatureFormat = errors.New("not a Tipring update signature file")
	// ErrUntrustedKey: a good-looking signature by a key not trusted here.
	ErrUntrustedKey = errors.New("the signing key is not trusted by this gateway")
	// ErrBadSignature: the package or the signature was altered.
	ErrBadSignature = errors.New("the signature does not match the package: it was altered or signed for another file")
	// ErrPackage: the file is not a Tipring package this gateway can run.
	ErrPackage = errors.New("not a usable Tipring package")
	// ErrSameVersion: the version uploaded is the one running.
	ErrSameVersion = errors.New("this version is already installed and running")
	// ErrBusy: an update is already on trial.
	ErrBusy = errors.New("an update is on trial: wait until it is committed or rolled back")
)
