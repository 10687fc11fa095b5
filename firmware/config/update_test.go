package config

import (
	"errors"
	"strings"
	"testing"
)

// TestUpdateKeys: update.public_keys takes base64 Ed25519 public keys and
// names the one at fault; the trial timing has defaults and bounds.
func TestUpdateKeys(t *testing.T) {
	const key = "Xv6Jq1lFhq2dWQk9d0m0C6YQ6z1jv5o9N1i3M9m8Q0s=" // 32 bytes
	c, err := Parse("u.toml", []byte("[board]\nname = \"sim\"\n[update]\npublic_keys = [\""+key+"\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Update.PublicKeys) != 1 || c.Update.ConfirmS != 60 || c.Update.HealthTimeoutS != 120 {
		t.Fatalf("update = %+v", c.Update)
	}
	for _, tc := range []struct{ doc, key, want string }{
		{`public_keys = ["` + key + `", "c2hvcnQ="]`, "update.public_keys", "key 2 is not a base64 Ed25519 public key"},
		{`public_keys = ["not base64!"]`, "update.public_keys", "key 1 is not"},
		{`public_keys = ["` + key + `", "` + key + `"]`, "update.public_keys", "key 2 is already in the list"},
		{`confirm_s = 1`, "update.confirm_s", "out of range 5…3600"},
		{`health_timeout_s = 99999`, "update.health_timeout_s", "out of range 10…3600"},
	} {
		_, err := Parse("u.toml", []byte("[board]\nname = \"sim\"\n[update]\n"+tc.doc+"\n"))
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != 4 || !strings.Contains(errs[0].Msg, tc.want) {
			t.Errorf("%s: got %v, want u.toml:4: %s: …%s…", tc.doc, err, tc.key, tc.want)
		}
	}
}
