package update

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is an update directory, a signing key, and programs that are
// shell scripts: each appends its name to ran, and a healthy one writes
// the supervisor's marker and sleeps until it is stopped.
type fixture struct {
	t    *testing.T
	dir  Dir
	key  ed25519.PrivateKey
	ran  string
	base string // the base program
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{t: t, dir: Dir(filepath.Join(root, "update")), key: testKey(t, 7), ran: filepath.Join(root, "ran")}
	f.base = filepath.Join(root, "base")
	if err := os.WriteFile(f.base, f.script("base", "healthy"), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// script is a program: "healthy" reports healthy and runs until stopped,
// "exit1" exits at once with status 1, "hang" runs and never reports.
func (f *fixture) script(name, kind string) []byte {
	s := "#!/bin/sh\necho " + name + " >> " + f.ran + "\n"
	switch kind {
	case "healthy":
		s += "echo " + name + " > " + string(f.dir) + "/healthy-$$\nexec sleep 60\n"
	case "exit1":
		s += "exit 1\n"
	case "hang":
		s += "exec sleep 60\n"
	case "unhealthy":
		s += f.unhealthy("the board did not open: no SPI") + "exec sleep 60\n"
	case "fails-while-confirming":
		s += "echo " + name + " > " + string(f.dir) + "/healthy-$$\nsleep 0.1\n" + f.unhealthy("line 1: PCM underrun") + "exec sleep 60\n"
	}
	return []byte(s)
}

// unhealthy is the shell to report reason as ReportUnhealthy does: the
// marker written whole under another name, then renamed, so that the
// supervisor polling for it never reads it half written.
func (f *fixture) unhealthy(reason string) string {
	d := string(f.dir)
	return "printf '" + reason + "' > " + d + "/.unhealthy-$$ && mv " + d + "/.unhealthy-$$ " + d + "/unhealthy-$$\n"
}

// stage signs and stages a package of version holding a script of kind.
func (f *fixture) stage(version, kind string) *Trial {
	f.t.Helper()
	pkg := testDeb(f.t, "amd64", version, f.script(version, kind))
	tr, err := f.dir.Stage(StageOptions{Package: pkg, Signature: Sign(f.key, pkg), Trusted: []ed25519.PublicKey{pub(f.key)},
		GOARCH: "amd64", Base: Base{Version: "1.0", Path: f.base}})
	if err != nil {
		f.t.Fatal(err)
	}
	return tr
}

// supervise runs a supervisor of base version "1.0" (or baseVersion)
// with short trial timing; stop ends it and returns its status.
func (f *fixture) supervise(baseVersion string, timeout time.Duration) (stop func() int) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{Dir: f.dir, Self: f.base, Version: baseVersion, Env: os.Environ(), Stdout: os.Stderr, Stderr: os.Stderr,
		Log: slog.New(slog.NewTextHandler(testWriter{f.t}, nil)), Confirm: 300 * time.Millisecond, Timeout: timeout,
		Grace: 2 * time.Second, Poll: 20 * time.Millisecond}
	done := make(chan int, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				f.t.Fatal("the supervisor did not stop within 10 s")
			}
		})
		return code
	}
	f.t.Cleanup(func() { stop() })
	return stop
}

// waitState waits up to 10 s for the state to satisfy ok.
func (f *fixture) waitState(what string, ok func(State) bool) State {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := f.dir.Load()
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no %s within 10 s: state %+v (%v)\nran: %s", what, st, err, f.ranList())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRan waits up to 10 s for the last program started to be name.
func (f *fixture) waitRan(name string) { f.t.Helper(); f.waitRanN(0, name) }

// waitRanN waits up to 10 s for the n-th program started (0: any) to be
// name and the last.
func (f *fixture) waitRanN(n int, name string) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := f.ranList()
		if len(r) > 0 && r[len(r)-1] == name && (n == 0 || len(r) == n) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s did not run within 10 s; ran %v", name, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) ranList() []string {
	b, _ := os.ReadFile(f.ran)
	return strings.Fields(string(b))
}

func (f *fixture) slots() []string {
	ents, _ := os.ReadDir(filepath.Join(string(f.dir), "slots"))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestTrialCommitsThenBrokenRollsBack: a healthy trial is committed and
// keeps running; the next start runs the committed slot; a broken next
// version is rolled back to it, with the reason recorded and its slot gone.
func TestTrialCommitsThenBrokenRollsBack(t *testing.T) {
	f := newFixture(t)
	f.stage("2.0", "healthy")
	if st, _ := f.dir.Load(); st.Trial == nil || st.Trial.Version != "2.0" || st.Base.Version != "1.0" || st.Current != nil {
		t.Fatalf("staged state %+v", st)
	}
	stop := f.supervise("1.0", 5*time.Second)
	st := f.waitState("commit of 2.0", func(st State) bool { return st.Current != nil && st.Current.Version == "2.0" })
	if st.Trial != nil || st.Current.Committed.IsZero() || st.History[len(st.History)-1].Event != "committed" {
		t.Fatalf("committed state %+v", st)
	}
	if r := f.ranList(); len(r) != 1 || r[0] != "2.0" {
		t.Fatalf("ran %v; want the trial only, still running after its commit", r)
	}
	if code := stop(); code != 128+15 {
		t.Errorf("supervisor stopped with %d, want the child's 143 (SIGTERM)", code)
	}

	// Started again, the committed slot runs.
	stop = f.supervise("1.0", 5*time.Second)
	f.waitRanN(2, "2.0")
	stop()

	f.stage("3.0", "exit1")
	stop = f.supervise("1.0", 5*time.Second)
	st = f.waitState("rollback of 3.0", func(st State) bool { return st.LastFailure != nil })
	f.waitRanN(4, "2.0")
	if st.Trial != nil || st.Current == nil || st.Current.Version != "2.0" || st.LastFailure.Version != "3.0" ||
		!strings.HasPrefix(st.LastFailure.Reason, "exited with status 1 after ") {
		t.Fatalf("after the broken trial: %+v, failure %+v", st, st.LastFailure)
	}
	last := st.History[len(st.History)-1]
	if last.Event != "rolled back" || last.Version != "3.0" || !strings.Contains(last.Detail, "back to 2.0") {
		t.Errorf("history ends with %+v", last)
	}
	if s := f.slots(); len(s) != 1 || s[0] != "2.0" {
		t.Errorf("slots on disk: %v, want only 2.0", s)
	}
	if r := f.ranList(); strings.Join(r, " ") != "2.0 2.0 3.0 2.0" {
		t.Errorf("ran %v", r)
	}
	stop()
}

// TestTrialNotHealthyRollsBack: a trial that runs but never reports
// healthy is killed at the deadline and the base runs.
func TestTrialNotHealthyRollsBack(t *testing.T) {
	f := newFixture(t)
	f.stage("2.0", "hang")
	start := time.Now()
	f.supervise("1.0", 700*time.Millisecond)
	st := f.waitState("rollback", func(st State) bool { return st.LastFailure != nil })
	f.waitRan("base")
	if st.LastFailure.Version != "2.0" || st.LastFailure.Reason != "not healthy after 700ms" || st.Current != nil || st.Trial != nil {
		t.Fatalf("state %+v, failure %+v", st, st.LastFailure)
	}
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Errorf("rolled back after %v, before the deadline", d)
	}
	if len(f.slots()) != 0 {
		t.Errorf("slots left: %v", f.slots())
	}
}

// TestTrialReportsUnhealthy: a trial that says it does not work (its
// board did not open, a line stopped while it was being confirmed) is
// rolled back at once, with its reason, not at the deadline.
func TestTrialReportsUnhealthy(t *testing.T) {
	for kind, want := range map[string]string{
		"unhealthy":              "the board did not open: no SPI",
		"fails-while-confirming": "line 1: PCM underrun",
	} {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t)
			f.stage("2.0", kind)
			start := time.Now()
			f.supervise("1.0", 20*time.Second)
			st := f.waitState("rollback", func(st State) bool { return st.LastFailure != nil })
			f.waitRan("base")
			if r := st.LastFailure.Reason; !strings.HasPrefix(r, "unhealthy after ") || !strings.HasSuffix(r, ": "+want) || st.Current != nil {
				t.Fatalf("failure %+v, state %+v", st.LastFailure, st)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("rolled back after %v", d)
			}
		})
	}
}

// TestRollbackRestoresConfig: a trial that rewrote the configuration (a
// newer version saving it in a newer form) and is rolled back leaves the
// configuration as it was when the update was staged, and the trial's
// version of it beside it; a trial that did not touch it leaves it alone.
func TestRollbackRestoresConfig(t *testing.T) {
	for _, rewrite := range []bool{true, false} {
		f := newFixture(t)
		cfg := filepath.Join(t.TempDir(), "tipring.toml")
		old := []byte("version = 2\n")
		if err := os.WriteFile(cfg, old, 0o600); err != nil {
			t.Fatal(err)
		}
		pkg := testDeb(t, "amd64", "2.0", f.script("2.0", "unhealthy"))
		if _, err := f.dir.Stage(StageOptions{Package: pkg, Signature: Sign(f.key, pkg), Trusted: []ed25519.PublicKey{pub(f.key)},
			GOARCH: "amd64", Base: Base{Version: "1.0", Path: f.base}, Config: cfg}); err != nil {
			t.Fatal(err)
		}
		if rewrite {
			if err := os.WriteFile(cfg, []byte("version = 3\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		f.supervise("1.0", 20*time.Second)
		st := f.waitState("rollback", func(st State) bool { return st.LastFailure != nil })
		if got, _ := os.ReadFile(cfg); string(got) != string(old) {
			t.Errorf("rewrite %v: the configuration after the rollback is %q, want %q", rewrite, got, old)
		}
		kept, err := os.ReadFile(cfg + ".rolled-back-2.0")
		switch {
		case rewrite && string(kept) != "version = 3\n":
			t.Errorf("the trial's configuration was not kept: %q, %v", kept, err)
		case !rewrite && err == nil:
			t.Errorf("a copy was kept of a configuration the trial did not change")
		}
		if ev := st.History[len(st.History)-1]; rewrite && !strings.Contains(ev.Detail, "configuration restored") {
			t.Errorf("rewrite %v: the history does not say the configuration was restored: %+v", rewrite, ev)
		}
	}
}

// TestTrialInterrupted: a trial that was started and never decided (power
// cut, service stopped) is not tried a second time.
func TestTrialInterrupted(t *testing.T) {
	f := newFixture(t)
	f.stage("2.0", "healthy")
	f.dir.Update(func(st *State) error {
		st.Trial.Attempts = 1
		st.Trial.Started = time.Now().Add(-30 * time.Second)
		return nil
	})
	f.supervise("1.0", 5*time.Second)
	f.waitRan("base")
	st, _ := f.dir.Load()
	if st.LastFailure == nil || st.LastFailure.Version != "2.0" || !strings.Contains(st.LastFailure.Reason, "interrupted") || st.Trial != nil {
		t.Fatalf("state %+v", st)
	}
}

// TestTrialDamagedSlot: a slot whose program no longer has its checksum
// is not run.
func TestTrialDamagedSlot(t *testing.T) {
	f := newFixture(t)
	tr := f.stage("2.0", "healthy")
	os.WriteFile(tr.Path, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	f.supervise("1.0", 5*time.Second)
	f.waitRan("base")
	st, _ := f.dir.Load()
	if st.LastFailure == nil || !strings.Contains(st.LastFailure.Reason, "damaged") {
		t.Fatalf("state %+v", st)
	}
}

// TestUpgradedBaseWins: when the base's version is not the one recorded
// (apt installed another package), the slots are dropped and the base runs.
func TestUpgradedBaseWins(t *testing.T) {
	f := newFixture(t)
	f.stage("2.0", "healthy")
	stop := f.supervise("1.0", 5*time.Second)
	f.waitState("commit", func(st State) bool { return st.Current != nil })
	stop()
	stop = f.supervise("1.1", 5*time.Second) // apt upgraded /usr/bin/tipring to 1.1
	f.waitRan("base")
	st, _ := f.dir.Load()
	last := st.History[len(st.History)-1]
	if st.Current != nil || st.Previous != nil || st.Base.Version != "1.1" || last.Event != "dropped" || !strings.Contains(last.Detail, "from 1.0 to 1.1") {
		t.Fatalf("state %+v, last event %+v", st, last)
	}
	if len(f.slots()) != 0 {
		t.Errorf("slots left: %v", f.slots())
	}
	stop()
}

// TestChildRestartRunsTrial: a child exiting with ExitRestart (it staged
// an update) is followed by the trial, without the supervisor exiting.
func TestChildRestartRunsTrial(t *testing.T) {
	f := newFixture(t)
	// The base stages nothing itself: the test stages while it runs,
	// then it exits 75 as the gateway does.
	os.WriteFile(f.base, []byte("#!/bin/sh\necho base >> "+f.ran+"\nsleep 0.3\nexit 75\n"), 0o755)
	f.dir.Update(func(st *State) error { return nil }) // a state file: supervise
	f.supervise("1.0", 5*time.Second)
	f.waitRan("base")
	f.stage("2.0", "healthy")
	f.waitState("commit", func(st State) bool { return st.Current != nil && st.Current.Version == "2.0" })
}

// TestStageRefusesChangesNothing: a refused upload leaves no state and no
// slot behind; a second upload during a trial is refused.
func TestStageRefusesChangesNothing(t *testing.T) {
	f := newFixture(t)
	pkg := testDeb(t, "amd64", "2.0", f.script("2.0", "healthy"))
	tampered := append([]byte(nil), pkg...)
	tampered[len(tampered)/2] ^= 0x01
	trusted := []ed25519.PublicKey{pub(f.key)}
	for name, o := range map[string]StageOptions{
		"unsigned":   {Package: pkg, Trusted: trusted},
		"tampered":   {Package: tampered, Signature: Sign(f.key, pkg), Trusted: trusted},
		"untrusted":  {Package: pkg, Signature: Sign(testKey(t, 9), pkg), Trusted: trusted},
		"no keys":    {Package: pkg, Signature: Sign(f.key, pkg)},
		"wrong arch": {Package: pkg, Signature: Sign(f.key, pkg), Trusted: trusted, GOARCH: "arm64"},
	} {
		if o.GOARCH == "" {
			o.GOARCH = "amd64"
		}
		if _, err := f.dir.Stage(o); err == nil {
			t.Errorf("%s: staged", name)
		}
		if _, err := os.Stat(string(f.dir)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %s exists after a refused upload", name, f.dir)
		}
	}
	f.stage("2.0", "healthy")
	f.dir.Update(func(st *State) error { st.Trial.Attempts = 1; return nil })
	pkg3 := testDeb(t, "amd64", "3.0", f.script("3.0", "healthy"))
	_, err := f.dir.Stage(StageOptions{Package: pkg3, Signature: Sign(f.key, pkg3), Trusted: trusted, GOARCH: "amd64"})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("stage during a trial: %v", err)
	}
}

// TestStateAtomic: the state is replaced whole: a failing change leaves
// the file as it was, no temporary file stays, and concurrent changes
// (the gateway staging, the supervisor deciding) are all kept.
func TestStateAtomic(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "update"))
	if err := d.Update(func(st *State) error { st.Base = Base{Version: "1.0", Path: "/usr/bin/tipring"}; return nil }); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(d.StateFile())
	if err := d.Update(func(st *State) error { st.Base.Version = "junk"; return errors.New("no") }); err == nil {
		t.Fatal("a failing change succeeded")
	}
	if after, _ := os.ReadFile(d.StateFile()); string(after) != string(before) {
		t.Fatalf("a failing change was written:\n%s", after)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := d.Update(func(st *State) error {
				st.event(time.Now(), "test", fmt.Sprint(i), "")
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st, err := d.Load()
	if err != nil || len(st.History) != 8 || st.Format != StateFormat || st.Base.Version != "1.0" {
		t.Fatalf("after 8 concurrent changes: %+v, %v", st, err)
	}
	ents, _ := os.ReadDir(string(d))
	for _, e := range ents {
		if e.Name() != "state.json" && e.Name() != "lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if fi, _ := os.Stat(d.StateFile()); fi.Mode().Perm() != 0o640 {
		t.Errorf("state mode %v", fi.Mode())
	}
	// A damaged file is an error, never an empty state that would let a
	// trial run twice.
	os.WriteFile(d.StateFile(), []byte(`{"format": 1, "trial": {`), 0o640)
	if _, err := d.Load(); err == nil {
		t.Fatal("a truncated state file loaded")
	}
}

func TestParseTiming(t *testing.T) {
	c, to, err := ParseTiming("2s,30s")
	if err != nil || c != 2*time.Second || to != 30*time.Second {
		t.Fatal(c, to, err)
	}
	for _, bad := range []string{"", "2s", "x,y", "0s,1s", "-1s,2s"} {
		if _, _, err := ParseTiming(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
