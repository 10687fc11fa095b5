package web

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/update"
	"github.com/tipring/tipring/firmware/update/updatetest"
	"github.com/tipring/tipring/tools/deb"
)

// testUpdater stages into a real update directory, as the gateway does,
// trusting keys.
type testUpdater struct {
	dir  update.Dir
	keys []ed25519.PublicKey
}

func (u *testUpdater) Status() UpdateStatus {
	st := UpdateStatus{}
	for _, k := range u.keys {
		st.Keys = append(st.Keys, update.Fingerprint(k)+" (test)")
	}
	var err error
	if st.State, err = u.dir.Load(); err != nil {
		st.StateError = err.Error()
	}
	return st
}

func (u *testUpdater) Install(pkg, sig []byte) (string, error) {
	t, err := u.dir.Stage(update.StageOptions{Package: pkg, Signature: sig, Trusted: u.keys, GOARCH: "amd64"})
	if err != nil {
		return "", err
	}
	return t.Version, nil
}

func newUpdatePages(t *testing.T, trusted bool) (*pages, *testUpdater, ed25519.PrivateKey) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	u := &testUpdater{dir: update.Dir(filepath.Join(t.TempDir(), "update"))}
	if trusted {
		u.keys = []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}
	}
	return newPages(t, func(o *Options) { o.Update = u }), u, priv
}

// TestPagesUpdate: the Maintenance page's update form shows the trusted
// keys, refuses an unsigned or tampered package with the reason next to
// its field and nothing on disk, takes a package larger than other forms
// may post, and shows the trial and the last failure.
func TestPagesUpdate(t *testing.T) {
	p, u, key := newUpdatePages(t, true)
	_, body, tok := p.get("/maintenance")
	fp := update.Fingerprint(key.Public().(ed25519.PublicKey))
	for _, want := range []string{`<h2 id="update">Update firmware`, `action="/maintenance/update"`, fp, "<b>1.2.3-test</b>: the installed package", `name="signature"`} {
		if !strings.Contains(body, want) {
			t.Errorf("maintenance page lacks %q", want)
		}
	}
	p.refused("/maintenance/update", url.Values{"csrf": {tok}})

	// Random bytes do not compress: a package of 3 MiB, over the 1 MiB
	// other forms may post.
	bin := make([]byte, 3<<20)
	rand.Read(bin)
	pkg := updatetest.Deb(t, "amd64", "2.0", bin)
	tampered := bytes.Clone(pkg)
	tampered[len(tampered)-200] ^= 0x80
	form := url.Values{"csrf": {tok}}
	p.rejected("/maintenance/update", form, map[string][]byte{"package": pkg}, "is not signed")
	p.rejected("/maintenance/update", form, map[string][]byte{"package": tampered, "signature": update.Sign(key, pkg)}, "does not match the package")
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	p.rejected("/maintenance/update", form, map[string][]byte{"package": pkg, "signature": update.Sign(other, pkg)}, "not trusted")
	if _, err := os.Stat(string(u.dir)); err == nil {
		t.Fatal("a refused update left files behind")
	}

	resp, body := p.multipart("/maintenance/update", form, map[string][]byte{"package": pkg, "signature": update.Sign(key, pkg)})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<b class="upd-version">2.0</b>`) {
		t.Fatalf("good update: %s\n%s", resp.Status, body)
	}
	st, _ := u.dir.Load()
	if st.Trial == nil || st.Trial.Version != "2.0" {
		t.Fatalf("state after the upload: %+v", st)
	}
	if got, _ := os.ReadFile(st.Trial.Path); !bytes.Equal(got, bin) {
		t.Fatal("the slot does not hold the package's program")
	}
	_, body, _ = p.get("/maintenance")
	if !strings.Contains(body, `<dd class="upd-trial">2.0</dd>`) {
		t.Error("the page does not show the trial")
	}

	u.dir.Update(func(st *update.State) error {
		st.Trial = nil
		st.LastFailure = &update.Failure{Version: "2.0", Reason: "exited with status 1 after 0.2 s", Time: time.Unix(1700000000, 0)}
		return nil
	})
	_, body, _ = p.get("/maintenance")
	if !strings.Contains(body, "2.0 rolled back 2023-11-14 22:13:20 UTC: exited with status 1 after 0.2 s") {
		t.Errorf("the page does not show the failure:\n%s", body)
	}
}

// TestPagesUpdateNoKey: with no trusted key the page says how to add one
// and every upload is refused.
func TestPagesUpdateNoKey(t *testing.T) {
	p, u, key := newUpdatePages(t, false)
	_, body, tok := p.get("/maintenance")
	if !strings.Contains(body, "none: no update is accepted") || !strings.Contains(body, "update.public_keys") {
		t.Error("the page does not say that no key is trusted, and how to add one")
	}
	pkg := updatetest.Deb(t, "amd64", "2.0", []byte("program"))
	p.rejected("/maintenance/update", url.Values{"csrf": {tok}}, map[string][]byte{"package": pkg, "signature": update.Sign(key, pkg)}, "no trusted update key")
	if _, err := os.Stat(string(u.dir)); err == nil {
		t.Fatal("a refused update left files behind")
	}
}

// apiUpload posts to /api/update as a script does: HTTP Basic, multipart.
func apiUpload(t *testing.T, base string, files map[string][]byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, data := range files {
		fw, _ := mw.CreateFormFile(k, k)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/update", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("admin", pagesAdminPW)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST /api/update: %s: not JSON: %s", resp.Status, b)
	}
	return resp.StatusCode, out
}

func TestAPIUpdate(t *testing.T) {
	p, u, key := newUpdatePages(t, true)
	pkg := updatetest.Deb(t, "amd64", "2.0", []byte("program"))
	tampered := bytes.Clone(pkg)
	tampered[100] ^= 1
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		code  int
		want  string
	}{
		{"no package", map[string][]byte{"signature": update.Sign(key, pkg)}, 400, "choose the package"},
		{"unsigned", map[string][]byte{"package": pkg}, 400, "not signed"},
		{"tampered", map[string][]byte{"package": tampered, "signature": update.Sign(key, pkg)}, 400, "does not match"},
		{"untrusted", map[string][]byte{"package": pkg, "signature": update.Sign(other, pkg)}, 403, "not trusted"},
		{"garbage signature", map[string][]byte{"package": pkg, "signature": []byte("hello")}, 400, "not a Tipring update signature"},
	} {
		code, out := apiUpload(t, p.srv.URL, tc.files)
		if msg, _ := out["error"].(string); code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %v; want %d …%s…", tc.name, code, out, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(string(u.dir)); err == nil {
		t.Fatal("a refused update left files behind")
	}
	code, out := apiUpload(t, p.srv.URL, map[string][]byte{"package": pkg, "signature": update.Sign(key, pkg)})
	if code != http.StatusAccepted || out["version"] != "2.0" {
		t.Fatalf("good update: %d %v", code, out)
	}
	req, _ := http.NewRequest("GET", p.srv.URL+"/api/update", nil)
	req.SetBasicAuth("admin", pagesAdminPW)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Version string
		Keys    []string
		State   update.State
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Version != "1.2.3-test" || len(st.Keys) != 1 || st.State.Trial == nil || st.State.Trial.Version != "2.0" {
		t.Fatalf("GET /api/update: %+v", st)
	}
	// Without credentials, nothing.
	resp, _ = http.Post(p.srv.URL+"/api/update", "multipart/form-data; boundary=x", strings.NewReader("--x--"))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous POST /api/update: %s", resp.Status)
	}
}

// FuzzUpdateUpload posts arbitrary packages and signatures to the update
// form and the API: never a 5xx, and nothing is staged without a good
// signature.
func FuzzUpdateUpload(f *testing.F) {
	cfg := config.Default()
	cfg.Web.AdminPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"
	store := config.NewStore(filepath.Join(f.TempDir(), "t.toml"), cfg)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	u := &testUpdater{dir: update.Dir(filepath.Join(f.TempDir(), "update")), keys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}}
	s, err := New(Options{Store: store, Started: time.Now(), Update: u})
	if err != nil {
		f.Fatal(err)
	}
	session, _ := s.sessions.create()
	hd := s.Handler()
	p, _ := deb.Tipring(deb.Options{Arch: "amd64", Version: "2.0", Epoch: 1, Binaries: map[string][]byte{"tipring": []byte("program")}})
	pkg, _ := p.Bytes()
	f.Add(pkg, update.Sign(key, []byte("another file")))
	f.Add(pkg[:len(pkg)/2], []byte(update.SignatureHeader+"\nkey x\nsig y\n"))
	f.Add([]byte("!<arch>\n"), []byte{})
	f.Fuzz(func(t *testing.T, pkg, sig []byte) {
		const tok = "0123456789abcdef0123456789abcdef"
		for _, path := range []string{"/maintenance/update", "/api/update"} {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("csrf", tok)
			fw, _ := mw.CreateFormFile("package", "p.deb")
			fw.Write(pkg)
			fw, _ = mw.CreateFormFile("signature", "p.deb.sig")
			fw.Write(sig)
			mw.Close()
			req := httptest.NewRequest("POST", path, &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
			w := httptest.NewRecorder()
			hd.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
			}
			if w.Code < 300 || u.dir.Exists() {
				t.Fatalf("POST %s of an unsigned package: %d, state written", path, w.Code)
			}
		}
	})
}
