// Command tipring is the Tipring gateway: it opens the board, runs call
// control on every FXS port and serves the local web page and API.
//
//	tipring -config FILE [-board NAME] [-listen ADDR] [-state DIR]
//	tipring passwd < password     print the hash for web.admin_password_hash
//
// With a firmware update installed (DIR/update/state.json exists), the
// program becomes the update supervisor: it runs the update on trial, the
// committed one or itself as a child process, and rolls a trial back when
// it does not come up healthy (package firmware/update). A gateway that
// has staged an update exits with status 75 (EX_TEMPFAIL) for its
// supervisor, or systemd's Restart=on-failure, to start the trial; run by
// hand, it executes itself again in place.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/passwd"
	"github.com/tipring/tipring/firmware/syslog"
	"github.com/tipring/tipring/firmware/update"
)

// version is set by the build (-ldflags -X main.version=…).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	p := process{self: self, env: os.Environ(), supervise: true}
	code := runIn(ctx, p, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil)
	stopped := ctx.Err() != nil
	stop()
	// A gateway that staged an update and is neither supervised nor a
	// systemd service (which restarts it: Restart=on-failure) starts
	// again in place, as the supervisor of its update's trial.
	if code == update.ExitRestart && !stopped && os.Getenv(update.EnvSupervised) == "" && os.Getenv("INVOCATION_ID") == "" {
		err := syscall.Exec(self, os.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "tipring: starting again for the update: %v\n", err)
	}
	os.Exit(code)
}

// process is what the program knows of the process it runs in.
type process struct {
	self string   // the program's file: the base an update supervisor runs
	env  []string // the environment
	// supervise lets the program become an update supervisor, which runs
	// self as a child: only main's own process may, never a test's.
	supervise bool
}

func (p process) getenv(name string) string {
	for _, e := range p.env {
		if v, ok := strings.CutPrefix(e, name+"="); ok {
			return v
		}
	}
	return ""
}

// run is the whole program; ready, when not nil, receives the gateway once
// it serves (the tests use it to find the listener's address). It never
// supervises an update.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, ready chan<- *gateway) int {
	return runIn(ctx, process{}, args, stdin, stdout, stderr, ready)
}

// runIn is run in the process p.
func runIn(ctx context.Context, p process, args []string, stdin io.Reader, stdout, stderr io.Writer, ready chan<- *gateway) int {
	if len(args) > 0 && args[0] == "passwd" {
		if err := hashPassword(stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "tipring passwd: %v\n", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("tipring", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "/etc/tipring/tipring.toml", "configuration file (TOML)")
	boardName := fs.String("board", "", "board to open, overriding board.name")
	listen := fs.String("listen", "", "web listener address, overriding web.listen")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	stateDir := fs.String("state", "/var/lib/tipring", "state directory: firmware updates are kept in its update/ (the systemd unit's StateDirectory)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tipring -config FILE [-board NAME] [-listen ADDR] [-state DIR]\n       tipring passwd < password\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tipring: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version)
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "tipring: -log-level: %v\n", err)
		return 2
	}
	// The log goes to stderr and into a ring the maintenance page offers
	// for download.
	ring := newLogRing(256 << 10)
	// A copy goes to the remote syslog server when [syslog] names one;
	// the gateway sets and changes it from the configuration.
	tee := syslog.NewTee(slog.NewTextHandler(io.MultiWriter(stderr, ring), &slog.HandlerOptions{Level: level}))
	defer func() {
		if s := tee.SetSender(nil); s != nil {
			s.Close()
		}
	}()
	log := slog.New(tee)

	// With an update installed, the program the service starts runs the
	// update (or itself) as a supervised child.
	upd := updateEnv{dir: update.Dir(filepath.Join(*stateDir, "update")), self: p.self,
		supervised: p.getenv(update.EnvSupervised) != ""}
	if p.supervise && !upd.supervised && upd.dir.Exists() {
		return supervise(ctx, p, upd.dir, args, stdin, stdout, stderr, log)
	}

	// A restart asked for on the web page stops everything and starts
	// again from the saved configuration, in the same process.
	for {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintf(stderr, "tipring: %v\n", err)
			return 1
		}
		if *boardName != "" {
			cfg.Board.Name = *boardName
		}
		if *listen != "" {
			cfg.Web.Listen = *listen
		}
		g, err := start(ctx, cfg, *cfgPath, log, ring, tee, upd)
		if err != nil {
			log.Error("start failed", "err", err)
			return 1
		}
		// Board open, lines running, web listener serving: what a trial
		// must reach to be kept.
		g.reportHealth()
		if ready != nil {
			select {
			case ready <- g:
			default: // a restart: the test has its gateway already
			}
		}
		restart, err := g.wait(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("gateway stopped", "err", err)
			return 1
		}
		if !restart {
			return 0
		}
		if g.upd.staged.Load() {
			log.Info("restarting into the update", "exit", update.ExitRestart)
			return update.ExitRestart
		}
		log.Info("restarting")
	}
}

// supervise runs the update supervisor until ctx ends.
func supervise(ctx context.Context, p process, dir update.Dir, args []string, stdin io.Reader, stdout, stderr io.Writer, log *slog.Logger) int {
	s := &update.Supervisor{Dir: dir, Self: p.self, Version: version, Args: args, Env: p.env,
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Log: log.With("role", "supervisor")}
	if v := p.getenv(update.EnvTestTiming); v != "" {
		var err error
		if s.Confirm, s.Timeout, err = update.ParseTiming(v); err != nil {
			log.Error("update", "err", err)
			return 2
		}
	}
	log.Info("update: supervising", "state", dir.StateFile(), "version", version)
	return s.Run(ctx)
}

// hashPassword reads one line from r and writes its hash to w.
func hashPassword(r io.Reader, w io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("no password on standard input")
	}
	h, err := passwd.Hash(pw)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, h)
	return err
}
