package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tipring/tipring/firmware/update"
)

// Updater installs firmware updates for the Maintenance page and
// POST /api/update.
type Updater interface {
	// Status returns the trusted keys and the update state.
	Status() UpdateStatus
	// Install verifies the package against its signature file, stages
	// it, and schedules the gateway's restart into its trial, returning
	// the staged version at once. Nothing changes when it fails.
	Install(pkg, sig []byte) (version string, err error)
}

// UpdateStatus is what the pages show of updates.
type UpdateStatus struct {
	Keys       []string     `json:"keys"` // fingerprints of the trusted keys, with where each is from
	State      update.State `json:"state"`
	StateError string       `json:"stateError,omitempty"`
}

// maxUpdateBody bounds an update upload: the package, its signature and
// the form around them.
const maxUpdateBody = update.MaxPackageSize + update.MaxSignatureSize + 64<<10

// updateView is the Update section of the Maintenance page.
type updateView struct {
	Keys       []string
	Running    string // what runs: a committed version or the installed package
	Trial      string
	Failure    *update.Failure
	History    []update.Event // newest first
	StateError string
}

func (s *Server) updateView(fe fieldErrs) (*updateView, *form) {
	if s.o.Update == nil {
		return nil, nil
	}
	st := s.o.Update.Status()
	uv := &updateView{Keys: st.Keys, Failure: st.State.LastFailure, StateError: st.StateError, Running: "the installed package"}
	if c := st.State.Current; c != nil {
		uv.Running = fmt.Sprintf("update %s, committed %s", c.Version, c.Committed.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if t := st.State.Trial; t != nil {
		uv.Trial = t.Version
	}
	uv.History = slices.Clone(st.State.History)
	slices.Reverse(uv.History)
	hint := "A Tipring package (.deb, as `make deb` builds it, for this gateway's architecture) and its signature (.sig, from `updatesign` or `make deb-sign`). " +
		"The gateway checks the signature, restarts into the new version and keeps it once it has run healthy for update.confirm_s seconds; " +
		"if it does not come up, the running version comes back by itself. Calls in progress end."
	if len(st.Keys) == 0 {
		hint = "No update is accepted until a signing key is trusted: add the public key (the .pub file `updatesign -genkey` writes) to update.public_keys in the configuration, e.g. by uploading the configuration above."
	}
	f := &form{Action: "/maintenance/update", Multipart: true, Submit: "Verify and install", Sections: []section{{
		Hint: hint,
		Fields: []field{
			{Name: "package", Label: "Package (.deb)", Type: "file", Accept: ".deb,application/vnd.debian.binary-package", Err: fe["package"]},
			{Name: "signature", Label: "Signature (.sig)", Type: "file", Accept: ".sig,text/plain", Err: fe["signature"]},
		},
	}}}
	return uv, f
}

// readUpdate reads the package and signature fields of an update upload.
func readUpdate(r *http.Request) (pkg, sig []byte, fe fieldErrs) {
	fe = fieldErrs{}
	pkg, err := readUpload(r, "package", update.MaxPackageSize)
	if err != nil {
		fe.add("package", "%v", err)
	} else if pkg == nil {
		fe.add("package", "choose the package (.deb) to upload")
	}
	sig, err = readUpload(r, "signature", update.MaxSignatureSize)
	if err != nil {
		fe.add("signature", "%v", err)
	}
	return pkg, sig, fe
}

// updateField is the form field an Install error belongs to.
func updateField(err error) string {
	if errors.Is(err, update.ErrPackage) || errors.Is(err, update.ErrBusy) || errors.Is(err, update.ErrSameVersion) {
		return "package"
	}
	return "signature"
}

func (s *Server) maintUpdate(w http.ResponseWriter, r *http.Request) {
	if s.o.Update == nil {
		http.Error(w, "this gateway cannot be updated here", http.StatusNotFound)
		return
	}
	pkg, sig, fe := readUpdate(r)
	if len(fe) == 0 {
		v, err := s.o.Update.Install(pkg, sig)
		if err == nil {
			s.log.Warn("web: firmware update installed for a trial", "client", clientOf(r), "version", v)
			s.render(w, r, http.StatusOK, "updating.html", view{Title: "Updating", Nav: "Maintenance", Authed: true, Page: v})
			return
		}
		s.log.Warn("web: firmware update refused", "client", clientOf(r), "err", err)
		fe[updateField(err)] = err.Error()
	}
	s.maintFailed(w, r, http.StatusBadRequest, "Nothing was installed: the update was not accepted.", s.maintView(fe, nil))
}

// apiUpdateStatus is GET /api/update: the running version, the trusted
// keys and the update state.
func (s *Server) apiUpdateStatus(w http.ResponseWriter, r *http.Request) {
	if s.o.Update == nil {
		jsonError(w, http.StatusNotFound, "this gateway cannot be updated here")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Version string `json:"version"`
		UpdateStatus
	}{s.o.Version, s.o.Update.Status()})
}

// apiUpdate is POST /api/update: multipart fields package and signature,
// as the Maintenance page's form sends them. 202 with the staged version,
// the gateway restarting; 4xx with {"error": …} and nothing changed.
func (s *Server) apiUpdate(w http.ResponseWriter, r *http.Request) {
	if s.o.Update == nil {
		jsonError(w, http.StatusNotFound, "this gateway cannot be updated here")
		return
	}
	// Scripts send neither header; a browser's cross-site post is refused.
	if !sameOrigin(r) {
		jsonError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpdateBody)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			jsonError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d MiB", maxUpdateBody>>20))
			return
		}
		jsonError(w, http.StatusBadRequest, "want a multipart/form-data body with the fields package and signature: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	pkg, sig, fe := readUpdate(r)
	if len(fe) > 0 {
		msgs := make([]string, 0, len(fe))
		for _, k := range []string{"package", "signature"} {
			if m, ok := fe[k]; ok {
				msgs = append(msgs, m)
			}
		}
		jsonError(w, http.StatusBadRequest, strings.Join(msgs, "; "))
		return
	}
	v, err := s.o.Update.Install(pkg, sig)
	if err != nil {
		s.log.Warn("web: firmware update refused", "client", clientOf(r), "err", err)
		code := http.StatusBadRequest
		switch {
		case errors.Is(err, update.ErrNoTrustedKey), errors.Is(err, update.ErrUntrustedKey):
			code = http.StatusForbidden
		case errors.Is(err, update.ErrBusy), errors.Is(err, update.ErrSameVersion):
			code = http.StatusConflict
		case errors.Is(err, update.ErrPackage), errors.Is(err, update.ErrUnsigned),
			errors.Is(err, update.ErrSignatureFormat), errors.Is(err, update.ErrBadSignature):
		default:
			code = http.StatusInternalServerError
		}
		jsonError(w, code, err.Error())
		return
	}
	s.log.Warn("web: firmware update installed for a trial", "client", clientOf(r), "version", v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{"status": "staged", "version": v,
		"message": "verified and installed; the gateway restarts into " + v + " for a trial and keeps it once healthy, or goes back by itself"})
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// fmtTime is how the update section shows a time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
