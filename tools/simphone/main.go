// Command simphone drives the virtual phones of a Tipring gateway running on
// the simulated board, through the simulated-board API on its web listener.
//
//	simphone [-addr http://127.0.0.1:8080] lines
//	simphone hook 1 off|on|flash
//	simphone dial 1 5551234#          (DTMF; -pulse for rotary)
//	simphone say 1 hello.wav          (8 kHz mono 16-bit WAV into the mouthpiece)
//	simphone heard 1 2000 > x.wav     (the last 2000 ms at the earpiece)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: simphone [-addr URL] COMMAND
  lines                     the state of every virtual phone (JSON)
  hook PORT off|on|flash    lift, replace or flash the handset
  dial [-pulse] PORT DIGITS dial with DTMF tones, or pulses with -pulse
  say PORT FILE.wav         speak a WAV file (8 kHz mono 16-bit) into the mouthpiece
  heard PORT MS             write a WAV of the last MS milliseconds at the earpiece to stdout
`

var errUsage = errors.New("bad usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simphone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("SIMPHONE_ADDR", "http://127.0.0.1:8080"), "the gateway's web listener")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c := &client{base: *addr, http: &http.Client{Timeout: 2 * time.Minute}}
	err := c.do(ctx, fs.Args(), stdout)
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "simphone: %v\n", err)
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "simphone: %v\n", err)
		return 1
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type client struct {
	base string
	http *http.Client
}

func (c *client) do(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "lines":
		return c.call(ctx, http.MethodGet, "/api/sim/lines", nil, "", stdout)
	case "hook":
		if len(args) != 2 {
			return fmt.Errorf("%w: hook PORT off|on|flash", errUsage)
		}
		return c.post(ctx, args[0], "hook", map[string]string{"state": args[1]}, stdout)
	case "dial":
		fs := flag.NewFlagSet("dial", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		pulse := fs.Bool("pulse", false, "")
		if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
			return fmt.Errorf("%w: dial [-pulse] PORT DIGITS", errUsage)
		}
		method := "dtmf"
		if *pulse {
			method = "pulse"
		}
		return c.post(ctx, fs.Arg(0), "dial", map[string]string{"digits": fs.Arg(1), "method": method}, stdout)
	case "say":
		if len(args) != 2 {
			return fmt.Errorf("%w: say PORT FILE.wav", errUsage)
		}
		if err := checkPort(args[0]); err != nil {
			return err
		}
		body, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		return c.call(ctx, http.MethodPost, "/api/sim/lines/"+args[0]+"/say", body, "audio/wav", stdout)
	case "heard":
		if len(args) != 2 {
			return fmt.Errorf("%w: heard PORT MS", errUsage)
		}
		if err := checkPort(args[0]); err != nil {
			return err
		}
		if _, err := strconv.Atoi(args[1]); err != nil {
			return fmt.Errorf("%w: MS must be a number", errUsage)
		}
		return c.call(ctx, http.MethodGet, "/api/sim/lines/"+args[0]+"/heard?ms="+url.QueryEscape(args[1]), nil, "", stdout)
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

func checkPort(s string) error {
	if n, err := strconv.Atoi(s); err != nil || n < 1 {
		return fmt.Errorf("%w: PORT must be a number from 1", errUsage)
	}
	return nil
}

func (c *client) post(ctx context.Context, port, what string, body any, stdout io.Writer) error {
	if err := checkPort(port); err != nil {
		return err
	}
	b, _ := json.Marshal(body)
	return c.call(ctx, http.MethodPost, "/api/sim/lines/"+port+"/"+what, b, "application/json", stdout)
}

// call performs one request and copies a successful response to stdout.
func (c *client) call(ctx context.Context, method, path string, body []byte, ctype string, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, path, e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	_, err = io.Copy(stdout, resp.Body)
	return err
}
