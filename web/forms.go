package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
)

// form is a form's state across a round trip: what was typed, the errors by field name, a
// message for the whole form, and the idempotency key minted when the form was rendered.
//
// Input names are the domain's field paths ("ship_by", "line_items[2].quantity"), so a
// fault.Error's Field names the input it is about, exactly as the API reports it.
type form struct {
	Key    string
	Values url.Values
	Errors map[string]string
	Error  string
	// Scope, when set, goes into the element IDs of the form's fields ("f-escalate-note"): a
	// page with several forms that take the same field (a note) needs an ID per form, or a
	// label[for] names only the first of them.
	Scope string
}

// newForm returns a form holding values, with a fresh idempotency key: a form rendered once
// and submitted twice carries the same key both times, so the command applies once.
func newForm(values url.Values) *form {
	if values == nil {
		values = url.Values{}
	}
	return &form{Key: newToken(), Values: values, Errors: map[string]string{}}
}

// Value is what was typed in the input name.
func (f *form) Value(name string) string { return f.Values.Get(name) }

// Has reports whether a checkbox or radio input name had value v.
func (f *form) Has(name, v string) bool {
	for _, x := range f.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// Err is the error about the input name.
func (f *form) Err(name string) string { return f.Errors[name] }

// Failed reports whether the form has any error.
func (f *form) Failed() bool { return f.Error != "" || len(f.Errors) > 0 }

// add records an error about one input; the first error about an input wins.
func (f *form) add(name, msg string) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = msg
	}
}

// setError puts a domain error where the person will look for it: next to its field, or at the
// top of the form. It reports false for errors that are not the person's to fix (internal).
func (f *form) setError(err error) bool {
	e, ok := fault.As(err)
	if !ok || e.Code == fault.Internal {
		return false
	}
	msg := sentence(e.Message)
	if e.Reason == "version_mismatch" || e.Reason == "proposal_changed" {
		f.Error = "The order changed since you opened this page. Review it and try again."
		return true
	}
	field := e.Field
	if field == "" {
		field = reasonField[e.Reason]
	}
	if field == "" || field == "idempotency_key" {
		f.Error = msg
		return true
	}
	f.add(field, msg)
	return true
}

// reasonField places domain refusals that carry no field next to the input they are about.
var reasonField = map[string]string{
	"supplier_not_eligible":       "supplier_id",
	"method_limit_exceeded":       "method",
	"method_currency_unsupported": "method",
}

// sentence makes a domain message read as a sentence: capitalized, with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = capitalize(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// keyPattern is the shape of the idempotency keys the portal mints.
var keyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// idempotencyKey reads the key a form was rendered with; a form without a valid one is stale
// or forged, and the person is asked to reload.
func idempotencyKey(r *http.Request, f *form) (string, bool) {
	k := r.PostForm.Get("idempotency_key")
	if !keyPattern.MatchString(k) {
		f.Error = "This form has expired. Reload the page and submit it again."
		return "", false
	}
	return "web:" + k, true
}

// field is one input as the "field" template renders it.
type field struct {
	Form     *form
	Name     string
	Label    string
	Type     string
	Required bool
	Hint     string
	Attrs    map[string]string // extra attributes: min, step, inputmode, autocomplete
}

// ID is the element ID of the input: the name with every character that is not a letter or
// digit replaced, so that CSS selectors and label[for] stay simple.
func (fl field) ID() string {
	if fl.Form != nil && fl.Form.Scope != "" {
		return inputID(fl.Form.Scope + "-" + fl.Name)
	}
	return inputID(fl.Name)
}

func inputID(name string) string {
	var b strings.Builder
	b.WriteString("f-")
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// Value, Err: the form's, for this input.
func (fl field) Value() string { return fl.Form.Value(fl.Name) }
func (fl field) Err() string   { return fl.Form.Err(fl.Name) }

// newField is the template function that builds a field: field form name label [type] [opts…],
// where opts are "required", "hint=…" or "attr=value".
func newField(f *form, name, label string, rest ...string) field {
	fl := field{Form: f, Name: name, Label: label, Type: "text", Attrs: map[string]string{}}
	for i, x := range rest {
		switch {
		case x == "":
		case i == 0 && !strings.Contains(x, "=") && x != "required":
			fl.Type = x
		case x == "required":
			fl.Required = true
		case strings.HasPrefix(x, "hint="):
			fl.Hint = strings.TrimPrefix(x, "hint=")
		default:
			k, v, _ := strings.Cut(x, "=")
			fl.Attrs[k] = v
		}
	}
	return fl
}

// indexed is name[i].sub, the domain's path of a list element's field.
func indexed(name string, i int, sub string) string {
	return name + "[" + strconv.Itoa(i) + "]." + sub
}

// remapIndex rewrites a domain field path whose list index counts only the rows that were
// filled in ("line_items[0].quantity") to the row of the form it came from.
func remapIndex(field, list string, rows []int) string {
	rest, ok := strings.CutPrefix(field, list+"[")
	if !ok {
		return field
	}
	num, tail, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if !ok || err != nil || i < 0 || i >= len(rows) {
		return field
	}
	return list + "[" + strconv.Itoa(rows[i]) + "]" + tail
}
