package api_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsPage ensures /docs is a readable reference of the API as served: every operation of
// /openapi.json has its section, every in-page link lands on an element, and nothing is loaded
// from elsewhere (no script, no stylesheet link, no external URL), under a strict CSP.
func TestDocsPage(t *testing.T) {
	w := newWorld(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db")) // no database in play: one is enough
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	w.ok(w.call("", "GET", "/openapi.json", nil, &doc), 200)
	r := w.ok(w.call("", "GET", "/docs", nil, nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	page := string(r.body)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		ids[m[1]] = true
	}
	ops := 0
	for path, methods := range doc.Paths {
		for method, op := range methods {
			ops++
			if !ids[op.OperationID] {
				t.Errorf("%s %s (%s) has no section", method, path, op.OperationID)
			}
			if !strings.Contains(page, "<code>"+path+"</code>") {
				t.Errorf("%s %s: path not shown", method, path)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !ids["model-"+name] {
			t.Errorf("model %s has no section", name)
		}
	}
	if ops < 40 {
		t.Errorf("only %d operations in the spec: the test reads the wrong document", ops)
	}
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !ids[m[1]] {
			t.Errorf("link to #%s lands nowhere", m[1])
		}
	}
	for _, bad := range []string{"<script", "<link", "src=", "url(", `href="http`, "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: it must load nothing from elsewhere", bad)
		}
	}
	if !strings.Contains(page, "required") || !strings.Contains(page, "at most") {
		t.Error("the page shows no required fields or limits")
	}
}
