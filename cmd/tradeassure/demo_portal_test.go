package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/web"
)

// portalUserRE is one line of the demo's portal users as demoUsers prints them.
var portalUserRE = regexp.MustCompile(`(?m)^  (\S+)\s+(\S+@\S+)\s+(demo-[0-9a-f]+)$`)

// orderLinkRE is an order listed on a dashboard: its link, to the case file for an arbiter.
var orderLinkRE = regexp.MustCompile(`<a href="/orders/ord_[0-9a-f]+(/case)?">#`)

// TestDemoPortal is the "done when": on a fresh database, `serve --demo` shows a login
// page, and each demo user it prints reaches a populated dashboard. It builds the server as
// serve does (newServer: loadDemo, then demoUsers, then the one handler), serves that handler,
// reads the logins from what the demo printed, logs in through the login form as each of them
// and checks the dashboard lists orders — for the arbiter, escalated disputes with their case
// files; for the admin, the suppliers and the shipped orders awaiting release. On SQLite and
// PostgreSQL.
func TestDemoPortal(t *testing.T) {
	for name, dbURL := range map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "demo.db"),
		"postgres": pgtest.NewDatabase(t),
	} {
		t.Run(name, func(t *testing.T) {
			started := time.Now()
			var out bytes.Buffer
			s, err := newServer(context.Background(), serveConfig{addr: "127.0.0.1:8080", db: dbURL,
				blobs: filepath.Join(t.TempDir(), "blobs"), demo: true, sandboxDelay: time.Minute,
				rate: api.RateLimit{Burst: api.RateBurst, PerSecond: api.RatePerSecond}}, &out, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("serve --demo: %v\n%s", err, out.String())
			}
			t.Cleanup(s.close)
			srv := httptest.NewServer(s.handler)
			t.Cleanup(srv.Close)
			t.Logf("demo loaded in %v", time.Since(started).Round(time.Millisecond))

			users := portalUserRE.FindAllStringSubmatch(out.String(), -1)
			roles := map[string]bool{}
			for _, u := range users {
				roles[u[1]] = true
			}
			for _, r := range []string{"buyer", "supplier", "inspector", "arbiter", "admin"} {
				if !roles[r] {
					t.Fatalf("the demo printed no %s to log in as:\n%s", r, out.String())
				}
			}

			res, body := demoGet(t, http.DefaultClient, srv.URL+"/login")
			if res.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post" action="/login"`) ||
				!strings.Contains(body, `name="email"`) || !strings.Contains(body, `name="password"`) {
				t.Fatalf("GET /login: %d\n%s", res.StatusCode, body)
			}
			for _, u := range users {
				role, email, password := u[1], u[2], u[3]
				c := demoClient()
				demoGet(t, c, srv.URL+"/login") // as a browser would, before posting the form
				res := demoPost(t, c, srv.URL, "/login", url.Values{"email": {email}, "password": {password}, "next": {"/"}})
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
					t.Errorf("%s (%s) logs in: %d to %q", role, email, res.StatusCode, res.Header.Get("Location"))
					continue
				}
				res, body := demoGet(t, c, srv.URL+"/")
				if res.StatusCode != http.StatusOK || !strings.Contains(body, email) {
					t.Errorf("%s's dashboard: %d", role, res.StatusCode)
					continue
				}
				orders := orderLinkRE.FindAllStringSubmatch(body, -1)
				cases := 0
				for _, m := range orders {
					if m[1] != "" {
						cases++
					}
				}
				want := map[string][]string{
					"buyer":     {"Your orders", "Ningbo Sunrise Garments Co."},
					"supplier":  {"Your orders", "Trade Assurance coverage", "Maple Kids Apparel Inc."},
					"inspector": {"Inspections booked with you"},
					"arbiter":   {"Escalated disputes"},
					"admin":     {"Suppliers", "Ningbo Sunrise Garments Co.", "Shipped orders awaiting release"},
				}[role]
				for _, s := range want {
					if !strings.Contains(body, s) {
						t.Errorf("%s's dashboard lacks %q", role, s)
					}
				}
				switch {
				case role == "admin" && strings.Count(body, `<a href="/admin/suppliers/`) < 2:
					t.Errorf("the admin's dashboard lists %d suppliers", strings.Count(body, `<a href="/admin/suppliers/`))
				case len(orders) == 0: // the admin's are the shipped orders: serve's worker releases them in seconds
					t.Errorf("%s's dashboard lists no orders:\n%s", role, body)
				case role == "arbiter" && cases == 0:
					t.Errorf("the arbiter's queue links no case file")
				}
				t.Logf("%s: %d orders listed", role, len(orders))
			}

			// The portal refuses a form posted from another site in the handler serve uses.
			req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"email": {users[0][2]}, "password": {users[0][3]}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Origin", "https://evil.example")
			if res, _ := demoDo(t, demoClient(), req); res.StatusCode != http.StatusForbidden {
				t.Errorf("a cross-site login form: %d", res.StatusCode)
			}
		})
	}
}

// demoClient keeps cookies and does not follow redirects, so a test sees each answer.
func demoClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func demoDo(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func demoGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return demoDo(t, c, req)
}

// demoPost posts a form from the portal's own origin, as the browser does.
func demoPost(t *testing.T, c *http.Client, base, path string, v url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, _ := demoDo(t, c, req)
	if ck := res.Header.Get("Set-Cookie"); path == "/login" && res.StatusCode == http.StatusSeeOther && !strings.Contains(ck, web.SessionCookie+"=") {
		t.Errorf("login set no session cookie: %q", ck)
	}
	return res
}
