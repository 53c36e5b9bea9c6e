package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// changeOwnPassword changes a logged-in user's password from current to next on the password
// page and fails the test unless it worked.
func changeOwnPassword(t *testing.T, c *client, current, next string) {
	t.Helper()
	res := c.post("/account/password", url.Values{"current_password": {current}, "password": {next}, "password_confirm": {next}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
		t.Fatalf("change the password: %d to %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
}

// TestOneTimePasswordMustChange ensures a user who logs in with a one-time password an admin
// reset is sent to the password page, which says why; every other page, GET or form, answers
// 303 to it; logout and the static assets still work; after the change the user goes anywhere
// and the one-time password no longer logs in; a reset ends the sessions opened before it, and
// a new reset forces the change again.
func TestOneTimePasswordMustChange(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		admin := w.login("admin")
		path := "/admin/users/" + w.supplierID()
		action := path + "/users/" + w.actors["supplier"].UserID + "/reset-password"
		reset := func() string {
			t.Helper()
			res := admin.post(action, url.Values{"idempotency_key": {formKey(t, admin.get(path).body, action)}})
			m := oneTimePasswordRE.FindStringSubmatch(res.body)
			if res.status != http.StatusOK || m == nil {
				t.Fatalf("reset: %d", res.status)
			}
			return m[1]
		}
		// A session opened before the reset ends at its next request: the password it was
		// opened with is gone.
		before := w.login("supplier")
		oneTime := reset()
		if res := before.get("/"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2F" {
			t.Errorf("a session from before the reset: %d to %q", res.status, res.header.Get("Location"))
		}

		c := w.client()
		res := c.post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {oneTime}, "next": {"/payouts"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/password" {
			t.Fatalf("login with the one-time password: %d to %q", res.status, res.header.Get("Location"))
		}
		page := c.get("/account/password")
		if page.status != http.StatusOK || !strings.Contains(page.body, "You logged in with a one-time password") {
			t.Errorf("the password page does not say why: %d", page.status)
		}
		for _, p := range []string{"/", "/payouts", "/admin/suppliers", "/orders/new"} {
			if res := c.get(p); res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/password" {
				t.Errorf("GET %s before the change: %d to %q", p, res.status, res.header.Get("Location"))
			}
		}
		if res := c.post("/orders/new", url.Values{}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/password" {
			t.Errorf("a form before the change: %d to %q", res.status, res.header.Get("Location"))
		}
		if res := c.get("/static/app.css"); res.status != http.StatusOK {
			t.Errorf("the stylesheet before the change: %d", res.status)
		}
		// The same password again is no change.
		res = c.post("/account/password", url.Values{"current_password": {oneTime}, "password": {oneTime}, "password_confirm": {oneTime}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-password-error"`) ||
			!strings.Contains(res.body, "You logged in with a one-time password") {
			t.Errorf("the one-time password as the new one: %d", res.status)
		}
		changeOwnPassword(t, c, oneTime, "supplier's own passphrase")
		if res := c.get("/payouts"); res.status != http.StatusOK {
			t.Errorf("GET /payouts after the change: %d", res.status)
		}
		if res := c.get("/account/password"); strings.Contains(res.body, "You logged in with a one-time password") {
			t.Error("the password page still says the password must change")
		}
		if res := w.client().post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {oneTime}}); res.status != http.StatusUnauthorized {
			t.Errorf("the old one-time password: %d", res.status)
		}
		own := w.client()
		if res := own.post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {"supplier's own passphrase"}, "next": {"/payouts"}}); res.status != http.StatusSeeOther ||
			res.header.Get("Location") != "/payouts" {
			t.Errorf("login with the own password: %d to %q", res.status, res.header.Get("Location"))
		}

		// A new reset ends the open session and forces the change again at the next login.
		again := reset()
		if res := own.get("/payouts"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Fpayouts" {
			t.Errorf("after a second reset: %d to %q", res.status, res.header.Get("Location"))
		}
		if res := own.post("/logout", url.Values{}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?out=1" {
			t.Errorf("logout while forced: %d to %q", res.status, res.header.Get("Location"))
		}
		if res := own.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
			t.Errorf("after logout: %d to %q", res.status, res.header.Get("Location"))
		}
		c2 := w.client()
		if res := c2.post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {again}}); res.header.Get("Location") != "/account/password" {
			t.Errorf("login after the second reset: %d to %q", res.status, res.header.Get("Location"))
		}
	})
}

// TestSeededUserNotForced ensures a user created with a chosen password (the test users, the
// demo's users) is not sent to the password page.
func TestSeededUserNotForced(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		c := w.client()
		res := c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}, "next": {"/notifications"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/notifications" {
			t.Errorf("login: %d to %q", res.status, res.header.Get("Location"))
		}
		if res := c.get("/"); res.status != http.StatusOK {
			t.Errorf("dashboard: %d", res.status)
		}
	})
}
