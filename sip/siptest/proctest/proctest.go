// Package proctest runs the real SIP peers the tests start (baresip, SIPp):
// each in its own process group, killed with the test binary if that dies,
// and stopped exactly — the process the test started, nothing else.
package proctest

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Prepare sets cmd to run in its own process group and to be killed when
// the test binary exits, so that a crashed test leaves no peer behind.
func Prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Stop ends the process cmd started, whose Wait closes waited: SIGTERM,
// then SIGKILL after grace, then an error on t if it has still not exited
// after limit. It returns at once when the process has already exited.
func Stop(t testing.TB, name string, cmd *exec.Cmd, waited <-chan struct{}, grace, limit time.Duration) {
	select {
	case <-waited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-waited:
		return
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	select {
	case <-waited:
	case <-time.After(limit):
		t.Errorf("%s: pid %d did not exit", name, cmd.Process.Pid)
	}
}
