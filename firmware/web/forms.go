package web

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tipring/tipring/firmware/config"
)

// A form is a server-rendered settings form: sections of fields, each with
// the value to show and the message of its last problem. Field names are the
// configuration keys they set (without their table), so that a validation
// error's key finds its field.
type form struct {
	Action    string
	Multipart bool
	Submit    string
	Danger    bool // the submit button does something drastic
	Sections  []section
	CSRF      string // filled in by render
}

type section struct {
	Title  string
	Hint   string
	Fields []field
}

type field struct {
	Name  string
	Label string
	// Type is text, password, checkbox, select, file, or static (shown,
	// not editable).
	Type      string
	Value     string
	Checked   bool
	Options   []option
	Err       string
	Hint      string
	InputMode string // numeric, tel, url, …
	Auto      string // autocomplete
	Accept    string // file types
}

type option struct {
	Value, Label string
	Selected     bool
}

// fieldErrs maps a field name to the message shown next to it.
type fieldErrs map[string]string

// add records a problem with field name; the message names the field by its
// configuration key, as the file and its error messages do.
func (fe fieldErrs) add(name, format string, a ...any) {
	if _, ok := fe[name]; !ok {
		fe[name] = name + ": " + fmt.Sprintf(format, a...)
	}
}

// errInvalid stops a Store.Update whose form had problems.
var errInvalid = errors.New("the form has problems")

// takeConfigErrors moves the validation errors whose key starts with one of
// the prefixes (e.g. "sip.", "line[2].") to the field they name, and
// returns the rest as one message for the top of the page.
func (fe fieldErrs) takeConfigErrors(err error, prefixes ...string) string {
	var errs config.Errors
	if !errors.As(err, &errs) {
		if err != nil {
			return err.Error()
		}
		return ""
	}
	var rest []string
next:
	for _, e := range errs {
		for _, prefix := range prefixes {
			if name, ok := strings.CutPrefix(e.Key, prefix); ok && !strings.Contains(name, ".") {
				if _, dup := fe[name]; !dup {
					fe[name] = name + ": " + e.Msg
				}
				continue next
			}
		}
		rest = append(rest, e.Key+": "+e.Msg)
	}
	return strings.Join(rest, "; ")
}

// text is a text field showing vals' value of name.
func text(vals url.Values, fe fieldErrs, name, label, hint string) field {
	return field{Name: name, Label: label, Type: "text", Value: vals.Get(name), Err: fe[name], Hint: hint}
}

// number is a text field for a whole number (a text input, so the server's
// message, not the browser's, explains a bad value).
func number(vals url.Values, fe fieldErrs, name, label, hint string) field {
	f := text(vals, fe, name, label, hint)
	f.InputMode = "numeric"
	return f
}

func check(vals url.Values, fe fieldErrs, name, label, hint string) field {
	return field{Name: name, Label: label, Type: "checkbox", Checked: vals.Get(name) == "on", Err: fe[name], Hint: hint}
}

// password never carries a value: secrets are not sent back to the browser.
func password(fe fieldErrs, name, label, hint, auto string) field {
	return field{Name: name, Label: label, Type: "password", Err: fe[name], Hint: hint, Auto: auto}
}

// choice is a select; a current value not among opts is kept as an option
// so that re-rendering shows what was sent.
func choice(vals url.Values, fe fieldErrs, name, label, hint string, opts ...option) field {
	opts = slices.Clone(opts) // callers may pass a shared table
	v := vals.Get(name)
	found := false
	for i := range opts {
		if opts[i].Value == v {
			opts[i].Selected, found = true, true
		}
	}
	if !found && v != "" {
		opts = append(opts, option{Value: v, Label: v, Selected: true})
	}
	return field{Name: name, Label: label, Type: "select", Options: opts, Err: fe[name], Hint: hint}
}

func static(label, value string) field { return field{Label: label, Type: "static", Value: value} }

func opts(values ...string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: v}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// formInt reads a whole number; empty means def.
func formInt(vals url.Values, fe fieldErrs, name string, def int) int {
	s := strings.TrimSpace(vals.Get(name))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		fe.add(name, "%q is not a whole number", s)
		return def
	}
	return n
}

// formText reads a one-line text value, trimmed.
func formText(vals url.Values, name string) string { return strings.TrimSpace(vals.Get(name)) }
