// Command tipring is the Tipring gateway: it opens the board, runs call
// control on every FXS port and serves the local web page and API.
//
//	tipring -config FILE [-board NAME] [-listen ADDR]
//	tipring passwd < password     print the hash for web.admin_password_hash
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
	"strings"
	"syscall"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/passwd"
	"github.com/tipring/tipring/firmware/syslog"
)

// version is set by the build (-ldflags -X main.version=…).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// run is the whole program; ready, when not nil, receives the gateway once
// it serves (the tests use it to find the listener's address).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, ready chan<- *gateway) int {
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
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tipring -config FILE [-board NAME] [-listen ADDR]\n       tipring passwd < password\n")
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
		g, err := start(ctx, cfg, *cfgPath, log, ring, tee)
		if err != nil {
			log.Error("start failed", "err", err)
			return 1
		}
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
		log.Info("restarting")
	}
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
