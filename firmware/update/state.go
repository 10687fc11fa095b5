package update

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tipring/tipring/firmware/internal/atomicfile"
)

// StateFormat is the version of state.json this package writes.
const StateFormat = 1

// historyLen is how many events State.History keeps.
const historyLen = 10

// Default trial timing: how long a trial may take to report healthy, and
// how long it must then stay up to be committed.
const (
	DefaultHealthTimeout = 120 * time.Second
	DefaultConfirm       = 60 * time.Second
)

// State is <state>/update/state.json.
type State struct {
	Format int `json:"format"`
	// Base is the program the service starts (/usr/bin/tipring) as of
	// the last commit: when the running base has another version, apt
	// upgraded it and the slots are dropped.
	Base Base `json:"base"`
	// Current is the committed slot that runs, nil for the base;
	// Previous the one committed before it, kept on disk.
	Current  *Slot `json:"current"`
	Previous *Slot `json:"previous"`
	// Trial is the slot staged to be tried once, nil when none.
	Trial *Trial `json:"trial"`
	// LastFailure is the last trial that was rolled back (or slot that
	// would not start), and why.
	LastFailure *Failure `json:"last_failure"`
	// History is the last few events, oldest first.
	History []Event `json:"history"`
}

// Base is the program systemd starts.
type Base struct {
	Version string `json:"version"`
	Path    string `json:"path"`
}

// Slot is an installed program.
type Slot struct {
	Version   string    `json:"version"`
	Path      string    `json:"path"`
	SHA256    string    `json:"sha256"`
	Key       string    `json:"key"` // fingerprint of the key that signed the package
	Staged    time.Time `json:"staged"`
	Committed time.Time `json:"committed,omitzero"`
}

// Trial is a slot on trial.
type Trial struct {
	Slot
	Started  time.Time `json:"started,omitzero"` // when the supervisor started it
	Attempts int       `json:"attempts"`         // 0 until started; a second start is a failure
	// ConfirmS and TimeoutS are the confirmation period and the health
	// deadline, in seconds, as configured when it was staged.
	ConfirmS int `json:"confirm_s"`
	TimeoutS int `json:"timeout_s"`
	// Config is the gateway's configuration file and ConfigBefore a copy
	// of it taken when the trial was staged: a rollback puts it back, so
	// that a version that saved the file in a newer form does not leave
	// the older one unable to read it.
	Config       string `json:"config,omitempty"`
	ConfigBefore string `json:"config_before,omitempty"`
}

// Failure is a rolled-back version and why.
type Failure struct {
	Version string    `json:"version"`
	Reason  string    `json:"reason"`
	Time    time.Time `json:"time"`
}

// Event is one line of the history: staged, committed, rolled back, dropped.
type Event struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Version string    `json:"version"`
	Detail  string    `json:"detail,omitempty"`
}

func (st *State) event(now time.Time, ev, version, detail string) {
	st.History = append(st.History, Event{Time: now.UTC(), Event: ev, Version: version, Detail: detail})
	if n := len(st.History); n > historyLen {
		st.History = append([]Event(nil), st.History[n-historyLen:]...)
	}
}

// Dir is the update directory, <state>/update.
type Dir string

// StateFile is the path of state.json.
func (d Dir) StateFile() string { return filepath.Join(string(d), "state.json") }

// HealthyFile is the marker a supervised child with process id pid writes
// once it serves (ReportHealthy).
func (d Dir) HealthyFile(pid int) string {
	return filepath.Join(string(d), "healthy-"+strconv.Itoa(pid))
}

func (d Dir) slotDir(version string) string { return filepath.Join(string(d), "slots", version) }

// Exists reports whether a state file is there: the base then supervises.
func (d Dir) Exists() bool {
	_, err := os.Stat(d.StateFile())
	return err == nil
}

// Load reads the state; no file is the zero State.
func (d Dir) Load() (State, error) {
	b, err := os.ReadFile(d.StateFile())
	if errors.Is(err, fs.ErrNotExist) {
		return State{Format: StateFormat}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("update state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("update state: %s: %w", d.StateFile(), err)
	}
	if st.Format > StateFormat {
		return State{}, fmt.Errorf("update state: %s is format %d, this program knows %d", d.StateFile(), st.Format, StateFormat)
	}
	return st, nil
}

// Update changes the state under the directory's lock: fn gets the state
// as on disk and the result is saved atomically unless fn fails.
func (d Dir) Update(fn func(*State) error) error {
	if err := os.MkdirAll(string(d), 0o750); err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	unlock, err := lockFile(filepath.Join(string(d), "lock"))
	if err != nil {
		return fmt.Errorf("update state: lock: %w", err)
	}
	defer unlock()
	st, err := d.Load()
	if err != nil {
		return err
	}
	if err := fn(&st); err != nil {
		return err
	}
	st.Format = StateFormat
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	if err := atomicfile.Write(d.StateFile(), append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	return nil
}

// prune removes the slot directories that no slot of st names.
func (d Dir) prune(st *State) {
	keep := map[string]bool{}
	for _, s := range []*Slot{st.Current, st.Previous} {
		if s != nil {
			keep[s.Version] = true
		}
	}
	if st.Trial != nil {
		keep[st.Trial.Version] = true
	}
	ents, _ := os.ReadDir(filepath.Join(string(d), "slots"))
	for _, e := range ents {
		if !keep[e.Name()] {
			os.RemoveAll(filepath.Join(string(d), "slots", e.Name()))
		}
	}
}

// StageOptions is an upload to stage.
type StageOptions struct {
	Package, Signature []byte
	Trusted            []ed25519.PublicKey
	GOARCH             string // runtime.GOARCH
	// Base is the program systemd starts, recorded when the state has
	// none yet (the first update of a base that runs unsupervised).
	Base             Base
	Confirm, Timeout time.Duration // trial timing; defaults when 0
	Now              time.Time
	// Config, when set, is the configuration file: it is copied into the
	// slot, and a rollback of the trial restores it (Trial.Config).
	Config string
}

// Stage verifies an uploaded package and its signature, writes its program
// to a slot and records it as the trial: the next start of the base
// supervises it. Nothing on disk changes unless every check passes.
func (d Dir) Stage(o StageOptions) (*Trial, error) {
	key, err := Verify(o.Package, o.Signature, o.Trusted)
	if err != nil {
		return nil, err
	}
	// The package is parsed only once its signature is good: its
	// contents are then the signer's, not anyone's.
	p, err := ReadPackage(o.Package, o.GOARCH)
	if err != nil {
		return nil, err
	}
	if o.Confirm <= 0 {
		o.Confirm = DefaultConfirm
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultHealthTimeout
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	var trial *Trial
	err = d.Update(func(st *State) error {
		if st.Trial != nil && st.Trial.Attempts > 0 {
			return fmt.Errorf("%w (version %s)", ErrBusy, st.Trial.Version)
		}
		if st.Current != nil && st.Current.Version == p.Version {
			return fmt.Errorf("%w: %s", ErrSameVersion, p.Version)
		}
		dir := d.slotDir(p.Version)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		bin := filepath.Join(dir, "tipring")
		if err := atomicfile.Write(bin, p.Binary, 0o755); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("writing the slot: %w", err)
		}
		var before string
		if o.Config != "" {
			cfg, err := os.ReadFile(o.Config)
			if err != nil {
				os.RemoveAll(dir)
				return fmt.Errorf("copying the configuration: %w", err)
			}
			before = filepath.Join(dir, "config-before.toml")
			if err := atomicfile.Write(before, cfg, 0o600); err != nil {
				os.RemoveAll(dir)
				return fmt.Errorf("copying the configuration: %w", err)
			}
		}
		sum := sha256.Sum256(p.Binary)
		trial = &Trial{
			Config: o.Config, ConfigBefore: before,
			Slot:     Slot{Version: p.Version, Path: bin, SHA256: hex.EncodeToString(sum[:]), Key: Fingerprint(key), Staged: o.Now.UTC()},
			ConfirmS: int(o.Confirm.Round(time.Second) / time.Second), TimeoutS: int(o.Timeout.Round(time.Second) / time.Second),
		}
		st.Trial = trial
		if st.Previous != nil && st.Previous.Version == p.Version {
			st.Previous = nil // its directory now holds the new upload
		}
		if st.Base.Version == "" {
			st.Base = o.Base
		}
		st.event(o.Now, "staged", p.Version, "signed by "+Fingerprint(key))
		d.prune(st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return trial, nil
}

// ReportHealthy is what a supervised child calls once it serves: it writes
// the marker its supervisor waits for.
func (d Dir) ReportHealthy(pid int, version string) error {
	return os.WriteFile(d.HealthyFile(pid), []byte(version+"\n"), 0o640)
}

// UnhealthyFile is the marker a supervised child writes, holding the
// reason, when it knows it is not working (ReportUnhealthy).
func (d Dir) UnhealthyFile(pid int) string {
	return filepath.Join(string(d), "unhealthy-"+strconv.Itoa(pid))
}

// ReportUnhealthy is what a supervised child calls when it runs but does
// not work (its board did not open, a line stopped): a trial is then
// rolled back at once, with reason, rather than at its deadline.
func (d Dir) ReportUnhealthy(pid int, reason string) error {
	return atomicfile.Write(d.UnhealthyFile(pid), []byte(reason), 0o640)
}

// checkSum reports whether the file at path has the SHA-256 sum (hex).
func checkSum(path, sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%s is damaged: its SHA-256 is %.16s…, not %.16s…", path, got, sum)
	}
	return nil
}
