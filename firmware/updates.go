package main

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/update"
	"github.com/tipring/tipring/firmware/web"
)

// updateKey is an update signing key built into the program
// (-ldflags -X main.updateKey=BASE64), trusted besides update.public_keys.
var updateKey = ""

// updateEnv is what the gateway knows of firmware updates from its
// command line and process.
type updateEnv struct {
	dir        update.Dir // <state>/update
	self       string     // this program, recorded as the base when unsupervised
	supervised bool       // run by an update supervisor: reports its health
}

// reportHealth tells the supervisor, if any, whether the gateway that has
// just started works: its board open (a board that fails to open leaves
// the page up, which is not enough for an update to be kept).
func (g *gateway) reportHealth() {
	e := g.upd.env
	if !e.supervised {
		return
	}
	var err error
	if g.boardErr != nil {
		err = e.dir.ReportUnhealthy(os.Getpid(), "the board did not open: "+g.boardErr.Error())
	} else {
		err = e.dir.ReportHealthy(os.Getpid(), version)
	}
	if err != nil {
		g.log.Error("update: cannot report to the supervisor", "err", err)
	}
}

// reportFailure tells the supervisor, if any, that a part of the gateway
// stopped working (a line, the web listener): a trial is rolled back.
func (g *gateway) reportFailure(err error) {
	if e := g.upd.env; e.supervised {
		if werr := e.dir.ReportUnhealthy(os.Getpid(), err.Error()); werr != nil {
			g.log.Error("update: cannot report to the supervisor", "err", werr)
		}
	}
}

// updater stages uploaded updates for the web page (web.Updater).
type updater struct {
	env     updateEnv
	store   *config.Store
	log     *slog.Logger
	restart func() // asks the gateway to stop with update.ExitRestart
	cfgPath string // the configuration file, copied for a rollback
	staged  atomic.Bool
}

// keys returns the trusted keys and, for the page, their fingerprints.
func (u *updater) keys() ([]ed25519.PublicKey, []string) {
	var keys []ed25519.PublicKey
	var names []string
	add := func(s, from string) {
		k, err := update.ParseKey(s)
		if err != nil {
			u.log.Error("update: "+from+" key ignored", "err", err)
			return
		}
		for _, o := range keys {
			if o.Equal(k) {
				return
			}
		}
		keys = append(keys, k)
		names = append(names, update.Fingerprint(k)+" ("+from+")")
	}
	if updateKey != "" {
		add(updateKey, "built in")
	}
	for _, s := range u.store.Get().Update.PublicKeys {
		add(s, "update.public_keys")
	}
	return keys, names
}

// Status is what the Maintenance page and GET /api/update show.
func (u *updater) Status() web.UpdateStatus {
	_, names := u.keys()
	st := web.UpdateStatus{Keys: names}
	var err error
	if st.State, err = u.env.dir.Load(); err != nil {
		st.StateError = err.Error()
	}
	return st
}

// Install verifies and stages pkg, then has the gateway stop with
// update.ExitRestart: its supervisor, systemd or main starts the trial.
func (u *updater) Install(pkg, sig []byte) (string, error) {
	keys, _ := u.keys()
	c := u.store.Get().Update
	t, err := u.env.dir.Stage(update.StageOptions{
		Package: pkg, Signature: sig, Trusted: keys, GOARCH: runtime.GOARCH,
		Base:    update.Base{Version: version, Path: u.env.self},
		Confirm: time.Duration(c.ConfirmS) * time.Second, Timeout: time.Duration(c.HealthTimeoutS) * time.Second,
		Config: u.cfgPath,
	})
	if err != nil {
		return "", fmt.Errorf("update not installed: %w", err)
	}
	u.log.Warn("update: staged; restarting into its trial", "version", t.Version, "key", t.Key, "slot", t.Path)
	u.staged.Store(true)
	u.restart()
	return t.Version, nil
}
