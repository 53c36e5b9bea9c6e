package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// docExample is one `$ curl …` command of docs/api.md and the output the page shows under it.
type docExample struct {
	line    int    // of the command in the page, for messages
	command string // continuation lines joined, without the "$ "
	output  []string
}

// docBlock is one ```sh block of the page: its text and its curl examples, in order.
type docBlock struct {
	line     int
	text     string
	examples []docExample
}

// parseDocBlocks reads the ```sh blocks of a Markdown page. In them a line "$ curl …" starts an
// example (continued by lines ending in a backslash), the lines up to the next "$ " line are its
// output, and "$ # …" is a comment. It fails on a curl command it would not run: one outside a
// ```sh block, or one that elides part of itself with "…".
func parseDocBlocks(doc string) ([]docBlock, error) {
	var blocks []docBlock
	var cur *docBlock
	var ex *docExample
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case cur == nil && strings.HasPrefix(l, "```sh"):
			blocks = append(blocks, docBlock{line: i + 1})
			cur, ex = &blocks[len(blocks)-1], nil
			continue
		case cur == nil:
			if strings.Contains(l, "curl ") && strings.HasPrefix(strings.TrimSpace(l), "$ curl") {
				return nil, fmt.Errorf("line %d: a curl example outside a ```sh block", i+1)
			}
			continue
		case strings.HasPrefix(l, "```"):
			cur, ex = nil, nil
			continue
		}
		cur.text += l + "\n"
		rest, isCmd := strings.CutPrefix(l, "$ ")
		switch {
		case isCmd && strings.HasPrefix(rest, "curl "):
			start := i
			for strings.HasSuffix(rest, "\\") && i+1 < len(lines) {
				i++
				cur.text += lines[i] + "\n"
				rest = strings.TrimSuffix(rest, "\\") + " " + strings.TrimSpace(lines[i])
			}
			if strings.Contains(rest, "…") {
				return nil, fmt.Errorf("line %d: the command elides part of itself (…): write it out", start+1)
			}
			cur.examples = append(cur.examples, docExample{line: start + 1, command: rest})
			ex = &cur.examples[len(cur.examples)-1]
		case isCmd:
			ex = nil // a comment or another program: its output is not a curl answer
		case strings.Contains(l, "curl "):
			return nil, fmt.Errorf("line %d: curl on a line that is not a `$ curl` command", i+1)
		case ex != nil && strings.TrimSpace(l) != "":
			ex.output = append(ex.output, l)
		}
	}
	return blocks, nil
}

var (
	loopRE    = regexp.MustCompile(`\$\(for i in \$\(seq (\d+)\); do echo -n "([^"]*)"; done\)`)
	varRE     = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	statusRE  = regexp.MustCompile(`^HTTP/1\.1 (\d{3})\b`)
	headerRE  = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*): (.*)$`)
	problemRE = regexp.MustCompile(`^\{"type":"https://tradeassure\.dev/problems/`)
	countRE   = regexp.MustCompile(`^\s+(\d+) (\d{3})$`)
	hashRE    = regexp.MustCompile(`sha256:[0-9a-f]+`)
)

// shellWords splits a command as a POSIX shell would for the subset the page uses: words
// separated by blanks, '…' literal, "…" with $VAR expansion and \ escapes, unquoted $VAR, and an
// unquoted | that ends the command (the rest is returned as the pipeline). A variable not in env
// is an error, so an example cannot use one the test does not bind.
func shellWords(s string, env map[string]string) (words []string, pipe string, err error) {
	var w strings.Builder
	inWord := false
	expand := func(i int) (int, error) {
		m := varRE.FindStringSubmatch(s[i:])
		if m == nil {
			return 0, fmt.Errorf("unsupported $ at %q", s[i:])
		}
		v, ok := env[m[1]]
		if !ok {
			return 0, fmt.Errorf("variable $%s is not bound", m[1])
		}
		w.WriteString(v)
		return len(m[0]), nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			i++
			continue
		case c == '|':
			if inWord {
				words = append(words, w.String())
			}
			return words, strings.TrimSpace(s[i+1:]), nil
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, "", fmt.Errorf("unterminated ' in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`, s[i+1]) >= 0:
					w.WriteByte(s[i+1])
					i++
				case s[i] == '$':
					n, err := expand(i)
					if err != nil {
						return nil, "", err
					}
					i += n - 1
				default:
					w.WriteByte(s[i])
				}
			}
			if i >= len(s) {
				return nil, "", fmt.Errorf("unterminated \" in %q", s)
			}
			i++
		case c == '\\' && i+1 < len(s):
			w.WriteByte(s[i+1])
			i += 2
		case c == '$':
			n, err := expand(i)
			if err != nil {
				return nil, "", err
			}
			i += n
		default:
			w.WriteByte(c)
			i++
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, "", nil
}

// curlCall is what one curl command asks: requests to send, and how to print the answers.
type curlCall struct {
	method      string
	headers     http.Header
	data        []byte
	hasData     bool
	urls        []string
	writeFormat string // -w
	pipe        string
}

// parseCurl reads the curl options the page uses: -s, -i, -X, -H, -d/--data/--data-binary
// (@file reads dir/file), -w and -o; anything else is an error. A $(for … seq N …) loop is
// expanded first, as the shell would.
func parseCurl(command string, env map[string]string, dir string) (*curlCall, error) {
	if m := loopRE.FindStringSubmatchIndex(command); m != nil {
		n, _ := strconv.Atoi(command[m[2]:m[3]])
		command = command[:m[0]] + strings.Repeat(command[m[4]:m[5]], n) + command[m[1]:]
	}
	words, pipe, err := shellWords(command, env)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 || words[0] != "curl" {
		return nil, fmt.Errorf("not a curl command: %q", command)
	}
	c := &curlCall{headers: http.Header{}, pipe: pipe}
	arg := func(i int) (string, error) {
		if i+1 >= len(words) {
			return "", fmt.Errorf("%s takes a value", words[i])
		}
		return words[i+1], nil
	}
	for i := 1; i < len(words); i++ {
		wd := words[i]
		switch wd {
		case "-s", "-i", "-si", "-is":
			continue
		case "-X", "-H", "-d", "--data", "--data-binary", "-w", "-o":
		default:
			if strings.HasPrefix(wd, "http://") {
				c.urls = append(c.urls, wd)
				continue
			}
			return nil, fmt.Errorf("unsupported curl argument %q", wd)
		}
		v, err := arg(i)
		if err != nil {
			return nil, err
		}
		i++
		switch wd {
		case "-X":
			c.method = v
		case "-H":
			name, value, ok := strings.Cut(v, ":")
			if !ok {
				return nil, fmt.Errorf("header %q has no colon", v)
			}
			c.headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		case "-d", "--data", "--data-binary":
			c.hasData = true
			if f, ok := strings.CutPrefix(v, "@"); ok {
				if c.data, err = os.ReadFile(filepath.Join(dir, f)); err != nil {
					return nil, err
				}
			} else {
				c.data = []byte(v)
			}
		case "-w":
			c.writeFormat = v
		case "-o":
			if v != "/dev/null" {
				return nil, fmt.Errorf("-o %s: only /dev/null", v)
			}
		}
	}
	if len(c.urls) == 0 {
		return nil, fmt.Errorf("no URL in %q", command)
	}
	if c.method == "" {
		c.method = http.MethodGet
		if c.hasData {
			c.method = http.MethodPost
		}
	}
	if c.hasData && c.headers.Get("Content-Type") == "" {
		c.headers.Set("Content-Type", "application/x-www-form-urlencoded") // as curl does
	}
	return c, nil
}

// curlAnswer is one response.
type curlAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (c *curlCall) send(rawURL string) (curlAnswer, error) {
	var body io.Reader
	if c.hasData {
		body = bytes.NewReader(c.data)
	}
	req, err := http.NewRequest(c.method, rawURL, body)
	if err != nil {
		return curlAnswer{}, err
	}
	req.Header = c.headers.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return curlAnswer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return curlAnswer{status: res.StatusCode, header: res.Header, body: b}, err
}

// jsonKeys lists the object keys of a JSON text at object depth 1 or 2 (the top level, and the
// objects of its arrays and fields), skipping strings. It reads the page's trimmed output (with
// "…" in it) as well as a real body.
func jsonKeys(text string) map[string]bool {
	keys := map[string]bool{}
	depth := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '"':
			j := i + 1
			for ; j < len(text) && text[j] != '"'; j++ {
				if text[j] == '\\' {
					j++
				}
			}
			if j+1 < len(text) && text[j+1] == ':' && depth >= 1 && depth <= 2 {
				keys[text[i+1:j]] = true
			}
			i = j
		}
	}
	return keys
}

// checkAnswer compares an answer with the output the page shows: the status line, or the
// problem's status and reason, or a 2xx when neither is shown; every header shown (its value
// too, hashes aside); and every field name the shown JSON has at its first two levels.
func checkAnswer(out []string, got curlAnswer) error {
	if len(out) > 0 {
		if m := statusRE.FindStringSubmatch(out[0]); m != nil && m[1] != strconv.Itoa(got.status) {
			return fmt.Errorf("status %d, the page shows %s", got.status, m[1])
		}
	}
	want, reason := 0, ""
	body := out
	if len(out) > 0 {
		if m := statusRE.FindStringSubmatch(out[0]); m != nil {
			want, _ = strconv.Atoi(m[1])
			body = out[1:]
			for len(body) > 0 {
				h := headerRE.FindStringSubmatch(body[0])
				if h == nil {
					break
				}
				body = body[1:]
				vals := got.header.Values(h[1])
				if len(vals) == 0 {
					return fmt.Errorf("no %s header", h[1])
				}
				norm := func(s string) string { return hashRE.ReplaceAllString(s, "sha256:…") }
				if !strings.Contains(h[2], "…") && !slices.ContainsFunc(vals, func(v string) bool { return norm(v) == norm(h[2]) }) {
					return fmt.Errorf("%s: %q, the page shows %q", h[1], vals, h[2])
				}
			}
		}
	}
	text := strings.Join(body, "\n")
	if problemRE.MatchString(text) {
		m := regexp.MustCompile(`"status":(\d{3})`).FindStringSubmatch(text)
		r := regexp.MustCompile(`"reason":"([a-z0-9_]+)"`).FindStringSubmatch(text)
		if m == nil || r == nil {
			return fmt.Errorf("a problem without status or reason on the page")
		}
		if s, _ := strconv.Atoi(m[1]); want != 0 && s != want {
			return fmt.Errorf("the page shows status %d and a problem of %d", want, s)
		}
		want, _ = strconv.Atoi(m[1])
		reason = r[1]
	}
	switch {
	case want != 0 && got.status != want:
		return fmt.Errorf("status %d, the page shows %d: %s", got.status, want, got.body)
	case want == 0 && (got.status < 200 || got.status > 299):
		return fmt.Errorf("status %d, the page shows a success: %s", got.status, got.body)
	}
	if reason != "" {
		var p struct{ Reason string }
		if json.Unmarshal(got.body, &p) != nil || p.Reason != reason {
			return fmt.Errorf("reason %q, the page shows %q: %s", p.Reason, reason, got.body)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		have := jsonKeys(string(got.body))
		for k := range jsonKeys(text) {
			if !have[k] {
				return fmt.Errorf("no field %q in the answer: %s", k, got.body)
			}
		}
	}
	return nil
}

// checkCounts compares the status counts of a loop of requests piped to `sort | uniq -c` with
// the page's. Every status shown must occur and no other; a rate limit refills as requests go,
// so a status may be counted a few more times than shown only at the expense of the others.
func checkCounts(out []string, statuses []int) error {
	want := map[int]int{}
	for _, l := range out {
		m := countRE.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("not a count line: %q", l)
		}
		n, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		want[s] = n
	}
	got := map[int]int{}
	for _, s := range statuses {
		got[s]++
	}
	for s := range got {
		if want[s] == 0 {
			return fmt.Errorf("status %d %d times, the page shows none", s, got[s])
		}
	}
	for s, n := range want {
		if got[s] == 0 {
			return fmt.Errorf("no status %d, the page shows %d", s, n)
		}
	}
	if got[200] < want[200] {
		return fmt.Errorf("%d answers 200, the page shows %d (the burst)", got[200], want[200])
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for the server's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// hookReceiver answers webhook deliveries 204; hold makes it wait before answering, so that a
// redelivery stays pending while an example asks again.
type hookReceiver struct {
	mu   sync.Mutex
	gate chan struct{}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	gate := h.gate
	h.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) hold() (release func()) {
	g := make(chan struct{})
	h.mu.Lock()
	h.gate = g
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.gate = nil
		h.mu.Unlock()
		close(g)
	}
}

// TestDocCurlExamples runs every curl example of docs/api.md, in order, against `serve --demo`
// on SQLite, and fails when an answer is not what the page shows (checkAnswer), so that the page
// cannot drift from the API. The page's variables are bound to this server: $A its address,
// $BUYER $SUPPLIER $ADMIN the demo's keys, $SUP and $INSP the demo supplier and inspection
// company, $SHIP_BY a date 60 days ahead, $ORD a new draft order for each block that names it,
// and $ENDPOINT, $DELIVERY and $REF what the examples before registered, listed and uploaded.
// The receiver at 127.0.0.1:18096 is this test's.
func TestDocCurlExamples(t *testing.T) {
	raw, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	blocks, err := parseDocBlocks(doc)
	if err != nil {
		t.Fatalf("docs/api.md: %v", err)
	}
	recv := &hookReceiver{}
	hooks := httptest.NewServer(recv)
	defer hooks.Close()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout, log := &syncBuffer{}, &startLog{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--db", "sqlite:" + filepath.Join(t.TempDir(), "docs.db"),
			"--blobs", filepath.Join(t.TempDir(), "blobs"), "--addr", "127.0.0.1:0", "--worker-interval", "50ms"}, stdout, log)
	}()
	var addr string
	select {
	case addr = <-log.addr:
	case err := <-done:
		t.Fatalf("serve stopped before serving: %v\n%s", err, log)
	case <-time.After(3 * time.Minute):
		t.Fatalf("serve did not start:\n%s", log)
	}
	defer func() {
		stop()
		<-done
	}()

	env := docEnv(t, doc, stdout.String(), addr)
	dir := t.TempDir()
	// The file the upload example sends: a PDF of 57 bytes, as the page shows.
	pdf := "%PDF-1.4\n% spec sheet: hoodie, 200 g/m2 +/- 5%\n%%EOF\n"
	pdf += strings.Repeat("\n", 57-len(pdf))
	if err := os.WriteFile(filepath.Join(dir, "spec.pdf"), []byte(pdf), 0o600); err != nil {
		t.Fatal(err)
	}
	api := func(key, method, path string, body any, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, rd)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if method == http.MethodPost {
			req.Header.Set("Idempotency-Key", fmt.Sprintf("doctest-%d", time.Now().UnixNano()))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	placeDraft := func() string {
		var o struct{ ID string }
		api(env["BUYER"], "POST", "/v1/orders", map[string]any{"supplier_id": env["SUP"], "currency": "USD",
			"ship_by": env["SHIP_BY"], "compliance_confirmed": true}, &o)
		return o.ID
	}
	// confirmed places an order whose contract both parties agreed: US$11,600.00, 30% initial
	// (US$3,480.00), as the page's payment examples show.
	confirmed := func() string {
		id := placeDraft()
		c := map[string]any{"currency": "USD", "incoterm": "FOB", "ship_by": env["SHIP_BY"],
			"payment_terms":           map[string]any{"initial_bp": 3000},
			"line_items":              []any{map[string]any{"description": "Hoodie, organic cotton", "quantity": 1000, "unit": "pcs", "unit_price": 1160}},
			"quality_requirements":    []any{map[string]any{"attribute": "Fabric weight", "requirement": "200", "unit": "g/m²", "tolerance": "± 5%"}},
			"compliance_requirements": []any{}, "attachments": []any{}}
		var o struct {
			Proposal struct{ Hash string }
		}
		api(env["SUPPLIER"], "POST", "/v1/orders/"+id+"/propose-contract", c, &o)
		api(env["BUYER"], "POST", "/v1/orders/"+id+"/confirm-contract", map[string]any{"hash": o.Proposal.Hash}, nil)
		return id
	}
	scenery := map[string]bool{}
	ran := 0
	for _, b := range blocks {
		if len(b.examples) == 0 {
			continue
		}
		benv := maps(env)
		if strings.Contains(b.text, "$ORD") {
			benv["ORD"] = placeDraft()
		}
		if strings.Contains(b.text, "$CONFIRMED") {
			benv["CONFIRMED"] = confirmed()
		}
		if strings.Contains(b.text, "$(for i in") {
			// The rate-limit examples use up a key's allowance: a key of their own.
			scenery["rate"] = true
			var k struct{ Token string }
			api(env["ADMIN"], "POST", "/v1/orgs/"+env["BUYER_ORG"]+"/api-keys", map[string]any{"role": "buyer", "name": "docs rate limit"}, &k)
			benv["BUYER"] = k.Token
		}
		if strings.Contains(b.text, "webhook-deliveries?endpoint_id=$ENDPOINT") {
			// The log shows an order placed, messaged and cancelled, delivered to the receiver.
			scenery["deliveries"] = true
			id := placeDraft()
			api(env["BUYER"], "POST", "/v1/orders/"+id+"/messages", map[string]any{"body": "hello"}, nil)
			api(env["BUYER"], "POST", "/v1/orders/"+id+"/cancel", map[string]any{"reason": "duplicate order"}, nil)
			waitDelivered(t, api, env, 3)
		}
		release := func() {}
		if strings.Contains(b.text, "/redeliver") {
			// The second redelivery must find the first still pending: the receiver holds it.
			scenery["redeliver"] = true
			release = recv.hold()
		}
		for _, ex := range b.examples {
			ran++
			cmd := strings.ReplaceAll(ex.command, "127.0.0.1:18096", strings.TrimPrefix(hooks.URL, "http://"))
			call, err := parseCurl(cmd, benv, dir)
			if err != nil {
				t.Fatalf("docs/api.md:%d: %v", ex.line, err)
			}
			var statuses []int
			var last curlAnswer
			for _, u := range call.urls {
				last, err = call.send(u)
				if err != nil {
					t.Fatalf("docs/api.md:%d: %v", ex.line, err)
				}
				statuses = append(statuses, last.status)
			}
			if call.pipe != "" {
				if call.pipe != "sort | uniq -c" || call.writeFormat != `%{http_code}\n` {
					t.Fatalf("docs/api.md:%d: unsupported pipeline %q with -w %q", ex.line, call.pipe, call.writeFormat)
				}
				if err := checkCounts(ex.output, statuses); err != nil {
					t.Errorf("docs/api.md:%d: %v", ex.line, err)
				}
				continue
			}
			if len(call.urls) != 1 {
				t.Fatalf("docs/api.md:%d: %d URLs without a pipeline", ex.line, len(call.urls))
			}
			if err := checkAnswer(ex.output, last); err != nil {
				t.Errorf("docs/api.md:%d: %s\n  %v\n  answer %d %v %s", ex.line, ex.command, err, last.status, last.header, last.body)
			}
			capture(call, last, env, benv)
		}
		release()
	}
	for _, s := range []string{"rate", "deliveries", "redeliver"} {
		if !scenery[s] {
			t.Errorf("no block needed the %s scenery: update the test with the page", s)
		}
	}
	if ran < 25 {
		t.Fatalf("ran only %d curl examples", ran)
	}
	t.Logf("%d curl examples of docs/api.md ran", ran)
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// capture binds what later examples name: the endpoint registered, the first delivery of its
// log and the file uploaded.
func capture(call *curlCall, a curlAnswer, env, benv map[string]string) {
	if a.status >= 300 {
		return
	}
	u, _ := url.Parse(call.urls[0])
	var v struct {
		ID       any    `json:"id"`
		Ref      string `json:"ref"`
		Payments []struct {
			Reference string `json:"reference"`
		} `json:"payments"`
		Items []struct {
			ID any `json:"id"`
		} `json:"items"`
	}
	json.Unmarshal(a.body, &v)
	set := func(k, val string) { env[k], benv[k] = val, val }
	switch {
	case call.method == "POST" && u.Path == "/v1/webhook-endpoints":
		set("ENDPOINT", fmt.Sprint(v.ID))
	case call.method == "POST" && strings.HasSuffix(u.Path, "/pay") && len(v.Payments) > 0:
		set("PAYREF", v.Payments[len(v.Payments)-1].Reference)
	case call.method == "POST" && u.Path == "/v1/files" && env["REF"] == "":
		set("REF", v.Ref)
	case call.method == "GET" && u.Path == "/v1/webhook-deliveries" && len(v.Items) > 0 && env["DELIVERY"] == "":
		set("DELIVERY", fmt.Sprint(v.Items[0].ID))
	}
}

// waitDelivered waits (bounded) until the endpoint's log has at least n entries, the first of
// them delivered: the dispatcher runs every 50 ms.
func waitDelivered(t *testing.T, api func(key, method, path string, body any, out any), env map[string]string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var page struct {
			Items []struct{ State string }
		}
		api(env["BUYER"], "GET", "/v1/webhook-deliveries?endpoint_id="+env["ENDPOINT"], nil, &page)
		if len(page.Items) >= n && page.Items[0].State == "delivered" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's deliveries did not go out: %+v", page.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// docEnv binds the page's variables to the demo server, and checks the page's account of what
// the demo loads against what it printed.
func docEnv(t *testing.T, doc, stdout, addr string) map[string]string {
	t.Helper()
	want := regexp.MustCompile(`# (demo loaded: \d+ orders)`).FindStringSubmatch(doc)
	if want == nil || !strings.Contains(stdout, want[1]) {
		t.Fatalf("the page says %q; serve --demo printed:\n%s", want, stdout)
	}
	env := map[string]string{"A": addr, "SHIP_BY": time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 60).Format(time.RFC3339)}
	for _, l := range strings.Split(stdout, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && strings.HasPrefix(f[1], "ta_key_") {
			env[strings.ToUpper(f[0])] = f[1]
		}
	}
	for _, k := range []string{"BUYER", "SUPPLIER", "INSPECTOR", "ADMIN"} {
		if env[k] == "" {
			t.Fatalf("no %s key in:\n%s", strings.ToLower(k), stdout)
		}
	}
	first := func(key string) map[string]any {
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/orders?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct{ Items []map[string]any }
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil || len(page.Items) == 0 {
			t.Fatalf("GET /v1/orders: %d %v", res.StatusCode, err)
		}
		return page.Items[0]
	}
	env["SUP"] = fmt.Sprint(first(env["SUPPLIER"])["supplier_id"])
	insp, _ := first(env["INSPECTOR"])["inspection"].(map[string]any)
	env["INSP"] = fmt.Sprint(insp["inspector_id"])
	env["BUYER_ORG"] = fmt.Sprint(first(env["BUYER"])["buyer_id"])
	return env
}
