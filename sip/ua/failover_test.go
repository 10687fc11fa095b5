package ua

import (
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// TestFailoverToBackupAndBack runs two Kamailio registrars. The line
// registers with the primary; when the primary stops it moves to the
// backup after two failed attempts; when the primary comes back on the
// same port it moves back within PrimaryRetry and removes its binding from
// the backup.
func TestFailoverToBackupAndBack(t *testing.T) {
	users := []kamailiotest.User{{Name: "9001", Password: "pw"}}
	primary := kamailiotest.Start(t, kamailiotest.Config{Users: users})
	backup := kamailiotest.Start(t, kamailiotest.Config{Users: users})
	a := newAgent(t, nil)
	acc := account(primary, "tcp", "9001", "pw")
	acc.Backup = backup.TCPAddr
	acc.PrimaryRetry = time.Second
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	s := waitState(t, r, 10*time.Second, "registered with the primary", isStatus(StatusRegistered))
	if s.OnBackup || s.Registrar != primary.TCPAddr {
		t.Fatalf("first registration %+v, want the primary %s", s, primary.TCPAddr)
	}
	if cs := contacts(t, primary, "9001"); len(cs) != 1 {
		t.Fatalf("primary holds %+v", cs)
	}

	if err := primary.Stop(); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, r, 10*time.Second, "registered with the backup", func(s RegState) bool {
		return s.Status == StatusRegistered && s.OnBackup && s.Err == nil
	})
	if s.Registrar != backup.TCPAddr {
		t.Errorf("on backup with registrar %q, want %s", s.Registrar, backup.TCPAddr)
	}
	if cs := contacts(t, backup, "9001"); len(cs) != 1 {
		t.Fatalf("backup holds %+v", cs)
	}

	if err := primary.Restart(); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, r, 10*time.Second, "back with the primary", func(s RegState) bool {
		return s.Status == StatusRegistered && !s.OnBackup
	})
	if s.Registrar != primary.TCPAddr {
		t.Errorf("back with registrar %q, want %s", s.Registrar, primary.TCPAddr)
	}
	if cs := contacts(t, primary, "9001"); len(cs) != 1 {
		t.Fatalf("restarted primary holds %+v", cs)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(contacts(t, backup, "9001")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("binding left on the backup: %+v", contacts(t, backup, "9001"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
