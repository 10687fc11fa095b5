//go:build imagetest

// The boot test: the built image, booted under qemu-system-aarch64, serves
// Tipring's web page. It needs the image (make image) and runs only with
// the build tag imagetest, which `make image-test` sets; `make test` never
// compiles it.
//
//	TIPRING_IMAGE          the image (default build/image/tipring-arm64.img)
//	TIPRING_IMAGE_TIMEOUT  longest wait for one boot (default 8m)
//	TIPRING_IMAGE_LOGDIR   where to keep each boot's serial console log
//
// Every boot runs on a copy of the image in a temporary directory: the
// shipped image is only read. The copy's root partition gets what the test
// needs through debugfs (no loop device, no mount), the kernel and initrd
// come out of its /boot the same way, and cmdline.txt from its boot
// partition through mtools. QEMU's user network is restricted (the guest
// reaches nothing) and forwards one loopback port to the guest's 8443; the
// test starts QEMU with -pidfile and kills exactly that process.

package image

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// simDropIn selects the simulated board for the test boot: a drop-in on the
// copy's root partition, the shipped configuration file unchanged.
const simDropIn = `# Written by tools/image/boot_test.go into a copy of the image.
[Service]
ExecStart=
ExecStart=/usr/bin/tipring -config /etc/tipring/tipring.toml -board sim
`

// alsaUnit runs hal/alsa's kernel loopback test once at boot, its output on
// the console.
const alsaUnit = `# Written by tools/image/boot_test.go into a copy of the image.
[Unit]
Description=hal/alsa against the kernel's snd-aloop (image test)
After=systemd-modules-load.service

[Service]
Type=oneshot
ExecStartPre=-/usr/sbin/modprobe snd-aloop
ExecStart=/usr/local/bin/alsa.test -test.run TestLoopbackKernel -test.v -test.count=1
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`

// TestALSALoopbackInGuest runs hal/alsa's TestLoopbackKernel inside the
// booted image, whose Debian kernel has snd-aloop: the ALSA layer's ioctls
// against the kernel's own loopback card, on arm64, where this machine's
// container kernel has no sound modules to load.
func TestALSALoopbackInGuest(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "alsa.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./hal/alsa")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c ./hal/alsa for arm64: %v\n%s", err, out)
	}
	vm := boot(t, "alsa", func(img string, root Partition) {
		unit := filepath.Join(t.TempDir(), "alsa-image-test.service")
		if err := os.WriteFile(unit, []byte(alsaUnit), 0o644); err != nil {
			t.Fatal(err)
		}
		debugfsWrite(t, img, root, []string{
			"write " + bin + " /usr/local/bin/alsa.test",
			"set_inode_field /usr/local/bin/alsa.test mode 0100755",
			"write " + unit + " /etc/systemd/system/alsa-image-test.service",
			"symlink /etc/systemd/system/multi-user.target.wants/alsa-image-test.service /etc/systemd/system/alsa-image-test.service",
		})
	})
	vm.waitConsole(t, `--- (PASS|FAIL|SKIP): TestLoopbackKernel`, 8*time.Minute)
	if !strings.Contains(vm.console.String(), "--- PASS: TestLoopbackKernel") {
		t.Errorf("TestLoopbackKernel did not pass in the guest:\n%s", tail(vm.console.String(), 60))
	}
}

// TestBootSim boots with the simulated board and waits for the first-visit
// setup page over HTTPS.
func TestBootSim(t *testing.T) {
	vm := boot(t, "sim", func(img string, root Partition) {
		dropIn := filepath.Join(t.TempDir(), "50-image-test.conf")
		if err := os.WriteFile(dropIn, []byte(simDropIn), 0o644); err != nil {
			t.Fatal(err)
		}
		debugfsWrite(t, img, root, []string{
			"mkdir /etc/systemd/system/tipring.service.d",
			"write " + dropIn + " /etc/systemd/system/tipring.service.d/50-image-test.conf",
		})
	})
	body, took := vm.waitPage(t, "/")
	if !strings.Contains(body, "has no admin password yet") {
		t.Fatalf("the first page is not the setup page:\n%s", body)
	}
	t.Logf("boot to web page (setup page over HTTPS): %s", took.Round(100*time.Millisecond))
	vm.waitConsole(t, `tipring up.*board=sim`, time.Minute)
	vm.waitConsole(t, `set-hostname: tipring-123456`, 5*time.Second) // QEMU's MAC 52:54:00:12:34:56
	vm.reportFailedUnits(t)
}

// TestBootRealBoard boots the shipped configuration (board rpi-si3215) on
// a machine without the chips: the gateway keeps its page up and says on
// the status page, and in the log, that the board failed. Setting the admin
// password on the way shows the data partition is writable; reading it
// back after QEMU is killed shows the save survived the "power cut".
func TestBootRealBoard(t *testing.T) {
	vm := boot(t, "rpi-si3215", nil)
	body, took := vm.waitPage(t, "/setup")
	if !strings.Contains(body, "has no admin password yet") {
		t.Fatalf("no setup page:\n%s", body)
	}
	t.Logf("boot to web page (setup page over HTTPS): %s", took.Round(100*time.Millisecond))
	const pw = "correct horse battery staple"
	status := vm.setPasswordAndGet(t, pw, "/")
	if !strings.Contains(status, "The board did not come up") {
		t.Fatalf("the status page does not say the board failed:\n%s", status)
	}
	m := regexp.MustCompile(`The board did not come up[^<]*`).FindString(status)
	t.Logf("status page: %s", m)
	vm.waitConsole(t, `board failed.*board=rpi-si3215`, 30*time.Second)
	vm.reportFailedUnits(t)

	vm.kill(t) // no shutdown: as if the power went
	// e2fsck cannot replay a journal inside an image (it re-opens the file
	// without the offset), so check a copy of the partition by itself.
	dataImg := filepath.Join(t.TempDir(), "data.ext4")
	extract(t, vm.img, vm.layout.Parts[2], dataImg)
	data := Partition{Start: 0, Size: vm.layout.Parts[2].Size}
	fsck := exec.Command("e2fsck", "-fy", dataImg)
	if out, err := fsck.CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() > 1 { // 1: errors corrected (journal replayed)
			t.Fatalf("e2fsck on the data partition after the power cut: %v\n%s", err, out)
		}
	} else {
		t.Logf("e2fsck: %s", bytes.TrimSpace(out))
	}
	cfg := debugfsCat(t, dataImg, data, "/etc/tipring/tipring.toml")
	if !strings.Contains(cfg, "admin_password_hash") || !strings.Contains(cfg, "rpi-si3215") {
		t.Fatalf("the saved configuration did not survive the power cut:\n%s", cfg)
	}
	t.Log("data partition after the power cut: clean, the admin password saved")
}

// vm is one running QEMU.
type vm struct {
	img     string
	layout  Layout
	port    int
	cmd     *exec.Cmd
	pidfile string
	console *syncBuffer
	started time.Time
	done    chan error
	timeout time.Duration
	client  *http.Client
	killed  bool
}

// boot copies the image, lets prepare change the copy's root partition,
// and starts QEMU on it.
func boot(t *testing.T, name string, prepare func(img string, root Partition)) *vm {
	t.Helper()
	src := os.Getenv("TIPRING_IMAGE")
	if src == "" {
		src = "../../build/image/tipring-arm64.img"
	}
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("no image: %v (make image)", err)
	}
	for _, tool := range []string{"qemu-system-aarch64", "debugfs", "mtype", "e2fsck"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (make image-test installs it)", tool)
		}
	}
	timeout := 8 * time.Minute
	if s := os.Getenv("TIPRING_IMAGE_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		timeout = d
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	if err := CopyFile(img, src); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := ReadMBR(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(layout.Parts) != 3 || layout.Parts[0].Type != TypeFAT32LBA {
		t.Fatalf("unexpected partition table: %+v", layout)
	}
	bootPart, root := layout.Parts[0], layout.Parts[1]
	if prepare != nil {
		prepare(img, root)
	}

	// The image's own kernel and initrd, from the root's /boot.
	var kernel, initrd string
	for _, n := range debugfsList(t, img, root, "/boot") {
		switch {
		case strings.HasPrefix(n, "vmlinuz-"):
			kernel = n
		case strings.HasPrefix(n, "initrd.img-"):
			initrd = n
		}
	}
	if kernel == "" || initrd == "" {
		t.Fatalf("no vmlinuz-* or initrd.img-* in the image's /boot")
	}
	debugfsDump(t, img, root, "/boot/"+kernel, filepath.Join(dir, "vmlinuz"))
	debugfsDump(t, img, root, "/boot/"+initrd, filepath.Join(dir, "initrd"))

	// The image's own cmdline.txt (root=LABEL=…, ro, net.ifnames=0), with
	// QEMU's serial port for the Pi's consoles and the journal copied to
	// it, so that the test sees the gateway's log.
	out, err := exec.Command("mtype", "-i", fmt.Sprintf("%s@@%d", img, bootPart.Start), "::cmdline.txt").Output()
	if err != nil {
		t.Fatalf("reading cmdline.txt from the boot partition: %v", err)
	}
	var args []string
	for _, a := range strings.Fields(string(out)) {
		if !strings.HasPrefix(a, "console=") && !strings.HasPrefix(a, "cma=") {
			args = append(args, a)
		}
	}
	if !slicesContains(args, "root=LABEL=tipring-root") || !slicesContains(args, "ro") {
		t.Errorf("cmdline.txt: %s", out)
	}
	args = append(args, "console=ttyAMA0", "panic=-1", "systemd.journald.forward_to_console=1")

	v := &vm{img: img, layout: layout, port: freePort(t), pidfile: filepath.Join(dir, "qemu.pid"),
		console: &syncBuffer{}, done: make(chan error, 1), timeout: timeout}
	jar, _ := cookiejar.New(nil)
	v.client = &http.Client{
		Timeout: 15 * time.Second,
		Jar:     jar,
		Transport: &http.Transport{
			// The gateway's certificate is self-signed, made on its first
			// start: nothing to verify it against. Only this test skips
			// the check; a browser asks its user once.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
	}
	v.cmd = exec.Command("qemu-system-aarch64",
		"-M", "virt", "-cpu", "cortex-a53", "-smp", "2", "-m", "1024",
		"-nographic", "-no-reboot", "-monitor", "none",
		"-kernel", filepath.Join(dir, "vmlinuz"), "-initrd", filepath.Join(dir, "initrd"),
		"-append", strings.Join(args, " "),
		"-drive", "file="+img+",format=raw,if=none,id=disk,cache=unsafe",
		"-device", "virtio-blk-pci,drive=disk",
		"-netdev", fmt.Sprintf("user,id=net,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:%d-:8443", v.port),
		"-device", "virtio-net-pci,netdev=net",
		"-device", "virtio-rng-pci",
		"-pidfile", v.pidfile,
	)
	var console io.Writer = v.console
	if d := os.Getenv("TIPRING_IMAGE_LOGDIR"); d != "" {
		// The console as it comes, to watch a slow boot: tail -f.
		p := filepath.Join(d, "image-test-"+name+".console.log")
		if f, err := os.Create(p); err == nil {
			t.Cleanup(func() { f.Close() })
			console = io.MultiWriter(v.console, f)
			t.Logf("serial console: %s", p)
		}
	}
	v.cmd.Stdout, v.cmd.Stderr = console, console
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // the test dying takes QEMU along
	t.Logf("%s: qemu %s", name, strings.Join(v.cmd.Args[1:], " "))
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { v.done <- v.cmd.Wait() }()
	t.Cleanup(func() {
		v.kill(t)
		if t.Failed() {
			t.Logf("serial console, last lines:\n%s", tail(v.console.String(), 60))
		}
	})
	return v
}

// kill stops QEMU: the process whose pid is in the pidfile, which must be
// the one this test started.
func (v *vm) kill(t *testing.T) {
	if v.killed {
		return
	}
	v.killed = true
	pid := v.cmd.Process.Pid
	if b, err := os.ReadFile(v.pidfile); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p != pid {
			t.Errorf("pidfile says %d, the test started %d: killing only %d", p, pid, pid)
		}
	}
	select {
	case <-v.done: // already gone
		return
	default:
	}
	_ = v.cmd.Process.Kill()
	select {
	case <-v.done:
	case <-time.After(30 * time.Second):
		t.Errorf("qemu (pid %d) did not exit after SIGKILL", pid)
	}
}

// waitPage polls https://127.0.0.1:PORT/path until it answers 200, QEMU
// exits or the boot timeout passes; it returns the page and the time since
// QEMU started.
func (v *vm) waitPage(t *testing.T, path string) (string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), v.started.Add(v.timeout))
	defer cancel()
	u := fmt.Sprintf("https://127.0.0.1:%d%s", v.port, path)
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := v.client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b), time.Since(v.started)
			}
			err = fmt.Errorf("%s: %s", u, resp.Status)
		}
		last = err
		if m := bootFailure.FindString(v.console.String()); m != "" {
			t.Fatalf("the boot failed: %q on the console", m)
		}
		select {
		case err := <-v.done:
			v.done <- err
			t.Fatalf("qemu exited (%v) before the page answered; last: %v", err, last)
		case <-ctx.Done():
			t.Fatalf("no web page within %s; last: %v", v.timeout, last)
		case <-time.After(2 * time.Second):
		}
	}
}

// bootFailure matches console lines after which the page will not come.
var bootFailure = regexp.MustCompile(`You are in emergency mode|Kernel panic[^\n]*|Gave up waiting for root[^\n]*|ALERT! [^\n]*`)

// setPasswordAndGet fills in the first-visit form as a browser would (the
// csrf field and cookie from the form, Sec-Fetch-Site same-origin) and
// then fetches path with the session it gets.
func (v *vm) setPasswordAndGet(t *testing.T, pw, path string) string {
	t.Helper()
	base := fmt.Sprintf("https://127.0.0.1:%d", v.port)
	resp, err := v.client.Get(base + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]*)"`).FindSubmatch(form)
	if m == nil {
		t.Fatalf("no csrf field in the setup form:\n%s", form)
	}
	vals := url.Values{"csrf": {string(m[1])}, "password": {pw}, "confirm": {pw}}
	req, _ := http.NewRequest(http.MethodPost, base+"/setup", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", base)
	resp, err = v.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("setting the password: %s at %s:\n%s", resp.Status, resp.Request.URL, b)
	}
	if path == "/" {
		return string(b)
	}
	resp, err = v.client.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	return string(b)
}

// waitConsole waits for a line matching expr on the serial console.
func (v *vm) waitConsole(t *testing.T, expr string, within time.Duration) {
	t.Helper()
	re := regexp.MustCompile(expr)
	deadline := time.Now().Add(within)
	for {
		if l := re.FindString(v.console.String()); l != "" {
			t.Logf("console: %s", l)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("no console line matching %q within %s", expr, within)
			return
		}
		time.Sleep(time.Second)
	}
}

// reportFailedUnits logs systemd's [FAILED] lines from the console.
func (v *vm) reportFailedUnits(t *testing.T) {
	sc := bufio.NewScanner(strings.NewReader(v.console.String()))
	n := 0
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, "FAILED") {
			t.Logf("console: %s", strings.TrimSpace(l))
			n++
		}
	}
	t.Logf("%d [FAILED] lines on the console", n)
}

// partSpec names a partition inside an image for e2fsprogs (debugfs and
// e2fsck read "file?offset=N").
func partSpec(img string, p Partition) string { return fmt.Sprintf("%s?offset=%d", img, p.Start) }

func debugfs(t *testing.T, write bool, img string, p Partition, cmds []string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "debugfs.cmds")
	if err := os.WriteFile(f, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", f}
	if write {
		args = append([]string{"-w"}, args...)
	}
	args = append(args, partSpec(img, p))
	cmd := exec.Command("debugfs", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("debugfs %v: %v\n%s", cmds, err, stderr.String())
	}
	// debugfs reports failures of single commands on stderr only.
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "debugfs ") && !strings.HasPrefix(l, "Allocated inode") {
			t.Fatalf("debugfs %v: %s", cmds, stderr.String())
		}
	}
	return string(out)
}

func debugfsWrite(t *testing.T, img string, p Partition, cmds []string) {
	debugfs(t, true, img, p, cmds)
}

func debugfsDump(t *testing.T, img string, p Partition, path, out string) {
	debugfs(t, false, img, p, []string{"dump " + path + " " + out})
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Fatalf("debugfs could not dump %s", path)
	}
}

func debugfsCat(t *testing.T, img string, p Partition, path string) string {
	return debugfs(t, false, img, p, []string{"cat " + path})
}

// debugfsList lists a directory's entries (ls -p: /inode/mode/uid/gid/name/size/).
func debugfsList(t *testing.T, img string, p Partition, dir string) []string {
	var names []string
	for _, l := range strings.Split(debugfs(t, false, img, p, []string{"ls -p " + dir}), "\n") {
		if f := strings.Split(l, "/"); len(f) >= 7 && f[5] != "." && f[5] != ".." {
			names = append(names, f[5])
		}
	}
	return names
}

// extract copies partition p of img into the file out.
func extract(t *testing.T, img string, p Partition, out string) {
	t.Helper()
	in, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.NewSectionReader(in, p.Start, p.Size)); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is QEMU's console output, read while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
