package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/tipring/tipring/sip/siptest/testca"
)

// The load generator starts its own Kamailio rather than calling
// kamailiotest.Start, which wants a testing.TB: a registrar and proxy with
// no authentication (the digest exchange is the tests' business, not the
// load's), UDP and TCP on one port, TLS on another, a throwaway CA.

const kamailioBinary = "/usr/sbin/kamailio"

var kamailioCfg = template.Must(template.New("cfg").Parse(`#!KAMAILIO
# Written by tools/loadgen; loopback only.
debug=1
log_stderror=yes
children={{.Children}}
tcp_children={{.Children}}
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:{{.Port}}
listen=tcp:127.0.0.1:{{.Port}}
listen=tls:127.0.0.1:{{.TLSPort}}
enable_tls=yes
tcp_connection_lifetime=3605
tcp_max_connections=4096

mpath="{{.Modules}}"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "tls.so"
modparam("tls", "config", "{{.Dir}}/tls.cfg")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			t_relay();
			exit;
		}
		if (is_method("ACK") && t_check_trans()) {
			t_relay();
		}
		exit;
	}
	if (is_method("CANCEL") || is_method("ACK")) {
		if (t_check_trans()) {
			t_relay();
		}
		exit;
	}
	if (is_method("REGISTER")) {
		if (!save("location")) {
			sl_reply_error();
		}
		exit;
	}
	if (is_method("OPTIONS") && $rU == $null) {
		sl_send_reply("200", "OK");
		exit;
	}
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}
	if (is_method("INVITE")) {
		record_route();
	}
	if (!t_relay()) {
		sl_reply_error();
	}
}
`))

const tlsCfg = `[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = %[1]s/server.key
certificate = %[1]s/server.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`

// kamailio is a running registrar.
type kamailio struct {
	UDPAddr, TLSAddr string
	CAFile           string
	cmd              *exec.Cmd
	log              bytes.Buffer
	done             chan struct{}
}

func kamailioModules() (string, error) {
	for _, pattern := range []string{"/usr/lib/*/kamailio/modules", "/usr/lib/kamailio/modules"} {
		dirs, _ := filepath.Glob(pattern)
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "tls.so")); err == nil {
				return d, nil
			}
		}
	}
	return "", errors.New("kamailio with its tls module is not installed (Debian kamailio, kamailio-tls-modules)")
}

// startKamailio starts Kamailio in dir, with a server certificate from ca.
func startKamailio(dir string, ca *testca.CA, children int) (*kamailio, error) {
	modules, err := kamailioModules()
	if err != nil {
		return nil, err
	}
	port, err := freePort("udp+tcp")
	if err != nil {
		return nil, err
	}
	tlsPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	leaf, err := ca.Loopback()
	if err != nil {
		return nil, err
	}
	if _, _, err := leaf.WriteFiles(dir, "server"); err != nil {
		return nil, err
	}
	caFile, err := ca.WriteFiles(dir, "ca.pem")
	if err != nil {
		return nil, err
	}
	var cfg bytes.Buffer
	if err := kamailioCfg.Execute(&cfg, map[string]any{"Port": port, "TLSPort": tlsPort, "Modules": modules, "Dir": dir, "Children": children}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "kamailio.cfg"), cfg.Bytes(), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.cfg"), fmt.Appendf(nil, tlsCfg, dir), 0o600); err != nil {
		return nil, err
	}
	runDir := filepath.Join(dir, "run")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, err
	}
	k := &kamailio{
		UDPAddr: fmt.Sprintf("127.0.0.1:%d", port),
		TLSAddr: fmt.Sprintf("127.0.0.1:%d", tlsPort),
		CAFile:  caFile,
		done:    make(chan struct{}),
	}
	k.cmd = exec.Command(kamailioBinary, "-f", filepath.Join(dir, "kamailio.cfg"), "-DD", "-E", "-m", "64", "-M", "8",
		"-Y", runDir, "-P", filepath.Join(dir, "kamailio.pid"))
	k.cmd.Dir = dir
	k.cmd.Stdout, k.cmd.Stderr = &lockedWriter{w: &k.log}, &lockedWriter{w: &k.log}
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := k.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = k.cmd.Wait(); close(k.done) }()
	if err := k.waitReady(); err != nil {
		k.stop()
		return nil, fmt.Errorf("%w\n%s", err, k.log.String())
	}
	return k, nil
}

// waitReady probes with OPTIONS over UDP until Kamailio answers 200.
func (k *kamailio) waitReady() error {
	c, err := net.Dial("udp", k.UDPAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-k.done:
			return errors.New("kamailio exited during start-up")
		default:
		}
		fmt.Fprintf(c, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-lg%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:probe@127.0.0.1>;tag=lg\r\nTo: <sip:%s>\r\nCall-ID: loadgen-probe-%d\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n",
			k.UDPAddr, c.LocalAddr(), i, k.UDPAddr, i, i+1)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
			return nil
		} else if err != nil && !strings.Contains(err.Error(), "timeout") {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return errors.New("kamailio did not answer OPTIONS within 15 s")
}

// pids lists Kamailio's processes: its process group.
func (k *kamailio) pids() []int { return groupPids(k.cmd.Process.Pid) }

// stop ends exactly the process group this program started.
func (k *kamailio) stop() {
	pid := k.cmd.Process.Pid
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-k.done
	}
}

// freePort returns a free port of 127.0.0.1 for "tcp", "udp" or both.
func freePort(kind string) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if kind == "tcp" {
			l.Close()
			return port, nil
		}
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, errors.New("no free port")
}
