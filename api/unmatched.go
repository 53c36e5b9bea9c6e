package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// unmatched answers every /v1 request that no operation serves, so that a wrong path or method
// gets a problem document from the API rather than the portal's HTML page: 405 with Allow when
// the path names an operation's resource under another method, 404 otherwise. It reads the
// operations from the served OpenAPI document at request time, so operations registered after
// New (webhooks, notifications) count too.
func (s *Server) unmatched(a huma.API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow := allowedMethods(a.OpenAPI(), r.URL.Path)
		var p *Problem
		if len(allow) == 0 {
			p = errorf(http.StatusNotFound, "not_found", "no operation at %s: see /openapi.json", r.URL.Path)
		} else {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			p = errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s does not take %s; it takes %s",
				r.URL.Path, r.Method, strings.Join(allow, ", "))
		}
		s.m.requests.WithLabelValues("unmatched", strconv.Itoa(p.Status)).Inc()
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(p.Status)
		b, _ := jsonMarshal(p)
		w.Write(b)
	})
}

// allowedMethods lists the methods of the operations whose path template matches path, sorted;
// a GET allows HEAD too, as net/http serves it.
func allowedMethods(doc *huma.OpenAPI, path string) []string {
	var out []string
	for tmpl, item := range doc.Paths {
		if !templateMatches(tmpl, path) {
			continue
		}
		for method, op := range map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post,
			http.MethodPut: item.Put, http.MethodPatch: item.Patch, http.MethodDelete: item.Delete} {
			if op != nil && !slices.Contains(out, method) {
				out = append(out, method)
				if method == http.MethodGet {
					out = append(out, http.MethodHead)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// templateMatches reports whether path has the shape of an OpenAPI path template: the same
// segments, a {parameter} segment matching any non-empty one.
func templateMatches(tmpl, path string) bool {
	a, b := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.HasPrefix(a[i], "{") && strings.HasSuffix(a[i], "}") {
			if b[i] == "" {
				return false
			}
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
