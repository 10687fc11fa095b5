package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/tipring/tipring/firmware/config"
)

// ---- Network: remote log and provisioning ----

// provisionCAFileName is where an uploaded provisioning CA certificate is
// kept, next to the configuration file.
const provisionCAFileName = "provision-ca.pem"

func networkValues(c config.Config) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"server": c.Syslog.Server, "transport": c.Syslog.Transport, "level": c.Syslog.Level,
		"url": c.Provision.URL, "interval_min": strconv.Itoa(c.Provision.IntervalMin),
		"signature_key": c.Provision.SignatureKey,
	} {
		v.Set(k, s)
	}
	return v
}

// applyNetwork sets [syslog] and [provision] from the posted form. The
// field names are the keys of the two tables, which do not overlap.
func applyNetwork(c *config.Config, vals url.Values, fe fieldErrs) {
	c.Syslog.Server = formText(vals, "server")
	c.Syslog.Transport = formText(vals, "transport")
	c.Syslog.Level = formText(vals, "level")
	c.Provision.URL = formText(vals, "url")
	c.Provision.IntervalMin = formInt(vals, fe, "interval_min", 60)
	c.Provision.SignatureKey = formText(vals, "signature_key")
	if vals.Get("clear_ca_file") == "on" {
		c.Provision.CAFile = ""
	}
}

func networkForm(vals url.Values, fe fieldErrs, caFile string) *form {
	ca := "None: the server's certificate is checked against the system's trust store."
	if caFile != "" {
		ca = caFile
	}
	caFields := []field{
		static("Trust anchor in use", ca),
		{Name: "ca_file", Label: "Upload a CA certificate (PEM)", Type: "file", Accept: ".pem,.crt,.cer,application/x-pem-file", Err: fe["ca_file"],
			Hint: "The certificate of the authority that signed the provisioning server's certificate; it replaces the one in use."},
	}
	if caFile != "" {
		caFields = append(caFields, check(url.Values{}, fe, "clear_ca_file", "Stop using this CA certificate", ""))
	}
	urlField := text(vals, fe, "url", "Server address", "An https:// address of the configuration file; {mac} in it becomes this gateway's MAC address. Empty turns provisioning off.")
	urlField.InputMode = "url"
	return &form{Action: "/network", Multipart: true, Submit: "Save network settings", Sections: []section{
		{Title: "Remote log (syslog)", Hint: "A copy of the log goes to a syslog server as RFC 5424 messages. Passwords are never logged.", Fields: []field{
			text(vals, fe, "server", "Syslog server", "host:port; empty sends the log nowhere else."),
			choice(vals, fe, "transport", "Transport", "", option{"udp", "UDP", false}, option{"tcp", "TCP (RFC 6587 octet counting)", false}),
			choice(vals, fe, "level", "Least severity sent", "",
				option{"debug", "Debug", false}, option{"info", "Info", false}, option{"warn", "Warnings", false}, option{"error", "Errors", false}),
		}},
		{Title: "Provisioning", Hint: "The gateway fetches its configuration from this server at start and then at the interval; a file that fails a check changes nothing.",
			Fields: append(append([]field{
				urlField,
				number(vals, fe, "interval_min", "Interval (minutes)", "1 to 10080 (a week)."),
			}, caFields...),
				text(vals, fe, "signature_key", "Signature key", "An Ed25519 public key (base64): the server must then sign the file (URL.sig), and an unsigned file is refused. Empty checks no signature.")),
		},
	}}
}

func (s *Server) networkView(f *form) view {
	v := view{Title: "Network", Nav: "Network", Authed: true, Form: f, Clock: s.clockView(), tmpl: "network.html"}
	if s.o.Provision != nil {
		v.Provision = s.provisionView()
		if v.Provision == nil {
			v.Provision = &provisionView{Off: true}
		}
	}
	return v
}

func (s *Server) networkPage(w http.ResponseWriter, r *http.Request) {
	c := s.o.Store.Get()
	v := s.networkView(networkForm(networkValues(c), fieldErrs{}, c.Provision.CAFile))
	v.Notice = noticeOf(r)
	s.render(w, r, http.StatusOK, "network.html", v)
}

func (s *Server) networkSave(w http.ResponseWriter, r *http.Request) {
	fe := fieldErrs{}
	uploaded, err := s.updateWithCA(r, "ca_file", provisionCAFileName, fe, func(c *config.Config, uploaded bool) {
		applyNetwork(c, r.PostForm, fe)
		if uploaded {
			c.Provision.CAFile = provisionCAFileName
		}
	})
	if err != nil {
		c := s.o.Store.Get()
		s.formFailed(w, r, err, fe, s.networkView(networkForm(r.PostForm, fe, c.Provision.CAFile)), "syslog.", "provision.")
		return
	}
	s.log.Info("web: network settings saved", "client", clientOf(r), "new provisioning CA", uploaded)
	http.Redirect(w, r, "/network?saved=1", http.StatusSeeOther)
}
