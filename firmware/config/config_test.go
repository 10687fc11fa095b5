package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const good = `# a gateway
[board]
name = "sim"
ports = 4

[web]
listen = "127.0.0.1:8080"

[sip]
listen = "127.0.0.1:5060"
registrar = "127.0.0.1:5061"
transport = "tls"
ca_file = "ca.pem"

[region]
country = "de"

[[line]]
port = 1
user = "1001"
password = "secret"

[[line]]
port = 2
user = "1002"
password = "secret2"
display_name = "Kitchen"
`

func TestParseGood(t *testing.T) {
	c, err := Parse("good.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != Version || c.Board.Ports != 4 || len(c.Lines) != 2 || c.Lines[1].DisplayName != "Kitchen" || c.Region.Country != "de" {
		t.Fatalf("parsed %+v", c)
	}
}

func TestDefaultsFillGaps(t *testing.T) {
	c, err := Parse("min.toml", []byte("[board]\nname = \"sim\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Board.Ports != 2 || c.Web.Listen != "127.0.0.1:8080" || c.Region.Country != "us" || c.SIP.Transport != "tls" ||
		c.SIP.KeepaliveS != 30 || !c.SIP.FaxReinvite {
		t.Fatalf("defaults not applied: %+v", c)
	}
	// The keep-alives and the fax re-INVITE turn off by key.
	c, err = Parse("off.toml", []byte("[board]\nname = \"sim\"\n[sip]\nkeepalive_s = 0\nfax_reinvite = false\n"))
	if err != nil || c.SIP.KeepaliveS != 0 || c.SIP.FaxReinvite {
		t.Fatalf("keepalive_s = 0, fax_reinvite = false: %+v, %v", c.SIP, err)
	}
}

// TestErrorsNameFileLineKey checks that each kind of mistake names the file,
// the line where the key is, and the key.
func TestErrorsNameFileLineKey(t *testing.T) {
	for _, tc := range []struct {
		name, edit, want string
	}{
		{"unknown key", `transport = "tls"` + "\ntransprot = \"udp\"", "x.toml:13: sip.transprot: unknown key"},
		{"unknown table", "[region]\ncountry = \"de\"\n[regoin]\nfoo = 1", "x.toml:17: regoin: unknown key"},
		{"wrong type", "ports = 4|ports = \"four\"", "x.toml:4: "},
		{"bad transport", `transport = "tls"|transport = "sctp"`, `x.toml:12: sip.transport: "sctp" is not one of udp, tcp, tls`},
		{"port out of range", "port = 2|port = 9", "x.toml:24: line[2].port: 9 is not a port of this board (1…4)"},
		{"duplicate port", "port = 2|port = 1", "x.toml:24: line[2].port: port 1 is already configured by line[1]"},
		{"too many ports", "ports = 4|ports = 65", "x.toml:4: board.ports: 65 is out of range 1…64"},
		{"playout too short", "ports = 4|ports = 4\nplayout_ms = 1", "x.toml:5: board.playout_ms: 1 is out of range 2…20 (ms)"},
		{"bad listen", `listen = "127.0.0.1:8080"|listen = "nowhere"`, `x.toml:7: web.listen: "nowhere" is not host:port`},
		{"bad hash", `listen = "127.0.0.1:8080"|listen = "127.0.0.1:8080"` + "\nadmin_password_hash = \"hunter2\"", "x.toml:8: web.admin_password_hash: is not a hash"},
		{"bad country", `country = "de"|country = "xx"`, `x.toml:16: region.country: `},
		{"syntax", `country = "de"|country = "de`, "x.toml:16: "},
		{"keepalive too short", `transport = "tls"|transport = "tls"` + "\nkeepalive_s = 5", "x.toml:13: sip.keepalive_s: 5 is not 0 (off) or 10…600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := good
			if old, repl, ok := strings.Cut(tc.edit, "|"); ok {
				doc = strings.Replace(doc, old, repl, 1)
			} else {
				doc = strings.Replace(doc, `transport = "tls"`, tc.edit, 1)
				if tc.name == "unknown table" {
					doc = strings.Replace(good, "[region]\ncountry = \"de\"", tc.edit, 1)
				}
			}
			_, err := Parse("x.toml", []byte(doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "x.toml" || ce.Line == 0 {
				t.Fatalf("error %#v does not carry file and line", err)
			}
		})
	}
}

func TestNewerVersionRejected(t *testing.T) {
	if _, err := Parse("v.toml", []byte("version = 99\n")); err == nil || !strings.Contains(err.Error(), "v.toml:1: version") {
		t.Fatalf("err = %v", err)
	}
}

func TestSaveAtomicKeepsBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tipring.toml")
	c, err := Parse("good.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	c.Lines[0].User = "2001"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Lines[0].User != "2001" || back.Lines[1].Password != "secret2" {
		t.Fatalf("reloaded %+v", back)
	}
	old, err := Load(path + ".bak")
	if err != nil || old.Lines[0].User != "1001" {
		t.Fatalf("backup: %v %+v", err, old)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v: the file holds passwords", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("left behind: %v", entries)
	}
	c.Board.Ports = 0
	if err := Save(path, c); err == nil {
		t.Fatal("invalid config saved")
	}
	if again, err := Load(path); err != nil || again.Lines[0].User != "2001" {
		t.Fatalf("failed save damaged the file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("[[line]]\nport = 1\n[[line]]\n"))
	f.Add([]byte("version = 1\n[board]\nname = \"\"\n"))
	f.Add([]byte("version = 1\n[sip]\ncodecs = [\"pcma\", \"pcma\"]\n[[line]]\nport = 2\nuser = \"a\"\ncaller_id = false\n"))
	if v1, err := os.ReadFile("testdata/v1.toml"); err == nil {
		f.Add(v1)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if errs := c.validate(); len(errs) > 0 {
			t.Fatalf("Parse accepted an invalid config: %v", errs)
		}
		// What Parse accepts, Save writes and Parse reads back the same.
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse("resaved.toml", out)
		if err != nil {
			t.Fatalf("re-parsing the saved form: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normalize(back), normalize(c)) {
			t.Fatalf("re-parsed\n%+v\nwant\n%+v\nfrom\n%s", back, c, out)
		}
	})
}

// normalize makes empty slices nil, which TOML does not tell apart.
func normalize(c Config) Config {
	c = c.clone()
	if len(c.Lines) == 0 {
		c.Lines = nil
	}
	if len(c.SIP.Codecs) == 0 {
		c.SIP.Codecs = nil
	}
	if len(c.Update.PublicKeys) == 0 {
		c.Update.PublicKeys = nil
	}
	return c
}
