package update

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tipring/tipring/firmware/internal/atomicfile"
)

// EnvSupervised is set (to "1") in the environment of every program a
// Supervisor runs: such a program never supervises, and after staging an
// update it exits with ExitRestart for its supervisor to start the trial.
const EnvSupervised = "TIPRING_SUPERVISED"

// EnvTestTiming, for tests only, overrides every trial's timing:
// "CONFIRM,TIMEOUT" as Go durations, e.g. "2s,30s".
const EnvTestTiming = "TIPRING_UPDATE_TEST_TIMING"

// ExitRestart is the exit status of a gateway that has staged an update
// and wants to be started again (EX_TEMPFAIL): its supervisor starts the
// trial, and systemd's Restart=on-failure restarts an unsupervised one.
const ExitRestart = 75

// ParseTiming reads EnvTestTiming's value.
func ParseTiming(s string) (confirm, timeout time.Duration, err error) {
	c, t, ok := strings.Cut(s, ",")
	if ok {
		confirm, err = time.ParseDuration(c)
		if err == nil {
			timeout, err = time.ParseDuration(t)
		}
	}
	if !ok || err != nil || confirm <= 0 || timeout <= 0 {
		return 0, 0, fmt.Errorf("%s=%q: want CONFIRM,TIMEOUT durations, e.g. 2s,30s", EnvTestTiming, s)
	}
	return confirm, timeout, nil
}

// Supervisor is the base program's role when a state file exists: it runs
// the slot on trial, the committed slot, or the base itself as a child,
// and rolls a trial back when it does not come up healthy.
type Supervisor struct {
	Dir     Dir
	Self    string   // the base program (os.Executable)
	Version string   // the base program's version
	Args    []string // the children's arguments (the supervisor's own)
	Env     []string // the children's environment (os.Environ); EnvSupervised is added
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Log     *slog.Logger
	// Confirm and Timeout, when set, replace every trial's own timing.
	Confirm, Timeout time.Duration
	// Grace is how long a child has to stop after SIGTERM before it is
	// killed; default 10 s.
	Grace time.Duration
	// Poll is how often the health marker is looked for; default 100 ms.
	Poll time.Duration
	Now  func() time.Time
}

// Run supervises until ctx ends (SIGTERM or SIGINT: the child gets
// SIGTERM and its status is returned) or a child that is not on trial
// exits by itself (its status is returned, for systemd to restart the
// service). A child exiting with ExitRestart is started again from the
// state, which is how a staged update gets its trial.
func (s *Supervisor) Run(ctx context.Context) int {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Grace <= 0 {
		s.Grace = 10 * time.Second
	}
	if s.Poll <= 0 {
		s.Poll = 100 * time.Millisecond
	}
	var last time.Time
	for {
		// A child that asks to be restarted at once, again and again,
		// does not make the supervisor spin.
		if wait := 500*time.Millisecond - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return 0
			case <-time.After(wait):
			}
		}
		last = time.Now()
		path, version, trial := s.next()
		code, again := s.runOne(ctx, path, version, trial)
		if ctx.Err() != nil || !again {
			return code
		}
	}
}

// next decides what runs: the trial (once), the committed slot, or the
// base. It records the decision, and drops the slots when apt upgraded
// the base.
func (s *Supervisor) next() (path, version string, trial *Trial) {
	path, version = s.Self, s.Version
	err := s.Dir.Update(func(st *State) error {
		now := s.Now()
		if st.Base.Version != "" && st.Base.Version != s.Version {
			detail := fmt.Sprintf("the installed package changed from %s to %s: it wins over the uploaded updates", st.Base.Version, s.Version)
			s.Log.Warn("update: "+detail+"; slots dropped", "base", s.Self)
			st.Current, st.Previous, st.Trial = nil, nil, nil
			st.event(now, "dropped", s.Version, detail)
			s.Dir.prune(st)
		}
		st.Base = Base{Version: s.Version, Path: s.Self}
		if t := st.Trial; t != nil {
			if t.Attempts > 0 {
				s.fail(st, t.Version, fmt.Sprintf("its trial was interrupted (the gateway was stopped, or the power failed, %s after it started) before it was confirmed",
					now.Sub(t.Started).Round(time.Second)))
			} else if err := checkSum(t.Path, t.SHA256); err != nil {
				s.fail(st, t.Version, "its program is unusable: "+err.Error())
			} else {
				t.Attempts++
				t.Started = now.UTC()
				c := *t
				trial = &c
				path, version = t.Path, t.Version
				return nil
			}
		}
		if c := st.Current; c != nil {
			if err := checkSum(c.Path, c.SHA256); err != nil {
				detail := "its program is unusable: " + err.Error()
				s.Log.Error("update: committed version "+detail+"; running the base", "version", c.Version)
				st.LastFailure = &Failure{Version: c.Version, Reason: detail, Time: now.UTC()}
				st.event(now, "rolled back", c.Version, detail)
				st.Current = nil
				s.Dir.prune(st)
				return nil
			}
			path, version = c.Path, c.Version
		}
		return nil
	})
	if err != nil {
		s.Log.Error("update: state unreadable: running the base", "err", err)
		return s.Self, s.Version, nil
	}
	return path, version, trial
}

// fail records that the trial of version failed and why, and drops it.
func (s *Supervisor) fail(st *State, version, reason string) {
	now := s.Now()
	back := st.Base.Version + " (the installed package)"
	if st.Current != nil {
		back = st.Current.Version
	}
	s.Log.Error("update: version "+version+" failed its trial: rolling back", "reason", reason, "to", back)
	st.LastFailure = &Failure{Version: version, Reason: reason, Time: now.UTC()}
	detail := reason + "; back to " + back
	if t := st.Trial; t != nil && t.ConfigBefore != "" {
		switch kept, err := restoreConfig(t); {
		case err != nil:
			s.Log.Error("update: the configuration from before the update could not be restored", "err", err)
			detail += "; configuration NOT restored: " + err.Error()
		case kept != "":
			s.Log.Warn("update: configuration restored from before the update", "file", t.Config, "trial's copy", kept)
			detail += "; configuration restored (the trial's is kept as " + kept + ")"
		}
	}
	st.event(now, "rolled back", version, detail)
	st.Trial = nil
	s.Dir.prune(st)
}

// restoreConfig puts back the configuration copied when t was staged, if
// the trial changed it, keeping the trial's next to it (returned); it
// changes nothing when the file is as it was.
func restoreConfig(t *Trial) (kept string, err error) {
	before, err := os.ReadFile(t.ConfigBefore)
	if err != nil {
		return "", err
	}
	now, err := os.ReadFile(t.Config)
	if err == nil && bytes.Equal(now, before) {
		return "", nil
	}
	if err == nil {
		kept = t.Config + ".rolled-back-" + t.Version
		if err := atomicfile.Write(kept, now, 0o600); err != nil {
			return "", err
		}
	}
	if err := atomicfile.Write(t.Config, before, 0o600); err != nil {
		return "", err
	}
	return kept, nil
}

func (s *Supervisor) failTrial(t *Trial, reason string) {
	err := s.Dir.Update(func(st *State) error {
		if st.Trial == nil || st.Trial.Version != t.Version {
			return nil
		}
		s.fail(st, t.Version, reason)
		return nil
	})
	if err != nil {
		s.Log.Error("update: recording a failed trial", "err", err)
	}
}

func (s *Supervisor) commit(t *Trial) {
	err := s.Dir.Update(func(st *State) error {
		if st.Trial == nil || st.Trial.Version != t.Version {
			return nil
		}
		now := s.Now()
		slot := st.Trial.Slot
		slot.Committed = now.UTC()
		st.Previous, st.Current, st.Trial = st.Current, &slot, nil
		st.Base = Base{Version: s.Version, Path: s.Self}
		st.event(now, "committed", slot.Version, fmt.Sprintf("healthy for %d s", t.ConfirmS))
		s.Dir.prune(st)
		return nil
	})
	if err != nil {
		s.Log.Error("update: committing", "err", err)
		return
	}
	s.Log.Info("update: version committed", "version", t.Version)
}

func (s *Supervisor) dropCurrent(version, reason string) {
	s.Log.Error("update: committed version cannot start: running the base", "version", version, "err", reason)
	s.Dir.Update(func(st *State) error {
		if st.Current != nil && st.Current.Version == version {
			now := s.Now()
			st.LastFailure = &Failure{Version: version, Reason: "cannot start: " + reason, Time: now.UTC()}
			st.event(now, "rolled back", version, "cannot start: "+reason)
			st.Current = nil
			s.Dir.prune(st)
		}
		return nil
	})
}

// runOne runs one child until it exits or ctx ends; a trial is committed
// or rolled back on the way. again says to look at the state and start
// the next child: the trial was rolled back, a committed slot would not
// start, or the child exited with ExitRestart.
func (s *Supervisor) runOne(ctx context.Context, path, version string, trial *Trial) (code int, again bool) {
	s.clearMarkers()
	cmd := exec.Command(path, s.Args...)
	cmd.Env = append(withoutEnv(s.Env, EnvSupervised), EnvSupervised+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdin, s.Stdout, s.Stderr
	setParentDeath(cmd)
	start := s.Now()
	if err := cmd.Start(); err != nil {
		switch {
		case trial != nil:
			s.failTrial(trial, "could not start: "+err.Error())
			return 1, true
		case path != s.Self:
			s.dropCurrent(version, err.Error())
			return 1, true
		}
		s.Log.Error("update: cannot start the gateway", "program", path, "err", err)
		return 1, false
	}
	pid := cmd.Process.Pid
	s.Log.Info("update: gateway started", "program", path, "version", version, "pid", pid, "trial", trial != nil)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer os.Remove(s.Dir.HealthyFile(pid))
	defer os.Remove(s.Dir.UnhealthyFile(pid))

	if trial != nil {
		confirm, timeout := time.Duration(trial.ConfirmS)*time.Second, time.Duration(trial.TimeoutS)*time.Second
		if s.Confirm > 0 {
			confirm = s.Confirm
		}
		if s.Timeout > 0 {
			timeout = s.Timeout
		}
		if confirm <= 0 {
			confirm = DefaultConfirm
		}
		if timeout <= 0 {
			timeout = DefaultHealthTimeout
		}
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		poll := time.NewTicker(s.Poll)
		defer poll.Stop()
		var healthy time.Time
		var confirmed <-chan time.Time
	wait:
		for {
			select {
			case <-ctx.Done():
				// The trial stays recorded as started: the next start
				// counts it as interrupted, and rolls it back.
				return s.stop(cmd, done), false
			case err := <-done:
				reason := exitReason(err, s.Now().Sub(start))
				if !healthy.IsZero() {
					reason += fmt.Sprintf(", %.1f s after it became healthy", s.Now().Sub(healthy).Seconds())
				}
				s.failTrial(trial, reason)
				return exitCode(err), true
			case <-poll.C:
				if why, err := os.ReadFile(s.Dir.UnhealthyFile(pid)); err == nil {
					s.stop(cmd, done)
					s.failTrial(trial, fmt.Sprintf("unhealthy after %.1f s: %s", s.Now().Sub(start).Seconds(), truncate(string(why), 300)))
					return 1, true
				}
				if healthy.IsZero() {
					if _, err := os.Stat(s.Dir.HealthyFile(pid)); err == nil {
						healthy = s.Now()
						s.Log.Info("update: trial healthy; confirming", "version", version, "after", healthy.Sub(start).Round(time.Millisecond), "confirm", confirm)
						deadline.Stop()
						confirmed = time.After(confirm)
					}
				}
			case <-deadline.C:
				s.stop(cmd, done)
				s.failTrial(trial, fmt.Sprintf("not healthy after %s", timeout))
				return 1, true
			case <-confirmed:
				s.commit(trial)
				break wait
			}
		}
	}
	select {
	case <-ctx.Done():
		return s.stop(cmd, done), false
	case err := <-done:
		code := exitCode(err)
		if code == ExitRestart {
			s.Log.Info("update: the gateway asked for a restart", "version", version)
			return code, true
		}
		if err != nil {
			s.Log.Warn("update: gateway ended", "version", version, "how", exitReason(err, s.Now().Sub(start)))
		}
		return code, false
	}
}

// stop sends the child SIGTERM, kills it after the grace period, and
// returns its exit status.
func (s *Supervisor) stop(cmd *exec.Cmd, done <-chan error) int {
	cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(s.Grace)
	defer t.Stop()
	select {
	case err := <-done:
		return exitCode(err)
	case <-t.C:
		s.Log.Warn("update: the gateway did not stop: killing it", "pid", cmd.Process.Pid, "after", s.Grace)
		cmd.Process.Kill()
		return exitCode(<-done)
	}
}

func (s *Supervisor) clearMarkers() {
	old, _ := filepath.Glob(filepath.Join(string(s.Dir), "healthy-*"))
	bad, _ := filepath.Glob(filepath.Join(string(s.Dir), "unhealthy-*"))
	for _, f := range append(old, bad...) {
		os.Remove(f)
	}
}

// exitReason says how a child ended: "exited with status 1 after 0.2 s".
func exitReason(err error, after time.Duration) string {
	secs := fmt.Sprintf("after %.1f s", after.Seconds())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("killed by signal %d (%s) %s", int(ws.Signal()), ws.Signal(), secs)
		}
		return fmt.Sprintf("exited with status %d %s", ee.ExitCode(), secs)
	}
	if err != nil {
		return fmt.Sprintf("failed: %v %s", err, secs)
	}
	return "exited with status 0 " + secs
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if c := ee.ExitCode(); c >= 0 {
			return c
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

func withoutEnv(env []string, name string) []string {
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}
