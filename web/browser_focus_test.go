package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// pickerPseudo is the user-agent pseudo-element of Chromium's calendar button, the Tab stop a
// date input has after its month, day and year.
const pickerPseudo = "-webkit-calendar-picker-indicator"

// innerStop reads how the focused Tab stop inside the user-agent shadow tree of s's element (the
// element with the ID s.ID) shows focus, through the DevTools protocol: no script reaches that
// tree, and the page sees only its host as focused within. The stop is the tree's one element
// that Tab reaches (a tabindex of 0 or more) — the calendar button of a date input; it shows
// focus by an outline or a box shadow while it is opaque and visible. s comes back with the
// stop's pseudo-element added to its path and how it shows focus ("" when it does not).
func (p *person) innerStop(s focusStop) focusStop {
	p.t.Helper()
	if s.ID == "" {
		p.t.Fatalf("%s: the focus is inside %s, which has no ID to find it by in the DevTools protocol's tree", p.role, s.Path)
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	depth, pierce := int64(-1), true
	doc, err := chromedp.Call(ctx, dom.GetDocument, dom.GetDocumentParams{Depth: &depth, Pierce: &pierce})
	if err != nil {
		p.t.Fatalf("%s: read the document: %v", p.role, err)
	}
	host := findNode(doc.Root, func(n *cdp.Node) bool { return attr(n, "id") == s.ID })
	if host == nil {
		p.t.Fatalf("%s: no element #%s in the DevTools protocol's tree", p.role, s.ID)
	}
	var stops []*cdp.Node
	for _, root := range host.ShadowRoots {
		if root.ShadowRootType != cdp.ShadowRootTypeUserAgent {
			continue
		}
		walkNodes(root, func(n *cdp.Node) {
			if i, err := strconv.Atoi(attr(n, "tabindex")); err == nil && i >= 0 {
				stops = append(stops, n)
			}
		})
	}
	if len(stops) != 1 {
		p.t.Fatalf("%s: the focus is inside %s, whose user-agent shadow tree has %d Tab stops, not one: which has it is unknown",
			p.role, s.Path, len(stops))
	}
	stop := stops[0]
	style, err := chromedp.Call(ctx, css.GetComputedStyleForNode, css.GetComputedStyleForNodeParams{NodeID: stop.NodeID})
	if err != nil {
		p.t.Fatalf("%s: the computed style of the Tab stop inside %s: %v", p.role, s.Path, err)
	}
	cs := map[string]string{}
	for _, prop := range style.ComputedStyle {
		cs[prop.Name] = prop.Value
	}
	s.Path += "::" + attr(stop, "pseudo")
	s.Shown = focusShown(cs)
	return s
}

// focusShown says how an element of the computed style cs shows focus: its outline or box
// shadow, or "" when it has neither or cannot be seen (transparent, hidden).
func focusShown(cs map[string]string) string {
	if op, err := strconv.ParseFloat(cs["opacity"], 64); err != nil || op == 0 || cs["visibility"] != "visible" || cs["display"] == "none" {
		return ""
	}
	var shown []string
	if w, _ := strconv.ParseFloat(strings.TrimSuffix(cs["outline-width"], "px"), 64); cs["outline-style"] != "none" && w > 0 {
		shown = append(shown, "outline "+cs["outline-width"]+" "+cs["outline-style"])
	}
	if b := cs["box-shadow"]; b != "" && b != "none" {
		shown = append(shown, "box-shadow "+b)
	}
	return strings.Join(shown, " ")
}

// attr is the value of n's attribute name; "" when it has none.
func attr(n *cdp.Node, name string) string {
	for i := 0; i+1 < len(n.Attributes); i += 2 {
		if n.Attributes[i] == name {
			return n.Attributes[i+1]
		}
	}
	return ""
}

// walkNodes calls visit on n and every node below it: its children and the shadow roots it hosts.
func walkNodes(n *cdp.Node, visit func(*cdp.Node)) {
	visit(n)
	for _, c := range n.Children {
		walkNodes(c, visit)
	}
	for _, r := range n.ShadowRoots {
		walkNodes(r, visit)
	}
}

// findNode is the first node at or below n, children first, that is, or nil.
func findNode(n *cdp.Node, is func(*cdp.Node) bool) *cdp.Node {
	var found *cdp.Node
	walkNodes(n, func(m *cdp.Node) {
		if found == nil && is(m) {
			found = m
		}
	})
	return found
}

// TestDatePickerFocusShown ensures Tab shows where the focus is on each stop of a native date
// input with the portal's stylesheets — its month, day and year, then Chromium's calendar
// button, which Pico makes transparent and app.css shows with a ring while it has the focus —
// and that the focus check can fail there: with the button's ring styled away, the stop on it
// is reported as not showing focus. R24
func TestDatePickerFocusShown(t *testing.T) {
	const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>date</title>` +
		`<link rel="stylesheet" href="/static/pico.min.css"><link rel="stylesheet" href="/static/app.css">%s</head>` +
		`<body><main id="main" class="container"><h1>Date</h1><form><label for="f-before">Before</label><input id="f-before" name="before">` +
		`<label for="f-day">Ship by</label><input id="f-day" name="day" type="date" required>` +
		`<button type="submit">Send</button></form></main></body></html>`
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir("static"))))
	for path, style := range map[string]string{"/date": "",
		"/date-hidden": `<style>input[type=date]::-webkit-calendar-picker-indicator { opacity: 0 !important; }</style>`} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, fmt.Sprintf(page, style))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := (&world{t: t, srv: srv}).person(browser(t), "visitor")

	p.visit("/date")
	stops := p.tabTo("form button[type=submit]", false)
	day := `input#f-day[name="day"]`
	want := []string{`input#f-before[name="before"]`, day, day, day, day + "::" + pickerPseudo, "button"}
	var seen []string
	for _, s := range stops {
		seen = append(seen, s.Path+": "+s.Shown)
	}
	if len(stops) != len(want) {
		t.Fatalf("the Tab stops are:\n  %s\nwant %d ending %v", strings.Join(seen, "\n  "), len(want), want)
	}
	for i, w := range want {
		if !strings.HasSuffix(stops[i].Path, w) {
			t.Errorf("stop %d is %s, want %s", i+1, seen[i], w)
		}
	}
	if !strings.HasPrefix(stops[4].Shown, "outline 2px solid") {
		t.Errorf("the calendar button shows focus as %q, want app.css's ring", stops[4].Shown)
	}
	p.tabTo("#f-before", true) // back across the button: every stop shows its focus

	p.visit("/date-hidden")
	p.tabTo("#f-day", false)
	for range 3 {
		p.press("Tab through the date", "\t")
	}
	if s := p.focusStop("#f-day"); !s.Inner || !strings.HasSuffix(s.Path, "::"+pickerPseudo) || s.Shown != "" {
		t.Errorf("with the ring styled away, the calendar button's stop is %+v: want it reported as not showing focus", s)
	}
}
