package web

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
)

// FuzzSettingsForms posts arbitrary bodies, with a valid session and CSRF
// token, to every settings form: the server never fails with a 5xx, and
// whatever it saved is a valid configuration on disk.
func FuzzSettingsForms(f *testing.F) {
	cfg := config.Default()
	cfg.Web.AdminPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"
	store := config.NewStore(filepath.Join(f.TempDir(), "t.toml"), cfg)
	s, err := New(Options{Store: store, Started: time.Now()})
	if err != nil {
		f.Fatal(err)
	}
	session, _ := s.sessions.create()
	hd := s.Handler()
	f.Add("user=1001&forward_busy=12ab&forward_no_answer_s=x")
	f.Add("registrar=a+b&codecs=pcmu,pcmu&ptime_ms=7")
	f.Add("country=de&flash_min_ms=-1&flash_max_ms=99999999999999999999")
	f.Add("include_secrets=on&admin_password=x")
	f.Add("server=host&transport=sctp&level=loud&url=http://x&interval_min=0&signature_key=AAAA")
	f.Fuzz(func(t *testing.T, body string) {
		const tok = "0123456789abcdef0123456789abcdef"
		for _, path := range []string{"/lines/1", "/lines/2", "/sip", "/region", "/network", "/maintenance/download"} {
			req := httptest.NewRequest("POST", path, strings.NewReader("csrf="+tok+"&"+body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
			w := httptest.NewRecorder()
			hd.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body)
			}
		}
		if _, err := config.Load(store.Path()); err != nil && !strings.Contains(err.Error(), "no such file") {
			t.Fatalf("the saved file does not load: %v", err)
		}
	})
}
