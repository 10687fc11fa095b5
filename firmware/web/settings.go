package web

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/internal/atomicfile"
	"github.com/tipring/tipring/firmware/line"
)

// notSaved heads a form that came back with problems.
const notSaved = "Nothing was saved: correct the fields marked below."

// saved is the notice after a successful save.
const saved = "Saved. The change is in force."

// ---- Lines ----

// lineRow is one port in the Lines overview.
type lineRow struct {
	Port                            int
	Configured                      bool
	User, DisplayName, Extension    string
	Registration, RegistrationError string
}

func (s *Server) linesPage(w http.ResponseWriter, r *http.Request) {
	c := s.o.Store.Get()
	status := map[int]line.Status{}
	for _, st := range s.o.Lines() {
		status[st.Port] = st
	}
	var rows []lineRow
	for p := 1; p <= c.Board.Ports; p++ {
		row := lineRow{Port: p, Extension: config.DefaultExtension(p)}
		if i := lineIndex(c, p); i >= 0 {
			l := c.Lines[i]
			row.Configured, row.User, row.DisplayName, row.Extension = true, l.User, l.DisplayName, l.Ext()
		}
		row.Registration, row.RegistrationError = status[p].Registration, status[p].RegistrationError
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "lines.html", view{Title: "Lines", Nav: "Lines", Authed: true, Page: rows,
		Notice: noticeOf(r)})
}

// lineIndex returns the index of port's entry in c.Lines, or -1.
func lineIndex(c config.Config, port int) int {
	for i, l := range c.Lines {
		if l.Port == port {
			return i
		}
	}
	return -1
}

// linePort reads {port} and checks it against the board.
func (s *Server) linePort(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("port"))
	if err != nil || n < 1 || n > s.o.Store.Get().Board.Ports {
		http.Error(w, "no such port", http.StatusNotFound)
		return 0, false
	}
	return n, true
}

func lineValues(l config.Line) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"user": l.User, "auth_user": l.AuthUser, "display_name": l.DisplayName, "extension": l.Extension,
		"caller_id": onOff(l.CallerID), "call_waiting": onOff(l.CallWaiting), "dnd": onOff(l.DND),
		"anonymous_reject": onOff(l.AnonymousReject), "forward_always": l.ForwardAlways, "forward_busy": l.ForwardBusy,
		"forward_no_answer": l.ForwardNoAnswer, "forward_no_answer_s": strconv.Itoa(l.ForwardNoAnswerS),
		"hotline": l.Hotline, "warmline_s": strconv.Itoa(l.WarmlineS), "digit_map": l.DigitMap,
	} {
		v.Set(k, s)
	}
	return v
}

// applyLine sets l from the posted form; the password is kept unless a new
// one is typed or clearing it is asked for.
func applyLine(l *config.Line, vals url.Values, fe fieldErrs) {
	l.User = formText(vals, "user")
	if pw := vals.Get("password"); pw != "" {
		if vals.Get("clear_password") == "on" {
			fe.add("password", "type a new password or tick \"clear\", not both")
		}
		l.Password = pw
	} else if vals.Get("clear_password") == "on" {
		l.Password = ""
	}
	l.AuthUser = formText(vals, "auth_user")
	l.DisplayName = formText(vals, "display_name")
	l.Extension = formText(vals, "extension")
	l.CallerID = vals.Get("caller_id") == "on"
	l.CallWaiting = vals.Get("call_waiting") == "on"
	l.DND = vals.Get("dnd") == "on"
	l.AnonymousReject = vals.Get("anonymous_reject") == "on"
	l.ForwardAlways = formText(vals, "forward_always")
	l.ForwardBusy = formText(vals, "forward_busy")
	l.ForwardNoAnswer = formText(vals, "forward_no_answer")
	l.ForwardNoAnswerS = formInt(vals, fe, "forward_no_answer_s", 20)
	l.Hotline = formText(vals, "hotline")
	l.WarmlineS = formInt(vals, fe, "warmline_s", 0)
	l.DigitMap = formText(vals, "digit_map")
}

func lineForm(port int, vals url.Values, fe fieldErrs, hasPassword bool) *form {
	pwHint := "Leave empty to keep the current password."
	if !hasPassword {
		pwHint = "No password is set."
	}
	clear := check(vals, fe, "clear_password", "Clear the password", "")
	clear.Checked = false
	fields := []field{
		text(vals, fe, "user", "User", "The SIP account's user name or number; required."),
		password(fe, "password", "Password", pwHint, "new-password"),
	}
	if hasPassword {
		fields = append(fields, clear)
	}
	fields = append(fields,
		text(vals, fe, "auth_user", "Authentication user", "When the server asks for a different name; empty means the user."),
		text(vals, fe, "display_name", "Display name", "Shown to the people this line calls."),
		text(vals, fe, "extension", "Extension", "What the other ports dial to reach this one; empty means "+config.DefaultExtension(port)+"."),
	)
	fields[len(fields)-1].InputMode = "tel"
	f := &form{Action: fmt.Sprintf("/lines/%d", port), Submit: "Save line " + strconv.Itoa(port), Sections: []section{
		{Title: "Account", Fields: fields},
		{Title: "Features", Fields: []field{
			check(vals, fe, "caller_id", "Caller ID", "Send the caller's number and name to the phone."),
			check(vals, fe, "call_waiting", "Call waiting", "Let a second call in during a call."),
			check(vals, fe, "dnd", "Do not disturb", "Refuse incoming calls."),
			check(vals, fe, "anonymous_reject", "Reject anonymous calls", "Refuse callers who withhold their number."),
		}},
		{Title: "Forwarding", Hint: "A number or a SIP address; empty means none.", Fields: []field{
			text(vals, fe, "forward_always", "Forward always", ""),
			text(vals, fe, "forward_busy", "Forward when busy", ""),
			text(vals, fe, "forward_no_answer", "Forward on no answer", ""),
			number(vals, fe, "forward_no_answer_s", "No answer after (seconds)", "5 to 300."),
		}},
		{Title: "Dialing", Fields: []field{
			text(vals, fe, "hotline", "Hotline number", "Dialed as soon as the phone is lifted."),
			number(vals, fe, "warmline_s", "Warm line after (seconds)", "0 dials the hotline at once; up to 60 waits for a first digit that long."),
			text(vals, fe, "digit_map", "Digit map", "When a dialed number is complete; empty means "+config.DefaultDigitMap+"."),
		}},
	}}
	for _, sec := range f.Sections[2:] {
		for i := range sec.Fields {
			if sec.Fields[i].InputMode == "" {
				sec.Fields[i].InputMode = "tel"
			}
		}
	}
	return f
}

func (s *Server) lineEdit(w http.ResponseWriter, r *http.Request) {
	port, ok := s.linePort(w, r)
	if !ok {
		return
	}
	c := s.o.Store.Get()
	l, has := config.NewLine(port), false
	if i := lineIndex(c, port); i >= 0 {
		l, has = c.Lines[i], true
	}
	v := view{Title: fmt.Sprintf("Line %d", port), Nav: "Lines", Authed: true, Notice: noticeOf(r),
		Form: lineForm(port, lineValues(l), fieldErrs{}, l.Password != "")}
	if !has {
		v.Notice = "This port has no account yet: fill in at least the user to create one."
	}
	s.render(w, r, http.StatusOK, "form.html", v)
}

func (s *Server) lineSave(w http.ResponseWriter, r *http.Request) {
	port, ok := s.linePort(w, r)
	if !ok {
		return
	}
	fe := fieldErrs{}
	var prefix string
	hadPassword := false
	err := s.o.Store.Update(func(c *config.Config) error {
		i := lineIndex(*c, port)
		if i < 0 {
			c.Lines = append(c.Lines, config.NewLine(port))
			i = len(c.Lines) - 1
		}
		hadPassword = c.Lines[i].Password != ""
		applyLine(&c.Lines[i], r.PostForm, fe)
		prefix = fmt.Sprintf("line[%d].", i+1)
		return checkForm(*c, fe)
	})
	if err != nil {
		s.formFailed(w, r, err, fe, view{Title: fmt.Sprintf("Line %d", port), Nav: "Lines",
			Form: lineForm(port, r.PostForm, fe, hadPassword)}, prefix)
		return
	}
	s.log.Info("web: line settings saved", "port", port, "client", clientOf(r))
	http.Redirect(w, r, fmt.Sprintf("/lines/%d?saved=1", port), http.StatusSeeOther)
}

// checkForm ends an Update's function: errInvalid when the form's values
// did not parse or the result does not validate (the validation errors are
// returned for their fields).
func checkForm(c config.Config, fe fieldErrs) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(fe) > 0 {
		return errInvalid
	}
	return nil
}

// formFailed re-renders a form that was not saved, with each problem next
// to its field and the rest on top.
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, err error, fe fieldErrs, v view, prefixes ...string) {
	code := http.StatusBadRequest
	rest := ""
	if !errors.Is(err, errInvalid) {
		var errs config.Errors
		if !errors.As(err, &errs) {
			s.log.Error("web: saving settings", "err", err)
			code = http.StatusInternalServerError
		}
		rest = fe.takeConfigErrors(err, prefixes...)
	}
	// The form was built before the validation errors were known.
	for si := range v.Form.Sections {
		for fi := range v.Form.Sections[si].Fields {
			f := &v.Form.Sections[si].Fields[fi]
			if f.Err == "" {
				f.Err = fe[f.Name]
			}
		}
	}
	v.Error = notSaved
	if rest != "" {
		v.Error += " " + rest
	}
	v.Authed = true
	tmpl := v.tmpl
	if tmpl == "" {
		tmpl = "form.html"
	}
	s.render(w, r, code, tmpl, v)
}

func noticeOf(r *http.Request) string {
	if r.URL.Query().Get("saved") != "" {
		return saved
	}
	return ""
}

// ---- SIP ----

// caFileName is where an uploaded CA certificate is kept, next to the
// configuration file.
const caFileName = "sip-ca.pem"

// maxCA bounds an uploaded CA certificate file.
const maxCA = 256 << 10

var codecOrders = []option{
	{Value: "pcmu,pcma", Label: "G.711 µ-law, then A-law"},
	{Value: "pcma,pcmu", Label: "G.711 A-law, then µ-law"},
	{Value: "pcmu", Label: "G.711 µ-law only"},
	{Value: "pcma", Label: "G.711 A-law only"},
}

func sipValues(c config.SIP) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"registrar": c.Registrar, "backup_registrar": c.BackupRegistrar, "outbound_proxy": c.OutboundProxy,
		"domain": c.Domain, "transport": c.Transport, "srtp": c.SRTP, "codecs": strings.Join(c.Codecs, ","),
		"dtmf": c.DTMF, "ptime_ms": strconv.Itoa(c.PtimeMS), "rtp_port_min": strconv.Itoa(c.RTPPortMin),
		"rtp_port_max": strconv.Itoa(c.RTPPortMax), "register_expires_s": strconv.Itoa(c.RegisterExpires),
		"mwi_subscribe": onOff(c.MWI), "keepalive_s": strconv.Itoa(c.KeepaliveS), "fax_reinvite": onOff(c.FaxReinvite),
	} {
		v.Set(k, s)
	}
	return v
}

func applySIP(c *config.SIP, vals url.Values, fe fieldErrs) {
	c.Registrar = formText(vals, "registrar")
	c.BackupRegistrar = formText(vals, "backup_registrar")
	c.OutboundProxy = formText(vals, "outbound_proxy")
	c.Domain = formText(vals, "domain")
	c.Transport = formText(vals, "transport")
	c.SRTP = formText(vals, "srtp")
	c.Codecs = nil
	for cd := range strings.SplitSeq(formText(vals, "codecs"), ",") {
		if cd = strings.TrimSpace(cd); cd != "" {
			c.Codecs = append(c.Codecs, cd)
		}
	}
	c.DTMF = formText(vals, "dtmf")
	c.PtimeMS = formInt(vals, fe, "ptime_ms", 20)
	c.RTPPortMin = formInt(vals, fe, "rtp_port_min", c.RTPPortMin)
	c.RTPPortMax = formInt(vals, fe, "rtp_port_max", c.RTPPortMax)
	c.RegisterExpires = formInt(vals, fe, "register_expires_s", 3600)
	c.MWI = vals.Get("mwi_subscribe") == "on"
	c.KeepaliveS = formInt(vals, fe, "keepalive_s", 30)
	c.FaxReinvite = vals.Get("fax_reinvite") == "on"
	if vals.Get("clear_ca") == "on" {
		c.CAFile = ""
	}
}

func sipForm(vals url.Values, fe fieldErrs, caFile string) *form {
	ca := "None: the server's certificate is checked against the system's trust store."
	if caFile != "" {
		ca = caFile
	}
	caFields := []field{
		static("Trust anchor in use", ca),
		{Name: "ca", Label: "Upload a CA certificate (PEM)", Type: "file", Accept: ".pem,.crt,.cer,application/x-pem-file", Err: fe["ca"],
			Hint: "The certificate of the authority that signed the server's certificate; it replaces the one in use."},
	}
	if caFile != "" {
		caFields = append(caFields, check(url.Values{}, fe, "clear_ca", "Stop using this CA certificate", ""))
	}
	return &form{Action: "/sip", Multipart: true, Submit: "Save SIP settings", Sections: []section{
		{Title: "Server", Hint: "host or host:port", Fields: []field{
			text(vals, fe, "registrar", "Registrar", "Where the lines register; empty means local calls only."),
			text(vals, fe, "backup_registrar", "Backup registrar", "Tried when the registrar fails."),
			text(vals, fe, "outbound_proxy", "Outbound proxy", "Every request goes through it; empty means none."),
			text(vals, fe, "domain", "Domain", "The accounts' domain; empty means the registrar's host."),
			choice(vals, fe, "transport", "Transport", "", option{"udp", "UDP", false}, option{"tcp", "TCP", false}, option{"tls", "TLS (encrypted)", false}),
			choice(vals, fe, "register_expires_s", "Registration lifetime", "",
				option{"300", "5 minutes", false}, option{"600", "10 minutes", false}, option{"1800", "30 minutes", false}, option{"3600", "1 hour", false}, option{"7200", "2 hours", false}),
			check(vals, fe, "mwi_subscribe", "Subscribe to voicemail notifications", "Lights the message lamp and stutters the dial tone when messages wait."),
			number(vals, fe, "keepalive_s", "Keep-alive interval (seconds)", "TCP and TLS only: keeps the connection through NAT open and notices when it dies. 10 to 600; 0 turns keep-alives off."),
		}},
		{Title: "TLS", Fields: caFields},
		{Title: "Media", Fields: []field{
			choice(vals, fe, "srtp", "Media encryption (SRTP)", "", option{"off", "Off", false}, option{"optional", "When the other side offers it", false}, option{"required", "Required", false}),
			choice(vals, fe, "codecs", "Codecs", "In order of preference.", codecOrders...),
			choice(vals, fe, "dtmf", "Keypad digits during calls", "", option{"rfc4733", "RTP events (RFC 4733)", false}, option{"info", "SIP INFO", false}, option{"inband", "In the audio", false}),
			choice(vals, fe, "ptime_ms", "Packet interval", "", option{"10", "10 ms", false}, option{"20", "20 ms", false}, option{"30", "30 ms", false}),
			number(vals, fe, "rtp_port_min", "RTP ports from", "1024 to 65534."),
			number(vals, fe, "rtp_port_max", "RTP ports to", "At least 3 above the first."),
			check(vals, fe, "fax_reinvite", "Fax and modem pass-through", "When a fax or modem tone is heard, the call is re-offered as plain G.711."),
		}},
	}}
}

func (s *Server) sipPage(w http.ResponseWriter, r *http.Request) {
	c := s.o.Store.Get()
	s.render(w, r, http.StatusOK, "form.html", view{Title: "SIP", Nav: "SIP", Authed: true, Notice: noticeOf(r),
		Form: sipForm(sipValues(c.SIP), fieldErrs{}, c.SIP.CAFile)})
}

// readCA reads and checks the CA certificate uploaded as the form's file
// name: PEM holding one or more certificates and nothing else. No file
// chosen is nil, nil.
func readCA(r *http.Request, name string) ([]byte, error) {
	f, hdr, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if hdr.Size == 0 {
		return nil, nil // the browser sends an empty part when no file is chosen
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCA+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCA {
		return nil, fmt.Errorf("the file is larger than %d KiB", maxCA>>10)
	}
	rest, n := data, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("the file holds a %s; upload only the CA's certificate", strings.ToLower(b.Type))
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		if time.Now().After(cert.NotAfter) {
			return nil, fmt.Errorf("certificate %d (%s) expired on %s", n+1, cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly))
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("the file has text after its last certificate that is not PEM")
	}
	return data, nil
}

// updateWithCA saves a settings form that may carry a CA certificate
// upload in field: apply changes the configuration (told whether a
// certificate came), the form's checks run, and the certificate is put in
// place as fileName next to the configuration before the change is
// announced, and put back if the save fails. It reports whether a
// certificate was uploaded.
func (s *Server) updateWithCA(r *http.Request, field, fileName string, fe fieldErrs, apply func(c *config.Config, uploaded bool)) (bool, error) {
	ca, err := readCA(r, field)
	if err != nil {
		fe.add(field, "%v", err)
	}
	caPath := filepath.Join(filepath.Dir(s.o.Store.Path()), fileName)
	var restoreCA func()
	err = s.o.Store.Update(func(c *config.Config) error {
		apply(c, ca != nil)
		if err := checkForm(*c, fe); err != nil {
			return err
		}
		if ca != nil { // in place before the change is announced
			undo, werr := replaceFile(caPath, ca)
			restoreCA = undo
			return werr
		}
		return nil
	})
	if err != nil && restoreCA != nil {
		restoreCA()
	}
	return ca != nil, err
}

func (s *Server) sipSave(w http.ResponseWriter, r *http.Request) {
	fe := fieldErrs{}
	uploaded, err := s.updateWithCA(r, "ca", caFileName, fe, func(c *config.Config, uploaded bool) {
		applySIP(&c.SIP, r.PostForm, fe)
		if uploaded {
			c.SIP.CAFile = caFileName
		}
	})
	if err != nil {
		c := s.o.Store.Get()
		s.formFailed(w, r, err, fe, view{Title: "SIP", Nav: "SIP", Form: sipForm(r.PostForm, fe, c.SIP.CAFile)}, "sip.")
		return
	}
	s.log.Info("web: SIP settings saved", "client", clientOf(r), "new CA", uploaded)
	http.Redirect(w, r, "/sip?saved=1", http.StatusSeeOther)
}

// replaceFile writes data to path atomically and returns a function that
// puts the previous content back (or removes the file if there was none).
func replaceFile(path string, data []byte) (undo func(), err error) {
	old, oldErr := os.ReadFile(path)
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("saving %s: %w", filepath.Base(path), err)
	}
	return func() {
		if oldErr != nil {
			os.Remove(path)
			return
		}
		atomicfile.Write(path, old, 0o600)
	}, nil
}

// ---- Region ----

func regionValues(c config.Region) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"country": c.Country, "caller_id": c.CallerID, "caller_id_alert": c.CallerIDAlert,
		"caller_id_polarity_reversal": onOff(c.CallerIDPolarity), "flash_min_ms": strconv.Itoa(c.FlashMinMS),
		"flash_max_ms": strconv.Itoa(c.FlashMaxMS), "howler_after_s": strconv.Itoa(c.HowlerAfterS),
	} {
		v.Set(k, s)
	}
	return v
}

func applyRegion(c *config.Region, vals url.Values, fe fieldErrs) {
	c.Country = formText(vals, "country")
	c.CallerID = formText(vals, "caller_id")
	c.CallerIDAlert = formText(vals, "caller_id_alert")
	c.CallerIDPolarity = vals.Get("caller_id_polarity_reversal") == "on"
	c.FlashMinMS = formInt(vals, fe, "flash_min_ms", 100)
	c.FlashMaxMS = formInt(vals, fe, "flash_max_ms", 800)
	c.HowlerAfterS = formInt(vals, fe, "howler_after_s", 30)
}

var callerIDNames = map[string]string{
	"bellcore": "Bell 202 FSK (Telcordia GR-30)", "etsi-fsk": "ETSI V.23 FSK (EN 300 659)",
	"etsi-dtmf": "ETSI DTMF", "bt": "BT (SIN 227)", "ntt": "NTT (not generated)", "off": "Off",
}

// cadence writes a ring pattern as "2 s on, 4 s off".
func cadence(rc tone.RingCadence) string {
	var parts []string
	for i, d := range rc.Pattern {
		state := "on"
		if i%2 == 1 {
			state = "off"
		}
		parts = append(parts, strconv.FormatFloat(d.Seconds(), 'f', -1, 64)+" s "+state)
	}
	return fmt.Sprintf("%s at %g Hz", strings.Join(parts, ", "), rc.FreqHz)
}

func regionForm(vals url.Values, fe fieldErrs, shown string) *form {
	var countries []option
	for _, code := range tone.Countries() {
		name := code
		if c, err := tone.Lookup(code); err == nil {
			name = c.Name
		}
		countries = append(countries, option{Value: code, Label: name + " (" + code + ")"})
	}
	usual := "the country's usual standard"
	var info []field
	if c, err := tone.Lookup(shown); err == nil {
		usual = "the country's usual: " + callerIDNames[c.CallerID]
		imp := c.Impedance + " Ω"
		info = []field{static("Line impedance", imp), static("Ring cadence", cadence(c.Ring))}
	}
	cid := []option{{Value: "", Label: "Default (" + usual + ")"}}
	for _, k := range []string{"bellcore", "etsi-fsk", "etsi-dtmf", "bt", "off"} {
		cid = append(cid, option{Value: k, Label: callerIDNames[k]})
	}
	return &form{Action: "/region", Submit: "Save region settings", Sections: []section{
		{Title: "Country", Fields: append([]field{
			choice(vals, fe, "country", "Country", "Sets the tones, the ring cadence and the usual caller ID.", countries...),
		}, info...)},
		{Title: "Caller ID", Fields: []field{
			choice(vals, fe, "caller_id", "Standard", "", cid...),
			choice(vals, fe, "caller_id_alert", "ETSI alert", "How ETSI caller ID is announced to the phone.",
				option{"", "Default (dual-tone alert)", false}, option{"dtas", "Dual-tone alert before ringing", false},
				option{"rpas", "Ring pulse before ringing", false}, option{"ring", "After the first ring", false}),
			check(vals, fe, "caller_id_polarity_reversal", "Reverse the polarity before caller ID", "Some ETSI and DTMF phones need it."),
		}},
		{Title: "Hook and howler", Fields: []field{
			number(vals, fe, "flash_min_ms", "Shortest flash (ms)", "Shorter breaks are dial pulses. 40 to 500."),
			number(vals, fe, "flash_max_ms", "Longest flash (ms)", "Longer breaks hang up. Up to 2000."),
			number(vals, fe, "howler_after_s", "Howler after (seconds)", "A phone left off the hook hears the howler after this long. 5 to 600."),
		}},
	}}
}

func (s *Server) regionPage(w http.ResponseWriter, r *http.Request) {
	c := s.o.Store.Get()
	s.render(w, r, http.StatusOK, "form.html", view{Title: "Region", Nav: "Region", Authed: true, Notice: noticeOf(r),
		Form: regionForm(regionValues(c.Region), fieldErrs{}, c.Region.Country)})
}

func (s *Server) regionSave(w http.ResponseWriter, r *http.Request) {
	fe := fieldErrs{}
	err := s.o.Store.Update(func(c *config.Config) error {
		applyRegion(&c.Region, r.PostForm, fe)
		return checkForm(*c, fe)
	})
	if err != nil {
		s.formFailed(w, r, err, fe, view{Title: "Region", Nav: "Region",
			Form: regionForm(r.PostForm, fe, s.o.Store.Get().Region.Country)}, "region.")
		return
	}
	s.log.Info("web: region settings saved", "client", clientOf(r))
	http.Redirect(w, r, "/region?saved=1", http.StatusSeeOther)
}
