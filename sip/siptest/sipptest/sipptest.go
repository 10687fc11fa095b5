// Package sipptest runs SIPp, the SIP traffic generator this project did
// not write, on loopback with a scenario file, as the far end of call
// tests.
//
// [Start] runs /usr/bin/sipp in the background for one call of a
// scenario (an XML file, usually under the test's testdata), as a UAS
// listening on a free port of 127.0.0.1 or as a UAC calling a given
// address; [Scenario.Wait] waits for it to finish and fails the test
// when the scenario failed. The process is stopped by its exact pid when
// the test ends.
//
// SIPp comes from Debian's sip-tester package. Without it, or under
// -short, tests using Start are skipped; when the environment variable CI
// is set a missing SIPp fails the test instead.
package sipptest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/proctest"
)

// Binary is where Debian installs SIPp.
const Binary = "/usr/bin/sipp"

// ErrNotInstalled means SIPp is missing.
var ErrNotInstalled = errors.New("sipptest: sipp is not installed (Debian package sip-tester)")

// Config describes one SIPp run.
type Config struct {
	// Scenario is the scenario file.
	Scenario string
	// Remote is the address a UAC scenario calls (host:port); empty for
	// a UAS scenario.
	Remote string
	// Service is the user part of the Request-URI a UAC calls ([service]
	// in the scenario).
	Service string
	// Transport is "u1" (UDP, the default) or "t1" (TCP).
	Transport string
	// Timeout bounds the run; default 30 s.
	Timeout time.Duration
	// Calls is how many times the scenario runs (-m); default 1.
	Calls int
	// Keys are set with -key name value ([name] in the scenario).
	Keys map[string]string
}

// Scenario is a running SIPp.
type Scenario struct {
	// Addr is where SIPp listens, 127.0.0.1:port.
	Addr string

	t      testing.TB
	cmd    *exec.Cmd
	out    *proctest.Output
	waited chan struct{}
	err    error
}

// Start runs SIPp with cfg and stops it when the test ends.
func Start(t testing.TB, cfg Config) *Scenario {
	t.Helper()
	if testing.Short() {
		t.Skip("sipptest: real-peer test skipped under -short")
	}
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(ErrNotInstalled)
		}
		t.Skip(ErrNotInstalled)
	}
	if cfg.Transport == "" {
		cfg.Transport = "u1"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	cfg.Calls = max(cfg.Calls, 1)
	scen, err := filepath.Abs(cfg.Scenario)
	if err != nil {
		t.Fatal(err)
	}
	port, err := proctest.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	mport, err := proctest.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"-sf", scen, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport),
		"-m", strconv.Itoa(cfg.Calls), "-t", cfg.Transport, "-timeout", strconv.Itoa(int(cfg.Timeout/time.Second)) + "s",
		"-timeout_error", "-nostdin", "-trace_err", "-trace_msg",
		"-message_file", filepath.Join(dir, "messages.log"), "-error_file", filepath.Join(dir, "errors.log")}
	if cfg.Service != "" {
		args = append(args, "-s", cfg.Service)
	}
	for k, v := range cfg.Keys {
		args = append(args, "-key", k, v)
	}
	if cfg.Remote != "" {
		args = append(args, cfg.Remote)
	}
	s := &Scenario{Addr: "127.0.0.1:" + strconv.Itoa(port), t: t, out: &proctest.Output{}, waited: make(chan struct{})}
	s.cmd = exec.Command(Binary, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	proctest.Prepare(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("sipptest: start: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.waited)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
			errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
			t.Logf("sipp messages:\n%s\nsipp errors:\n%s", msgs, errs)
		}
	})
	if cfg.Remote == "" {
		// A UAS must be listening before the test calls it. Asked of the
		// kernel, not by binding the port, which would hold it for a
		// moment and could make SIPp's own bind fail (seen in CI).
		deadline := time.Now().Add(5 * time.Second)
		for {
			bound, err := proctest.UDPBound(port)
			if err != nil {
				t.Fatalf("sipptest: %v", err)
			}
			if bound {
				break
			}
			select {
			case <-s.waited:
				t.Fatalf("sipptest: sipp exited before listening on %s:\n%s", s.Addr, s.out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("sipptest: sipp not listening on %s", s.Addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s
}

// Wait waits up to d for the scenario to end and fails the test if it
// did not pass.
func (s *Scenario) Wait(d time.Duration) {
	s.t.Helper()
	select {
	case <-s.waited:
	case <-time.After(d):
		s.t.Fatalf("sipptest: scenario still running after %v", d)
	}
	if s.err != nil {
		s.t.Fatalf("sipptest: scenario failed: %v\n%s", s.err, s.out.String())
	}
}

func (s *Scenario) stop() {
	proctest.Stop(s.t, "sipptest", s.cmd, s.waited, 2*time.Second, 5*time.Second)
}
