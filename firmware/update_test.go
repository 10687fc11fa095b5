package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/passwd"
	"github.com/tipring/tipring/firmware/update"
	"github.com/tipring/tipring/firmware/update/updatetest"
	"github.com/tipring/tipring/sip/siptest/proctest"
)

// TestUpdateEndToEnd runs the real program, version 1.0.0, on the
// simulated board, and updates it through POST /api/update as a script
// would: an unsigned and a tampered package are refused and change nothing
// on disk; a package of 2.0.0 signed with the key built into 1.0.0 makes
// the gateway restart into 2.0.0, which is committed after the
// confirmation period; then a broken 3.0.0 (its program a shell script
// that exits 1), signed with the key in update.public_keys, is rolled back
// to 2.0.0 with the reason in GET /api/update.
func TestUpdateEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program twice and runs it as a process")
	}
	dir := t.TempDir()
	builtIn := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	inConfig := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	b64 := func(k ed25519.PrivateKey) string {
		return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
	}

	build := func(name, ldflags, pkg string) string {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "-ldflags", "-s -w "+ldflags, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, b)
		}
		return out
	}
	start := time.Now()
	progA := build("tipring-1.0.0", "-X main.version=1.0.0 -X main.updateKey="+b64(builtIn), ".")
	// 2.0.0 is packaged as `make deb` does it: mkdeb around the program.
	os.Mkdir(filepath.Join(dir, "b"), 0o755)
	build("b/tipring", "-X main.version=2.0.0", ".")
	mkdeb := build("mkdeb", "", "../tools/deb/mkdeb")
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "armhf"}[runtime.GOARCH]
	out, err := exec.Command(mkdeb, "-arch", arch, "-bin", filepath.Join(dir, "b"), "-deb-version", "2.0.0", "-epoch", "1700000000", "-o", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mkdeb: %v\n%s", err, out)
	}
	pkgB, err := os.ReadFile(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("builds and package: %v", time.Since(start).Round(time.Millisecond))

	// The configuration: sim.toml on free ports, an admin password for
	// HTTP Basic, the second key trusted in update.public_keys.
	// The web page on port, SIP on port+1 (and TLS on port+2).
	port, err := proctest.FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	webAddr, sipAddr := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
	const pw = "green-Valley-77"
	t0 := time.Now()
	hash, err := passwd.Hash(pw)
	t.Logf("password hash: %v", time.Since(t0).Round(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile("testdata/sim.toml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(base), `listen = "127.0.0.1:8080"`, fmt.Sprintf("listen = %q\nadmin_password_hash = %q", webAddr, hash), 1)
	doc = strings.Replace(doc, `listen = "127.0.0.1:5060"`, fmt.Sprintf("listen = %q", sipAddr), 1)
	doc += fmt.Sprintf("\n[update]\npublic_keys = [%q]\n", b64(inConfig))
	cfg, state := filepath.Join(dir, "tipring.toml"), filepath.Join(dir, "state")
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}

	logs := &syncWriter{w: new(bytes.Buffer)}
	cmd := exec.Command(progA, "-config", cfg, "-state", state)
	cmd.Env = append(withoutVar(withoutVar(os.Environ(), "INVOCATION_ID"), update.EnvSupervised), update.EnvTestTiming+"=2s,20s")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		t0 := time.Now()
		defer func() { t.Logf("stopped in %v", time.Since(t0).Round(time.Millisecond)) }()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Error("the gateway did not stop within 15 s of SIGTERM")
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", tail(logs.String(), 150))
		}
	})

	web := "http://" + webAddr
	api := func(method, path string, body io.Reader, ctype string) (int, []byte, error) {
		req, _ := http.NewRequest(method, web+path, body)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.SetBasicAuth("admin", pw)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	// waitFor polls GET path until ok says yes, for at most limit.
	waitFor := func(what, path string, limit time.Duration, ok func([]byte) bool) time.Duration {
		t.Helper()
		t0 := time.Now()
		var last []byte
		var lastErr error
		for time.Since(t0) < limit {
			select {
			case err := <-exited:
				t.Fatalf("waiting for %s: the gateway exited: %v", what, err)
			default:
			}
			code, b, err := api("GET", path, nil, "")
			if err == nil && code == http.StatusOK && ok(b) {
				return time.Since(t0)
			}
			last, lastErr = b, err
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no %s within %v: last answer %s %v", what, limit, last, lastErr)
		return 0
	}
	version := func(v string) func([]byte) bool {
		return func(b []byte) bool {
			var st struct{ Version string }
			return json.Unmarshal(b, &st) == nil && st.Version == v
		}
	}
	updState := func(ok func(update.State) bool) func([]byte) bool {
		return func(b []byte) bool {
			var st apiUpdateBody
			return json.Unmarshal(b, &st) == nil && ok(st.State)
		}
	}
	upload := func(files map[string][]byte) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for name, data := range files {
			fw, _ := mw.CreateFormFile(name, name)
			fw.Write(data)
		}
		mw.Close()
		code, b, err := api("POST", "/api/update", &buf, mw.FormDataContentType())
		if err != nil {
			t.Fatalf("POST /api/update: %v", err)
		}
		return code, string(b)
	}

	t.Logf("1.0.0 serving after %v", waitFor("version 1.0.0 serving", "/api/status", 20*time.Second, version("1.0.0")).Round(time.Millisecond))

	tampered := bytes.Clone(pkgB)
	tampered[len(tampered)/2] ^= 0x01
	for name, files := range map[string]map[string][]byte{
		"unsigned": {"package": pkgB},
		"tampered": {"package": tampered, "signature": update.Sign(builtIn, pkgB)},
	} {
		if code, body := upload(files); code < 400 || code > 499 || !strings.Contains(body, `"error"`) {
			t.Fatalf("%s upload: %d %s", name, code, body)
		}
		if _, err := os.Stat(filepath.Join(state, "update")); !os.IsNotExist(err) {
			t.Fatalf("%s upload: %s/update exists (%v)", name, state, err)
		}
	}

	// 2.0.0, signed with the built-in key.
	t0 = time.Now()
	if code, body := upload(map[string][]byte{"package": pkgB, "signature": update.Sign(builtIn, pkgB)}); code != http.StatusAccepted {
		t.Fatalf("upload of 2.0.0: %d %s", code, body)
	}
	waitFor("version 2.0.0 serving", "/api/status", 30*time.Second, version("2.0.0"))
	up := time.Since(t0)
	waitFor("2.0.0 committed", "/api/update", 20*time.Second, updState(func(st update.State) bool {
		return st.Current != nil && st.Current.Version == "2.0.0" && st.Trial == nil
	}))
	t.Logf("upload to 2.0.0 serving: %v; to committed: %v", up.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "RssAnon:") || strings.HasPrefix(l, "RssFile:") {
				t.Logf("the supervisor: %s", strings.Join(strings.Fields(l), " "))
			}
		}
	}

	// 3.0.0 is broken; signed with the key of update.public_keys, which
	// 2.0.0 (no key built in) trusts from the configuration.
	pkgC := updatetest.Deb(t, "", "3.0.0", []byte("#!/bin/sh\nexit 1\n"))
	t0 = time.Now()
	if code, body := upload(map[string][]byte{"package": pkgC, "signature": update.Sign(inConfig, pkgC)}); code != http.StatusAccepted {
		t.Fatalf("upload of 3.0.0: %d %s", code, body)
	}
	var failure *update.Failure
	waitFor("3.0.0 rolled back", "/api/update", 30*time.Second, updState(func(st update.State) bool {
		failure = st.LastFailure
		return st.LastFailure != nil && st.Trial == nil && st.Current != nil && st.Current.Version == "2.0.0"
	}))
	waitFor("version 2.0.0 serving again", "/api/status", 30*time.Second, version("2.0.0"))
	t.Logf("upload of a broken 3.0.0 to 2.0.0 serving again: %v", time.Since(t0).Round(time.Millisecond))
	if failure.Version != "3.0.0" || !strings.HasPrefix(failure.Reason, "exited with status 1 after ") {
		t.Errorf("failure recorded: %+v", failure)
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "update", "slots")); len(ents) != 1 || ents[0].Name() != "2.0.0" {
		t.Errorf("slots on disk: %v", ents)
	}
}

// apiUpdateBody is GET /api/update's body.
type apiUpdateBody struct {
	Version string
	Keys    []string
	State   update.State
}

func withoutVar(env []string, name string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}
