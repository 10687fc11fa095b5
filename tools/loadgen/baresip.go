package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tipring/tipring/dsp/wav"
)

// The comparison: the same G.711 calls carried by baresip, one process
// per user agent (as one phone line each), callees registered with the
// same Kamailio and answering at once, callers dialling through it, the
// audio a tone from a WAV file (aufile). baresip's CPU is summed over all
// its processes and reported per call per second, as for the gateway.

const (
	baresipBinary  = "/usr/bin/baresip"
	baresipModules = "/usr/lib/baresip/modules"
)

type baresipUA struct {
	cmd  *exec.Cmd
	out  *lockedWriter
	buf  *bytes.Buffer
	ctrl string
	done chan struct{}
}

func (u *baresipUA) output() string {
	u.out.mu.Lock()
	defer u.out.mu.Unlock()
	return u.buf.String()
}

func startBaresip(dir, user, registrar string, callee bool, tone string) (*baresipUA, error) {
	// baresip listens on UDP and TCP at sip_listen and on TLS at the
	// next port.
	var sipPort int
	for range 20 {
		p, err := freePort("udp+tcp")
		if err != nil {
			return nil, err
		}
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1)); err == nil {
			l.Close()
			sipPort = p
			break
		}
	}
	if sipPort == 0 {
		return nil, fmt.Errorf("no free port pair for baresip")
	}
	ctrlPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	rtpPort, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	rtpPort &^= 1
	var conf strings.Builder
	fmt.Fprintf(&conf, "sip_listen\t127.0.0.1:%d\n", sipPort)
	fmt.Fprintf(&conf, "audio_source\taufile,%s\n", tone)
	fmt.Fprintf(&conf, "audio_alert\taufile,%s\n", filepath.Join(dir, "none.wav"))
	fmt.Fprintf(&conf, "module_path\t%s\n", baresipModules)
	for _, m := range []string{"g711.so", "aufile.so", "ctrl_tcp.so", "menu.so"} {
		fmt.Fprintf(&conf, "module\t%s\n", m)
	}
	fmt.Fprintf(&conf, "module_app\taccount.so\n")
	fmt.Fprintf(&conf, "ctrl_tcp_listen\t127.0.0.1:%d\n", ctrlPort)
	fmt.Fprintf(&conf, "rtp_ports\t%d-%d\n", rtpPort, rtpPort+10)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	acc := fmt.Sprintf("<sip:%s@%s;transport=udp>;regint=0;audio_codecs=PCMU", user, registrar)
	if callee {
		acc = fmt.Sprintf("<sip:%s@%s;transport=udp>;regint=3600;answermode=auto;audio_codecs=PCMU", user, registrar)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acc+"\n"), 0o600); err != nil {
		return nil, err
	}
	u := &baresipUA{buf: new(bytes.Buffer), ctrl: "127.0.0.1:" + strconv.Itoa(ctrlPort), done: make(chan struct{})}
	u.out = &lockedWriter{w: u.buf}
	u.cmd = exec.Command(baresipBinary, "-f", dir, "-n", "127.0.0.1")
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	u.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := u.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = u.cmd.Wait(); close(u.done) }()
	return u, nil
}

func (u *baresipUA) stop() {
	_ = u.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-u.done:
	case <-time.After(3 * time.Second):
		_ = u.cmd.Process.Kill()
		<-u.done
	}
}

// command sends one ctrl_tcp command (a netstring of JSON).
func (u *baresipUA) command(cmd, params string) error {
	c, err := net.DialTimeout("tcp", u.ctrl, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	body, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "1"})
	if _, err := fmt.Fprintf(c, "%d:%s,", len(body), body); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	for {
		n, err := r.ReadString(':')
		if err != nil {
			return err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(n, ":")))
		if err != nil {
			return err
		}
		b := make([]byte, size+1)
		if _, err := r.Read(b); err != nil {
			return err
		}
		var m map[string]any
		if json.Unmarshal(b[:size], &m) == nil && m["token"] == "1" {
			if ok, _ := m["ok"].(bool); !ok {
				return fmt.Errorf("%s %s: %v", cmd, params, m["data"])
			}
			return nil
		}
	}
}

func runBaresip(ctx context.Context, dir string, kam *kamailio, n int, hold time.Duration) (*result, error) {
	if _, err := os.Stat(filepath.Join(baresipModules, "ctrl_tcp.so")); err != nil {
		return nil, fmt.Errorf("baresip with ctrl_tcp is not installed (Debian baresip)")
	}
	res := &result{Peer: "baresip", Lines: n, CallsWanted: n / 2, LoadBefore: loadavg()}
	bdir := mkdir(dir, "baresip")
	// A tone longer than the run: aufile plays its file once.
	secs := hold.Seconds() + 60
	x := make([]int16, int(secs*8000))
	for i := range x {
		x[i] = int16(2300 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	tone := filepath.Join(bdir, "tone.wav")
	var b bytes.Buffer
	_ = wav.Encode(&b, wav.Audio{Rate: 8000, Samples: x})
	if err := os.WriteFile(tone, b.Bytes(), 0o600); err != nil {
		return nil, err
	}
	var uas []*baresipUA
	defer func() {
		for _, u := range uas {
			u.stop()
		}
	}()
	callees := make([]*baresipUA, n/2)
	callers := make([]*baresipUA, n/2)
	for k := range n / 2 {
		u, err := startBaresip(mkdir(bdir, fmt.Sprintf("callee%d", k)), strconv.Itoa(2000+k), kam.UDPAddr, true, tone)
		if err != nil {
			return nil, err
		}
		callees[k] = u
		uas = append(uas, u)
		u, err = startBaresip(mkdir(bdir, fmt.Sprintf("caller%d", k)), strconv.Itoa(3000+k), kam.UDPAddr, false, tone)
		if err != nil {
			return nil, err
		}
		callers[k] = u
		uas = append(uas, u)
	}
	// Wait for the callees' registrations and the callers' control ports.
	deadline := time.Now().Add(30 * time.Second)
	for k := range n / 2 {
		for !strings.Contains(callees[k].output(), "200 OK") || !strings.Contains(callers[k].output(), "baresip is ready") {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("baresip pair %d not ready:\n%s\n%s", k, callees[k].output(), callers[k].output())
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	for k := range n / 2 {
		if err := callers[k].command("dial", fmt.Sprintf("sip:%d@%s", 2000+k, kam.UDPAddr)); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: baresip dial %d: %v\n", k, err)
		}
	}
	time.Sleep(3 * time.Second)
	established := func() int {
		c := 0
		for k := range n / 2 {
			if strings.Contains(strings.ToLower(callers[k].output()), "established") {
				c++
			}
		}
		return c
	}
	res.CallsEstablished = established()
	res.CallsFailed = res.CallsWanted - res.CallsEstablished
	fmt.Fprintf(os.Stderr, "loadgen: %d of %d baresip calls up; holding %v\n", res.CallsEstablished, res.CallsWanted, hold)
	pids := make([]int, len(uas))
	for i, u := range uas {
		pids[i] = u.cmd.Process.Pid
	}
	time.Sleep(time.Second)
	cpu0, t0 := sumCPU(pids), time.Now()
	ticker := time.NewTicker(time.Second)
	for end := t0.Add(hold); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			ticker.Stop()
			return nil, ctx.Err()
		case <-ticker.C:
			tot := 0
			for _, p := range pids {
				rss, _ := memKB(p)
				tot += rss
			}
			res.RSSMaxKB = max(res.RSSMaxKB, tot)
		}
	}
	ticker.Stop()
	cpu1, t1 := sumCPU(pids), time.Now()
	for _, p := range pids {
		rss, hwm := memKB(p)
		res.RSSKB += rss
		res.HWMKB += hwm
	}
	res.LoadAfter = loadavg()
	res.HoldSeconds = t1.Sub(t0).Seconds()
	res.CPUSeconds = cpu1 - cpu0
	closed := 0
	for k := range n / 2 {
		if strings.Contains(strings.ToLower(callers[k].output()), "closed") {
			closed++
		}
	}
	res.CallsDropped = closed
	if res.CallsEstablished > 0 {
		res.CPUPerCall = res.CPUSeconds / float64(res.CallsEstablished) / res.HoldSeconds
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d baresip processes (one per user agent); memory figures are their sums", len(pids)),
		"baresip's SIP runs over UDP, not TLS, and it has no audio player configured (the received audio is decoded into its buffer, not played)")
	return res, nil
}
