package web

import (
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

	"github.com/tipring/tipring/firmware/capture"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
)

// ---- Call history ----

// historyPageSize is how many calls one page of the history shows.
const historyPageSize = 25

type historyRow struct {
	line.Record
	When, Length, Party string
}

type historyView struct {
	Rows             []historyRow
	Total            int
	Page, Pages      int
	First, Last      int
	PrevURL, NextURL string
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	recs := s.o.Calls() // newest first
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := max((len(recs)+historyPageSize-1)/historyPageSize, 1)
	page = min(max(page, 1), pages)
	from := (page - 1) * historyPageSize
	to := min(from+historyPageSize, len(recs))
	hv := historyView{Total: len(recs), Page: page, Pages: pages, First: from + 1, Last: to}
	for _, rec := range recs[from:to] {
		row := historyRow{Record: rec, When: rec.Start.Local().Format("2006-01-02 15:04:05"),
			Length: (time.Duration(rec.Duration * float64(time.Second))).Round(time.Second).String()}
		row.Party = rec.Number
		if rec.Name != "" {
			row.Party = rec.Name + " · " + rec.Number
		}
		if row.Party == "" {
			row.Party = "anonymous"
		}
		hv.Rows = append(hv.Rows, row)
	}
	if page > 1 {
		hv.PrevURL = "/history?page=" + strconv.Itoa(page-1)
	}
	if page < pages {
		hv.NextURL = "/history?page=" + strconv.Itoa(page+1)
	}
	s.render(w, r, http.StatusOK, "history.html", view{Title: "Call history", Nav: "History", Authed: true, Page: hv})
}

// ---- Maintenance ----

// maxUpload bounds an uploaded configuration file.
const maxUpload = 256 << 10

// resetWord must be typed to confirm a factory reset.
const resetWord = "RESET"

type maintView struct {
	Board        string
	Download     *form
	Upload       *form
	UploadErrors []string
	Restart      *form
	Logs         bool
	Reset        *form
	Provision    *provisionView
	ProvisionNow *form
	Capture      *captureView
	CaptureStart *form
	Cert         *form // the HTTPS certificate upload; nil without Options.WebCert
	Update       *updateView
	UpdateForm   *form // the firmware update upload; nil without Options.Update
}

// captureView is the state of the packet capture.
type captureView struct {
	capture.Status
	Seconds  int    // how long a capture runs
	Left     string // time left of the running capture
	Size     string
	Download bool
}

func (s *Server) maintView(fe fieldErrs, vals url.Values) maintView {
	if vals == nil {
		vals = url.Values{}
	}
	m := maintView{Board: s.o.Board, Logs: s.o.Logs != nil}
	m.Download = &form{Action: "/maintenance/download", Submit: "Download configuration", Sections: []section{{
		Hint: "The configuration file, without the line passwords and the admin password's hash unless you include them.",
		Fields: []field{
			check(vals, fe, "include_secrets", "Include the passwords", "Anyone holding the file can then use the SIP accounts."),
			password(fe, "admin_password", "Admin password", "Needed to include the passwords.", "current-password"),
		}}}}
	m.Upload = &form{Action: "/maintenance/upload", Multipart: true, Submit: "Upload and apply", Sections: []section{{
		Hint:   "Replaces every setting. Passwords the file leaves out keep their current values.",
		Fields: []field{{Name: "config", Label: "Configuration file (TOML)", Type: "file", Accept: ".toml,text/plain", Err: fe["config"]}},
	}}}
	if s.o.Restart != nil {
		m.Restart = &form{Action: "/maintenance/restart", Submit: "Restart now", Sections: []section{{
			Hint: "Calls in progress end; the lines register again within seconds."}}}
	}
	if s.o.ProvisionNow != nil {
		m.Provision = s.provisionView()
		if m.Provision != nil {
			m.ProvisionNow = &form{Action: "/maintenance/provision", Submit: "Provision now", Sections: []section{{
				Hint: "Fetches the configuration from the provisioning server at once; a file that fails a check changes nothing."}}}
		}
	}
	if c := s.o.Capture; c != nil {
		st := c.Status()
		cv := &captureView{Status: st, Seconds: int(s.o.CaptureFor / time.Second), Download: st.Packets > 0,
			Size: fmt.Sprintf("%.1f KiB of %d MiB", float64(st.Bytes)/1024, st.Max>>20)}
		if st.Running {
			cv.Left = st.Until.Sub(s.o.Now()).Round(time.Second).String()
		}
		m.Capture = cv
		m.CaptureStart = &form{Action: "/maintenance/capture", Submit: fmt.Sprintf("Capture for %d s", cv.Seconds), Sections: []section{{
			Hint: "Records the SIP messages and RTP/RTCP packets the gateway sends and receives into a .pcap file for Wireshark. SRTP stays encrypted; SIP over TLS is recorded decrypted, so the file shows the accounts' digest responses but no passwords."}}}
	}
	if wc := s.o.WebCert; wc != nil {
		m.Cert = s.certForm(wc, fe)
	}
	m.Update, m.UpdateForm = s.updateView(fe)
	m.Reset = &form{Action: "/maintenance/reset", Submit: "Erase all settings", Danger: true, Sections: []section{{
		Hint:   "Returns every setting to the factory defaults, keeping nothing: accounts, passwords, the admin password. The next visit sets a new admin password.",
		Fields: []field{text(url.Values{}, fe, "confirm", "Type "+resetWord+" to confirm", "")},
	}}}
	return m
}

func (s *Server) maintPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Maintenance", Nav: "Maintenance", Authed: true, Page: s.maintView(fieldErrs{}, nil)}
	switch r.URL.Query().Get("done") {
	case "upload":
		v.Notice = "The configuration was uploaded and is in force. A changed board or listen address takes effect after a restart."
	case "provision":
		v.Notice = "The configuration was fetched from the provisioning server."
	case "capture":
		v.Notice = "The capture is running; download it here when it is done, or at any time for what it holds so far."
	case "certificate":
		v.Notice = "The certificate is saved and in use for new connections: reload the page to see it."
		if !s.o.Secure {
			v.Notice = "The certificate is saved. This page is served over plain HTTP on the loopback address; the certificate is used when the page listens on a network address, over HTTPS."
		}
	}
	s.render(w, r, http.StatusOK, "maintenance.html", v)
}

func (s *Server) maintFailed(w http.ResponseWriter, r *http.Request, code int, msg string, m maintView) {
	s.render(w, r, code, "maintenance.html", view{Title: "Maintenance", Nav: "Maintenance", Authed: true, Error: msg, Page: m})
}

func (s *Server) maintDownload(w http.ResponseWriter, r *http.Request) {
	c := s.o.Store.Get()
	secrets := r.PostFormValue("include_secrets") == "on"
	note := "passwords removed"
	if secrets {
		ok, wait := s.checkAdmin(clientOf(r), "admin", r.PostFormValue("admin_password"))
		if !ok {
			fe := fieldErrs{}
			code := http.StatusForbidden
			if wait > 0 {
				code = http.StatusTooManyRequests
				w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
				fe.add("admin_password", "too many wrong passwords: try again in %d s", int(wait.Seconds()+0.999))
			} else {
				fe.add("admin_password", "wrong password")
			}
			s.maintFailed(w, r, code, "Not downloaded: the passwords are included only with the admin password.", s.maintView(fe, r.PostForm))
			return
		}
		note = "WITH PASSWORDS: keep this file private"
	} else {
		c = config.Redact(c)
	}
	data, err := config.Marshal(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.log.Info("web: configuration downloaded", "client", clientOf(r), "secrets", secrets)
	head := fmt.Sprintf("# Tipring %s configuration, downloaded %s (%s).\n", s.o.Version, s.o.Now().UTC().Format(time.RFC3339), note)
	w.Header().Set("Content-Type", "application/toml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="tipring.toml"`)
	io.WriteString(w, head)
	w.Write(data)
}

func (s *Server) maintUpload(w http.ResponseWriter, r *http.Request) {
	fail := func(msgs ...string) {
		m := s.maintView(fieldErrs{}, nil)
		m.UploadErrors = msgs
		s.maintFailed(w, r, http.StatusBadRequest, "Nothing was changed: the uploaded configuration has problems, listed under Upload.", m)
	}
	f, hdr, err := r.FormFile("config")
	if err != nil {
		fail("choose a configuration file to upload")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil || len(data) > maxUpload {
		fail(fmt.Sprintf("the file is unreadable or larger than %d KiB", maxUpload>>10))
		return
	}
	name := filepath.Base(hdr.Filename)
	if name == "." || name == "/" || name == "" {
		name = "upload.toml"
	}
	up, err := config.Parse(name, data)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			fail(msgs...)
		} else {
			fail(err.Error())
		}
		return
	}
	err = s.o.Store.Update(func(c *config.Config) error {
		*c = config.KeepSecrets(up, *c)
		return nil
	})
	if err != nil {
		s.log.Error("web: saving an uploaded configuration", "err", err)
		fail(err.Error())
		return
	}
	s.log.Info("web: configuration uploaded", "client", clientOf(r), "file", name)
	http.Redirect(w, r, "/maintenance?done=upload", http.StatusSeeOther)
}

func (s *Server) maintRestart(w http.ResponseWriter, r *http.Request) {
	if s.o.Restart == nil {
		http.Error(w, "this gateway cannot restart itself", http.StatusNotFound)
		return
	}
	s.log.Info("web: restart requested", "client", clientOf(r))
	if err := s.o.Restart(); err != nil {
		s.maintFailed(w, r, http.StatusInternalServerError, "The gateway could not restart: "+err.Error(), s.maintView(fieldErrs{}, nil))
		return
	}
	s.render(w, r, http.StatusOK, "restarting.html", view{Title: "Restarting", Nav: "Maintenance", Authed: true})
}

func (s *Server) maintReset(w http.ResponseWriter, r *http.Request) {
	if strings.TrimSpace(r.PostFormValue("confirm")) != resetWord {
		fe := fieldErrs{}
		fe.add("confirm", "type %s in capitals to confirm", resetWord)
		s.maintFailed(w, r, http.StatusBadRequest, "Nothing was erased.", s.maintView(fe, nil))
		return
	}
	err := s.o.Store.Update(func(c *config.Config) error {
		// Everything goes but what keeps the box reachable: its board
		// and the address its page listens on. A reset that moved the
		// page to loopback would leave a real device unreachable.
		board, listen := c.Board, c.Web.Listen
		*c = config.Default()
		c.Board, c.Web.Listen = board, listen
		return nil
	})
	if err != nil {
		s.log.Error("web: factory reset", "err", err)
		s.maintFailed(w, r, http.StatusInternalServerError, "The settings could not be erased: "+err.Error(), s.maintView(fieldErrs{}, nil))
		return
	}
	for _, name := range []string{caFileName, provisionCAFileName} {
		os.Remove(filepath.Join(filepath.Dir(s.o.Store.Path()), name))
	}
	s.sessions.clear()
	s.log.Warn("web: factory reset: every setting erased", "client", clientOf(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/setup", http.StatusSeeOther)
}

func (s *Server) maintLogs(w http.ResponseWriter, r *http.Request) {
	if s.o.Logs == nil {
		http.Error(w, "this gateway keeps no diagnostic log", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="tipring-log.txt"`)
	w.Write(s.o.Logs())
}

func (s *Server) maintProvision(w http.ResponseWriter, r *http.Request) {
	if s.o.ProvisionNow == nil {
		http.Error(w, "this gateway has no provisioning", http.StatusNotFound)
		return
	}
	s.log.Info("web: provisioning requested", "client", clientOf(r))
	if err := s.o.ProvisionNow(r.Context()); err != nil {
		s.maintFailed(w, r, http.StatusBadGateway, "Provisioning failed, nothing was changed: "+err.Error(), s.maintView(fieldErrs{}, nil))
		return
	}
	http.Redirect(w, r, "/maintenance?done=provision", http.StatusSeeOther)
}

func (s *Server) maintCapture(w http.ResponseWriter, r *http.Request) {
	if s.o.Capture == nil {
		http.Error(w, "this gateway cannot capture packets", http.StatusNotFound)
		return
	}
	if err := s.o.Capture.Start(s.o.CaptureFor); err != nil {
		s.maintFailed(w, r, http.StatusConflict, err.Error(), s.maintView(fieldErrs{}, nil))
		return
	}
	s.log.Info("web: packet capture started", "client", clientOf(r), "for", s.o.CaptureFor)
	http.Redirect(w, r, "/maintenance?done=capture#capture", http.StatusSeeOther)
}

func (s *Server) maintCaptureFile(w http.ResponseWriter, r *http.Request) {
	if s.o.Capture == nil {
		http.Error(w, "this gateway cannot capture packets", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.tcpdump.pcap")
	w.Header().Set("Content-Disposition", `attachment; filename="tipring-`+s.o.Now().UTC().Format("20060102-150405")+`.pcap"`)
	if err := s.o.Capture.WritePCAP(w); err != nil {
		s.log.Warn("web: capture download", "err", err)
	}
}

// ---- HTTPS certificate ----

// certForm shows the certificate in use and takes a new one.
func (s *Server) certForm(wc *WebCert, fe fieldErrs) *form {
	var info []field
	if leaf := wc.Leaf(); leaf != nil {
		issuer := leaf.Issuer.CommonName
		if leaf.Issuer.String() == leaf.Subject.String() {
			issuer = "itself (self-signed: browsers warn until you accept it or upload one from your own authority)"
		}
		info = []field{
			static("In use for", certNames(leaf)),
			static("Issued by", issuer),
			static("Valid until", leaf.NotAfter.UTC().Format(time.DateOnly)),
		}
	} else {
		info = []field{static("In use", "none yet: a self-signed certificate is made when the page is first served over HTTPS")}
	}
	return &form{Action: "/maintenance/certificate", Multipart: true, Submit: "Upload certificate", Sections: []section{{
		Hint: "The certificate this page presents over HTTPS. Upload your own in PEM: the certificate (with its chain, if any) and its private key, in two files or one. It must list this gateway's host name or address as a subject alternative name. The key is stored readable by the gateway only and never shown again.",
		Fields: append(info,
			field{Name: "cert", Label: "Certificate (PEM)", Type: "file", Accept: ".pem,.crt,.cer,application/x-pem-file", Err: fe["cert"]},
			field{Name: "key", Label: "Private key (PEM)", Type: "file", Accept: ".pem,.key,application/x-pem-file", Err: fe["key"],
				Hint: "Leave empty when the certificate file holds the key too."}),
	}}}
}

// readUpload reads the form's file name, at most limit bytes; no file
// chosen is nil.
func readUpload(r *http.Request, name string, limit int64) ([]byte, error) {
	f, hdr, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if hdr.Size == 0 {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the file is larger than %d KiB", limit>>10)
	}
	return data, nil
}

func (s *Server) maintCert(w http.ResponseWriter, r *http.Request) {
	wc := s.o.WebCert
	if wc == nil {
		http.Error(w, "this gateway's certificate cannot be changed here", http.StatusNotFound)
		return
	}
	fe := fieldErrs{}
	cert, err := readUpload(r, "cert", maxCertUpload)
	if err != nil {
		fe.add("cert", "%v", err)
	}
	key, err := readUpload(r, "key", maxCertUpload)
	if err != nil {
		fe.add("key", "%v", err)
	}
	if len(fe) == 0 && cert == nil {
		fe.add("cert", "choose the certificate file to upload")
	}
	if len(fe) == 0 {
		leaf, err := wc.Replace(s.o.Now(), cert, key)
		if err == nil {
			s.log.Info("web: HTTPS certificate replaced", "client", clientOf(r), "names", certNames(leaf),
				"issuer", leaf.Issuer.CommonName, "until", leaf.NotAfter.UTC().Format(time.DateOnly))
			http.Redirect(w, r, "/maintenance?done=certificate#certificate", http.StatusSeeOther)
			return
		}
		fe.add("cert", "%v", err)
	}
	s.maintFailed(w, r, http.StatusBadRequest, "Nothing was changed: the certificate was not accepted.", s.maintView(fe, nil))
}
