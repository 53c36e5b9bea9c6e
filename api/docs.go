package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// DocsPath is where the API reference is served: one HTML page rendered on the server from
// the same OpenAPI document as /openapi.json. It loads nothing from anywhere (no CDN, no
// script), so it works offline and under a strict content security policy.
const DocsPath = "/docs"

// docsHandler renders the reference once, on the first request: by then every operation is
// registered (RegisterWebhooks adds some after New returns).
func docsHandler(a huma.API) http.Handler {
	page := sync.OnceValues(func() ([]byte, error) { return renderDocs(a.OpenAPI()) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := page()
		if err != nil {
			http.Error(w, "the API reference could not be rendered", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		w.Write(b)
	})
}

// The reference reads the OpenAPI document as JSON into these few types, so it depends on
// the published format, not on the framework's Go types.
type docSpec struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]*docOp `json:"paths"`
	Components struct {
		Schemas map[string]*docSchema `json:"schemas"`
	} `json:"components"`
}

type docOp struct {
	ID          string            `json:"operationId"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags"`
	Parameters  []docParam        `json:"parameters"`
	Security    []json.RawMessage `json:"security"`
	Body        *struct {
		Required bool                  `json:"required"`
		Content  map[string]docContent `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Description string                `json:"description"`
		Content     map[string]docContent `json:"content"`
	} `json:"responses"`

	Method, Path string // filled in from the paths map
}

type docParam struct {
	Name        string     `json:"name"`
	In          string     `json:"in"`
	Required    bool       `json:"required"`
	Description string     `json:"description"`
	Schema      *docSchema `json:"schema"`
}

type docContent struct {
	Schema *docSchema `json:"schema"`
}

type docSchema struct {
	Type                 any                   `json:"type"` // a name, or a list of names in 3.1
	Ref                  string                `json:"$ref"`
	Description          string                `json:"description"`
	Format               string                `json:"format"`
	Items                *docSchema            `json:"items"`
	Properties           map[string]*docSchema `json:"properties"`
	Required             []string              `json:"required"`
	Enum                 []any                 `json:"enum"`
	Minimum              *float64              `json:"minimum"`
	Maximum              *float64              `json:"maximum"`
	MinLength            *int                  `json:"minLength"`
	MaxLength            *int                  `json:"maxLength"`
	MinItems             *int                  `json:"minItems"`
	MaxItems             *int                  `json:"maxItems"`
	Pattern              string                `json:"pattern"`
	Default              any                   `json:"default"`
	AdditionalProperties json.RawMessage       `json:"additionalProperties"`
	OneOf                []*docSchema          `json:"oneOf"`
	AnyOf                []*docSchema          `json:"anyOf"`
}

// docGroup is one tag's operations, in path order.
type docGroup struct {
	Tag string
	Ops []*docOp
}

type docField struct {
	Name, Description string
	Type              template.HTML
	Required          bool
	Rules             []string
}

type docModel struct {
	Name, Description string
	Fields            []docField
	Type              template.HTML // for schemas that are not objects
}

func renderDocs(o *huma.OpenAPI) ([]byte, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("docs: marshal spec: %w", err)
	}
	var spec docSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("docs: read spec: %w", err)
	}
	byTag := map[string][]*docOp{}
	for _, path := range slices.Sorted(maps.Keys(spec.Paths)) {
		for _, method := range []string{"get", "post", "put", "patch", "delete"} {
			op := spec.Paths[path][method]
			if op == nil {
				continue
			}
			op.Method, op.Path = strings.ToUpper(method), path
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			byTag[tag] = append(byTag[tag], op)
		}
	}
	var groups []docGroup
	for _, tag := range slices.Sorted(maps.Keys(byTag)) {
		groups = append(groups, docGroup{Tag: tag, Ops: byTag[tag]})
	}
	var models []docModel
	for _, name := range slices.Sorted(maps.Keys(spec.Components.Schemas)) {
		s := spec.Components.Schemas[name]
		m := docModel{Name: name, Description: s.Description}
		if len(s.Properties) == 0 {
			m.Type = typeHTML(s)
		}
		m.Fields = fields(s)
		models = append(models, m)
	}
	var buf bytes.Buffer
	err = docsTemplate.Execute(&buf, map[string]any{"Info": spec.Info, "Groups": groups, "Models": models})
	return buf.Bytes(), err
}

// fields lists an object schema's properties, required ones first, each in name order.
func fields(s *docSchema) []docField {
	var out []docField
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[name]
		out = append(out, docField{Name: name, Description: p.Description, Type: typeHTML(p),
			Required: slices.Contains(s.Required, name), Rules: rules(p)})
	}
	slices.SortStableFunc(out, func(a, b docField) int {
		switch {
		case a.Required == b.Required:
			return 0
		case a.Required:
			return -1
		}
		return 1
	})
	return out
}

// typeHTML names a schema's type, linking a reference to its model further down the page.
func typeHTML(s *docSchema) template.HTML {
	if s == nil {
		return "any"
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		e := template.HTMLEscapeString(name)
		return template.HTML(`<a href="#model-` + e + `">` + e + `</a>`)
	}
	var names []string
	switch t := s.Type.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, x := range t {
			names = append(names, fmt.Sprint(x))
		}
	}
	var parts []string
	for _, n := range names {
		switch n {
		case "array":
			parts = append(parts, "array of "+string(typeHTML(s.Items)))
		case "object":
			if len(s.AdditionalProperties) > 0 && string(s.AdditionalProperties) != "false" {
				var v docSchema
				if json.Unmarshal(s.AdditionalProperties, &v) == nil {
					parts = append(parts, "map of string to "+string(typeHTML(&v)))
					continue
				}
			}
			parts = append(parts, "object")
		default:
			parts = append(parts, template.HTMLEscapeString(n))
		}
	}
	for _, alt := range append(s.OneOf, s.AnyOf...) {
		parts = append(parts, string(typeHTML(alt)))
	}
	if len(parts) == 0 {
		return "any"
	}
	out := strings.Join(parts, " or ")
	if s.Format != "" {
		out += " <small>(" + template.HTMLEscapeString(s.Format) + ")</small>"
	}
	return template.HTML(out)
}

// rules are a schema's constraints in words: what the API refuses with a 422.
func rules(s *docSchema) []string {
	var out []string
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	if len(s.Enum) > 0 {
		var vs []string
		for _, v := range s.Enum {
			vs = append(vs, fmt.Sprint(v))
		}
		out = append(out, "one of: "+strings.Join(vs, ", "))
	}
	if s.Minimum != nil {
		out = append(out, "at least "+num(*s.Minimum))
	}
	if s.Maximum != nil {
		out = append(out, "at most "+num(*s.Maximum))
	}
	if s.MinLength != nil && *s.MinLength > 0 {
		out = append(out, fmt.Sprintf("at least %d characters", *s.MinLength))
	}
	if s.MaxLength != nil {
		out = append(out, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.MinItems != nil && *s.MinItems > 0 {
		out = append(out, fmt.Sprintf("at least %d items", *s.MinItems))
	}
	if s.MaxItems != nil {
		out = append(out, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if s.Pattern != "" {
		out = append(out, "matches "+s.Pattern)
	}
	if s.Default != nil {
		out = append(out, fmt.Sprintf("default %v", s.Default))
	}
	return out
}

func bodySchema(c map[string]docContent) (string, *docSchema) {
	for _, ct := range slices.Sorted(maps.Keys(c)) {
		return ct, c[ct].Schema
	}
	return "", nil
}

var docsTemplate = template.Must(template.New("docs").Funcs(template.FuncMap{
	"type":   typeHTML,
	"rules":  rules,
	"fields": fields,
	"body":   func(c map[string]docContent) *docSchema { _, s := bodySchema(c); return s },
	"ctype":  func(c map[string]docContent) string { ct, _ := bodySchema(c); return ct },
	"lower":  strings.ToLower,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Info.Title}} {{.Info.Version}} · reference</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;color:#1b1f24;margin:0;background:#fff}
header,main{max-width:68rem;margin:0 auto;padding:0 1rem}
header{border-bottom:1px solid #d0d7de;padding-bottom:1rem}
a{color:#0b57d0}a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
code,pre{font:0.9em ui-monospace,monospace;background:#f3f4f6;border-radius:4px;padding:0 .25em}
nav ul{columns:26rem;padding-left:1.2rem}nav li{break-inside:avoid;margin-bottom:.25rem}
section.op{border-top:1px solid #d0d7de;margin-top:2rem}
.m{display:inline-block;min-width:4.2em;font-weight:700;font-family:ui-monospace,monospace}
.m-get{color:#116329}.m-post{color:#0b57d0}.m-delete{color:#a40e26}.m-put,.m-patch{color:#8a4600}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #e5e7eb;padding:.35rem .5rem}
th{font-size:.85em;color:#57606a}
small{color:#57606a}.req{color:#a40e26;font-size:.8em}
@media (max-width:40rem){table,tbody,tr,td{display:block}thead{display:none}td{border:0;padding:.1rem 0}tr{border-bottom:1px solid #e5e7eb;padding:.4rem 0}}
</style>
</head>
<body>
<header>
<h1>{{.Info.Title}} <small>{{.Info.Version}}</small></h1>
<p>{{.Info.Description}}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with an API key: <code>Authorization: Bearer ta_key_…</code>. Send an <code>Idempotency-Key</code> header with every POST. Errors are RFC 9457 problem documents (<code>application/problem+json</code>) with a stable <code>reason</code> and, for a bad field, its name.</p>
<nav aria-label="Operations"><h2>Operations</h2>
{{range .Groups}}<h3>{{.Tag}}</h3><ul>{{range .Ops}}<li><a href="#{{.ID}}"><span class="m m-{{lower .Method}}">{{.Method}}</span> {{.Path}}</a> — {{.Summary}}</li>{{end}}</ul>{{end}}
<p><a href="#models">Models</a></p>
</nav>
</header>
<main>
{{range .Groups}}{{range .Ops}}
<section class="op" id="{{.ID}}" aria-labelledby="{{.ID}}-h">
<h2 id="{{.ID}}-h"><span class="m m-{{lower .Method}}">{{.Method}}</span> <code>{{.Path}}</code></h2>
<p><strong>{{.Summary}}</strong>{{if .Security}} · <small>requires an API key</small>{{else}} · <small>no authentication</small>{{end}} · <small>operation <code>{{.ID}}</code></small></p>
{{with .Description}}<p>{{.}}</p>{{end}}
{{with .Parameters}}<table><caption><strong>Parameters</strong></caption>
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
<tbody>{{range .}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{type .Schema}}</td><td>{{.Description}}{{with .Schema}}{{range rules .}}<br><small>{{.}}</small>{{end}}{{end}}</td></tr>{{end}}</tbody>
</table>{{end}}
{{with .Body}}<p><strong>Request body</strong>{{if .Required}} <span class="req">required</span>{{end}}: {{type (body .Content)}} <small>({{ctype .Content}})</small></p>{{end}}
<table><caption><strong>Responses</strong></caption>
<thead><tr><th scope="col">Status</th><th scope="col">Description</th><th scope="col">Body</th></tr></thead>
<tbody>{{range $code, $r := .Responses}}<tr><td><code>{{$code}}</code></td><td>{{$r.Description}}</td><td>{{with body $r.Content}}{{type .}} <small>({{ctype $r.Content}})</small>{{else}}—{{end}}</td></tr>{{end}}</tbody>
</table>
</section>
{{end}}{{end}}
<section id="models" aria-labelledby="models-h">
<h2 id="models-h">Models</h2>
{{range .Models}}<section class="op" id="model-{{.Name}}" aria-labelledby="model-{{.Name}}-h">
<h3 id="model-{{.Name}}-h">{{.Name}}</h3>
{{with .Description}}<p>{{.}}</p>{{end}}
{{with .Type}}<p>Type: {{.}}</p>{{end}}
{{with .Fields}}<table>
<thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
<tbody>{{range .}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}{{range .Rules}}<br><small>{{.}}</small>{{end}}</td></tr>{{end}}</tbody>
</table>{{end}}
</section>{{end}}
</section>
</main>
</body>
</html>
`))
