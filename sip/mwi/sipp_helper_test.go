package mwi

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/proctest"
)

// sippBinary is where Debian's sip-tester package installs SIPp.
const sippBinary = "/usr/bin/sipp"

// sippConfig describes one SIPp run on loopback.
type sippConfig struct {
	scenario string        // the scenario file
	remote   string        // the address a UAC scenario sends to; empty for a UAS
	calls    int           // -m; default 1
	timeout  time.Duration // bounds the run; default 30 s (scaled)
}

// sippRun is a running SIPp.
type sippRun struct {
	addr   string // where SIPp listens, 127.0.0.1:port
	t      testing.TB
	cmd    *exec.Cmd
	out    *lockedBuffer
	waited chan struct{}
	err    error
}

// slow scales waits: under -short the tests may run under qemu-user.
func slow(d time.Duration) time.Duration {
	if testing.Short() {
		return 4 * d
	}
	return d
}

// startSIPp runs SIPp with cfg, skipping the test when it is not installed
// (failing it when CI is set), and stops it by its pid when the test ends.
func startSIPp(t testing.TB, cfg sippConfig) *sippRun {
	t.Helper()
	if _, err := os.Stat(sippBinary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("sipp is not installed (Debian package sip-tester): %v", err)
		}
		t.Skipf("sipp is not installed (Debian package sip-tester): %v", err)
	}
	if cfg.calls <= 0 {
		cfg.calls = 1
	}
	if cfg.timeout <= 0 {
		cfg.timeout = 30 * time.Second
	}
	cfg.timeout = slow(cfg.timeout)
	scen, err := filepath.Abs(cfg.scenario)
	if err != nil {
		t.Fatal(err)
	}
	port, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	mport, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"-sf", scen, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport),
		"-m", strconv.Itoa(cfg.calls), "-t", "u1", "-timeout", strconv.Itoa(int(cfg.timeout/time.Second)) + "s",
		"-timeout_error", "-nostdin", "-trace_err", "-trace_msg",
		"-message_file", filepath.Join(dir, "messages.log"), "-error_file", filepath.Join(dir, "errors.log")}
	if cfg.remote != "" {
		args = append(args, "-s", "1001", cfg.remote)
	}
	r := &sippRun{addr: "127.0.0.1:" + strconv.Itoa(port), t: t, out: &lockedBuffer{}, waited: make(chan struct{})}
	r.cmd = exec.Command(sippBinary, args...)
	r.cmd.Dir = dir
	r.cmd.Stdout = r.out
	r.cmd.Stderr = r.out
	proctest.Prepare(r.cmd)
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("sipp: start: %v", err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.waited)
	}()
	t.Cleanup(func() {
		proctest.Stop(t, "sipp", r.cmd, r.waited, 2*time.Second, 5*time.Second)
		if t.Failed() {
			msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
			errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
			t.Logf("sipp output:\n%s\nsipp messages:\n%s\nsipp errors:\n%s", r.out.String(), msgs, errs)
		}
	})
	if cfg.remote == "" {
		// A UAS must be listening before it is sent anything.
		deadline := time.Now().Add(slow(5 * time.Second))
		for {
			c, err := net.ListenPacket("udp", r.addr)
			if err != nil {
				break // bound by SIPp
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("sipp not listening on %s", r.addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return r
}

// wait waits up to d for the scenario to end and fails the test unless it
// passed.
func (r *sippRun) wait(d time.Duration) {
	r.t.Helper()
	select {
	case <-r.waited:
	case <-time.After(slow(d)):
		r.t.Fatalf("sipp: scenario still running after %v", slow(d))
	}
	if r.err != nil {
		r.t.Fatalf("sipp: scenario failed: %v", r.err)
	}
}

func freeUDPPort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port on 127.0.0.1")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
