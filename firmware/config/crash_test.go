package config

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const crashChildEnv = "TIPRING_CONFIG_CRASH_CHILD"

// crashConfig is generation gen of the configuration the child saves: 64
// lines (a file of several kilobytes, so a torn write would show) whose
// display names all carry the generation.
func crashConfig(gen int) Config {
	c := Default()
	c.Board.Ports = MaxPorts
	for p := 1; p <= MaxPorts; p++ {
		l := NewLine(p)
		l.User = strconv.Itoa(1000 + p)
		l.Password = "pw-" + strconv.Itoa(p)
		l.DisplayName = fmt.Sprintf("gen-%d", gen)
		c.Lines = append(c.Lines, l)
	}
	return c
}

// crashGeneration checks that c is one complete generation and returns it.
func crashGeneration(c Config) (int, error) {
	if len(c.Lines) != MaxPorts {
		return 0, fmt.Errorf("%d lines", len(c.Lines))
	}
	gen, err := strconv.Atoi(strings.TrimPrefix(c.Lines[0].DisplayName, "gen-"))
	if err != nil {
		return 0, fmt.Errorf("display name %q", c.Lines[0].DisplayName)
	}
	for _, l := range c.Lines {
		if l.DisplayName != c.Lines[0].DisplayName || l.Password != "pw-"+strconv.Itoa(l.Port) {
			return 0, fmt.Errorf("line %d is %+v in generation %d", l.Port, l, gen)
		}
	}
	return gen, nil
}

// TestConfigSaveCrash kills a process that keeps saving the configuration
// through Store.Update with SIGKILL at random moments, 50 times: each time
// the file loads and holds a complete generation, not older than the last
// one seen, and the .bak copy loads and holds a complete generation too.
func TestConfigSaveCrash(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary 50 times")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tipring.toml")
	if err := Save(path, crashConfig(0)); err != nil {
		t.Fatal(err)
	}
	last, advanced := 0, 0
	for i := range 50 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConfigSaveCrash$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rand.IntN(100)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		c, err := Load(path)
		if err != nil {
			t.Fatalf("kill %d: the file does not load: %v", i, err)
		}
		gen, err := crashGeneration(c)
		if err != nil {
			t.Fatalf("kill %d: the file holds a mixed configuration: %v", i, err)
		}
		if gen < last {
			t.Fatalf("kill %d: generation %d after %d", i, gen, last)
		}
		if gen > last {
			advanced++
		}
		last = gen
		if _, err := os.Stat(path + ".bak"); err == nil {
			b, err := Load(path + ".bak")
			if err != nil {
				t.Fatalf("kill %d: the .bak copy does not load: %v", i, err)
			}
			if bg, err := crashGeneration(b); err != nil || bg > gen {
				t.Fatalf("kill %d: .bak holds generation %d (%v), file %d", i, bg, err, gen)
			}
		}
	}
	t.Logf("50 kills, the child had saved something new before %d of them; last generation %d", advanced, last)
	if advanced < 10 {
		t.Errorf("the child saved before only %d of 50 kills: the test did not test much", advanced)
	}
}

// crashChild saves new generations until it is killed (or, should the
// parent be gone, for at most a minute).
func crashChild(path string) {
	c, err := Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	gen, err := crashGeneration(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	s := NewStore(path, c)
	for end := time.Now().Add(time.Minute); time.Now().Before(end); {
		gen++
		if err := s.Update(func(c *Config) error {
			for i := range c.Lines {
				c.Lines[i].DisplayName = fmt.Sprintf("gen-%d", gen)
			}
			return nil
		}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	os.Exit(0)
}
