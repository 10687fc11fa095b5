// Package simapi serves the simulated-board control API of DESIGN.md: JSON
// over HTTP to lift and replace the virtual handsets, dial, speak into the
// mouthpiece and fetch what the earpiece heard. It exists only with the
// simulated board and answers only clients on the loopback interface.
//
//	GET  /api/sim/lines                      one object per port
//	POST /api/sim/lines/{port}/hook          {"state":"off"|"on"|"flash"}
//	POST /api/sim/lines/{port}/dial          {"digits":"5551234#","method":"dtmf"|"pulse"}
//	POST /api/sim/lines/{port}/say           body: WAV, 8 kHz mono 16-bit
//	GET  /api/sim/lines/{port}/heard?ms=N    WAV of the last N ms at the earpiece
package simapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/tipring/tipring/board/sim"
	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/wav"
)

// Limits on request bodies.
const (
	maxJSON    = 64 << 10
	maxWAV     = 44 + 2*dsp.SampleRate*600 // ten minutes
	maxHeardMS = 20000
)

// Phones is what the API needs of a simulated board.
type Phones interface {
	Phones() []*sim.Phone
}

// Handler returns the API for the board's phones.
func Handler(b Phones, log *slog.Logger) http.Handler {
	a := &api{b: b, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sim/lines", a.lines)
	mux.HandleFunc("POST /api/sim/lines/{port}/hook", a.hook)
	mux.HandleFunc("POST /api/sim/lines/{port}/dial", a.dial)
	mux.HandleFunc("POST /api/sim/lines/{port}/say", a.say)
	mux.HandleFunc("GET /api/sim/lines/{port}/heard", a.heard)
	return loopbackOnly(mux)
}

type api struct {
	b   Phones
	log *slog.Logger
}

// loopbackOnly refuses clients that are not on this machine, and requests
// that a browser made on behalf of another web site (a page elsewhere must
// not be able to lift a handset on the simulated board).
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !ip.Unmap().IsLoopback() {
			httpError(w, http.StatusForbidden, "the simulated-board API answers loopback clients only")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			httpError(w, http.StatusForbidden, "cross-site requests are refused")
			return
		}
		h.ServeHTTP(w, r)
	})
}

type errorBody struct {
	Error string `json:"error"`
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (a *api) phone(w http.ResponseWriter, r *http.Request) *sim.Phone {
	phones := a.b.Phones()
	n, err := strconv.Atoi(r.PathValue("port"))
	if err != nil || n < 1 || n > len(phones) {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no port %q: ports are 1…%d", r.PathValue("port"), len(phones)))
		return nil
	}
	return phones[n-1]
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

func (a *api) lines(w http.ResponseWriter, r *http.Request) {
	phones := a.b.Phones()
	out := make([]sim.PhoneState, len(phones))
	for i, p := range phones {
		out[i] = p.State()
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) hook(w http.ResponseWriter, r *http.Request) {
	p := a.phone(w, r)
	if p == nil {
		return
	}
	var req struct {
		State string `json:"state"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	a.reply(w, p.HookAction(r.Context(), req.State), p)
}

func (a *api) dial(w http.ResponseWriter, r *http.Request) {
	p := a.phone(w, r)
	if p == nil {
		return
	}
	var req struct {
		Digits string `json:"digits"`
		Method string `json:"method"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	var pulse bool
	switch req.Method {
	case "", "dtmf":
	case "pulse":
		pulse = true
	default:
		httpError(w, http.StatusBadRequest, fmt.Sprintf("method %q is not dtmf or pulse", req.Method))
		return
	}
	a.reply(w, p.Dial(r.Context(), req.Digits, pulse), p)
}

func (a *api) say(w http.ResponseWriter, r *http.Request) {
	p := a.phone(w, r)
	if p == nil {
		return
	}
	audio, err := wav.Decode(http.MaxBytesReader(w, r.Body, maxWAV))
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if audio.Rate != dsp.SampleRate {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("sample rate %d Hz, want %d", audio.Rate, dsp.SampleRate))
		return
	}
	a.reply(w, p.Say(audio.Samples), p)
}

func (a *api) heard(w http.ResponseWriter, r *http.Request) {
	p := a.phone(w, r)
	if p == nil {
		return
	}
	ms := 1000
	if s := r.URL.Query().Get("ms"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxHeardMS {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("ms must be 1…%d", maxHeardMS))
			return
		}
		ms = n
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "no-store")
	if err := wav.Encode(w, wav.Audio{Rate: dsp.SampleRate, Samples: p.Heard(ms)}); err != nil {
		a.log.Debug("sim heard: client went away", "err", err)
	}
}

// reply answers a state-changing request with the phone's new state, or the
// error mapped to a status code.
func (a *api) reply(w http.ResponseWriter, err error, p *sim.Phone) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, p.State())
	case errors.Is(err, sim.ErrBusy), errors.Is(err, sim.ErrOnHook):
		httpError(w, http.StatusConflict, err.Error())
	case errors.Is(err, sim.ErrBadDigit), errors.Is(err, sim.ErrAction), errors.Is(err, io.ErrUnexpectedEOF):
		httpError(w, http.StatusBadRequest, err.Error())
	default:
		httpError(w, http.StatusInternalServerError, err.Error())
	}
}
