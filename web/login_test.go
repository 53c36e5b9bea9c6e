package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/web"
)

const lockedMessage = "Too many attempts; try again in 15 minutes."

// TestLoginLockoutPage ensures the portal's login is throttled: the AccountFailuresMax-th wrong
// password locks the account, after which even the right one gets 429 with Retry-After and a
// message that names the wait; an unknown email locked the same way gets the same page; once the
// clock passes the lockout the right password logs in.
func TestLoginLockoutPage(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		c := w.client()
		for i := range access.AccountFailuresMax {
			res := c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {"not the password"}})
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong email or password.") {
				t.Fatalf("failure %d: %d", i+1, res.status)
			}
		}
		res := c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}})
		if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, lockedMessage) {
			t.Fatalf("right password while locked: %d\n%s", res.status, res.body)
		}
		if got := res.header.Get("Retry-After"); got != "900" {
			t.Errorf("Retry-After %q, want 900", got)
		}
		if !strings.Contains(res.body, `value="`+w.emails["buyer"]+`"`) || strings.Contains(res.body, password) {
			t.Error("the email is not kept, or the password is echoed")
		}
		if res := c.get("/"); res.status != http.StatusSeeOther {
			t.Errorf("a locked login opened a session: %d", res.status)
		}
		for range access.AccountFailuresMax {
			c.post("/login", url.Values{"email": {"nobody@portal.test"}, "password": {"not the password"}})
		}
		unknown := c.post("/login", url.Values{"email": {"nobody@portal.test"}, "password": {password}})
		if unknown.status != res.status || !strings.Contains(unknown.body, lockedMessage) {
			t.Errorf("a locked unknown email: %d, not the locked account's answer", unknown.status)
		}
		w.clock.Advance(access.LockoutBase)
		if res := c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}}); res.status != http.StatusSeeOther {
			t.Fatalf("login after the lockout: %d", res.status)
		}
	})
}

// TestLoginClientLockout ensures ClientFailuresMax failures from one address, spread over
// emails that each stay under the account limit, lock that address for everyone; behind a
// trusted proxy the address is the last one of X-Forwarded-For, so other clients of the proxy
// still log in and a forged first entry changes nothing.
func TestLoginClientLockout(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		post := func(c *client, email, pw, forwardedFor string) response {
			req, _ := http.NewRequest("POST", c.w.srv.URL+"/login",
				strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if forwardedFor != "" {
				req.Header.Set("X-Forwarded-For", forwardedFor)
			}
			return c.do(req)
		}
		guess := func(c *client, set string, i int, forwardedFor string) response {
			email := fmt.Sprintf("%s%d@portal.test", set, i/(access.AccountFailuresMax-1))
			return post(c, email, "wrong", forwardedFor)
		}
		// Behind a trusted proxy: a second portal on the same service.
		sessions := web.NewSessions(w.db.Sessions(), web.SessionConfig{})
		proxied := httptest.NewServer(web.New(w.svc, w.acc, sessions, web.Options{LookupUser: w.db.Access().User, TrustForwardedFor: true}))
		t.Cleanup(proxied.Close)
		pw := *w
		pw.srv = proxied
		pc := pw.client()
		for i := range access.ClientFailuresMax {
			if res := guess(pc, "proxied", i, fmt.Sprintf("10.0.0.%d, 198.51.100.9", i)); res.status != http.StatusUnauthorized {
				t.Fatalf("proxied guess %d: %d", i, res.status)
			}
		}
		if res := post(pc, w.emails["admin"], password, "198.51.100.9"); res.status != http.StatusTooManyRequests {
			t.Errorf("the proxied client after its limit: %d", res.status)
		}
		if res := post(pc, w.emails["admin"], password, "198.51.100.9, 198.51.100.11"); res.status != http.StatusSeeOther {
			t.Errorf("another client of the proxy: %d", res.status)
		}

		// Directly: every request comes from 127.0.0.1, whatever X-Forwarded-For says.
		c := w.client()
		for i := range access.ClientFailuresMax {
			if res := guess(c, "direct", i, "198.51.100.10"); res.status != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d", i, res.status)
			}
		}
		res := c.post("/login", url.Values{"email": {w.emails["admin"]}, "password": {password}})
		if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, lockedMessage) {
			t.Errorf("the right password from the locked address: %d", res.status)
		}
		w.clock.Advance(access.LockoutBase + time.Second)
		w.login("admin")
	})
}
