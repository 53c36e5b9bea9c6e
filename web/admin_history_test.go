package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/access"
)

var historyRowRE = regexp.MustCompile(`(?s)<tr>\s*<td data-label="When">[^<]*</td>\s*<td data-label="By">([^<]*)</td>\s*<td data-label="What">([^<]*)</td>\s*<td data-label="To">([^<]*)<br>`)

// TestAdminUsersHistory ensures the organization's users page lists, under History, one row per
// change the admin made through its forms — add, disable, enable, reset, issue, revoke — newest
// first, with the admin's email and the user or key it was done to; the same forms submitted
// again add no row; no password or key secret is on the page; a user's own password change is
// listed as theirs.
func TestAdminUsersHistory(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		admin := w.login("admin")
		path := "/admin/users/" + w.supplierID()
		post := func(action string, v url.Values) response {
			t.Helper()
			v.Set("idempotency_key", formKey(t, admin.get(path).body, action))
			res := admin.post(action, v)
			if res.status != http.StatusOK && res.status != http.StatusSeeOther {
				t.Fatalf("POST %s: %d", action, res.status)
			}
			if again := admin.post(action, v); again.status != http.StatusOK && again.status != http.StatusSeeOther {
				t.Fatalf("POST %s again: %d", action, again.status)
			}
			return res
		}
		res := post(path+"/users", url.Values{"email": {"trent@portal.test"}, "name": {"Trent"}, "role": {"supplier"}})
		secrets := oneTimePasswordRE.FindStringSubmatch(res.body)[1:]
		users, err := w.acc.Users(w.ctx, w.admin, w.supplierID())
		w.must("users", err)
		var trent access.User
		for _, u := range users {
			if u.Email == "trent@portal.test" {
				trent = u
			}
		}
		userPath := path + "/users/" + trent.ID
		post(userPath+"/disable", url.Values{})
		post(userPath+"/enable", url.Values{})
		res = post(userPath+"/reset-password", url.Values{})
		oneTime := oneTimePasswordRE.FindStringSubmatch(res.body)[1]
		res = post(path+"/keys", url.Values{"key_name": {"ERP sync"}, "key_role": {"supplier"}})
		secrets = append(secrets, oneTime, tokenRE.FindStringSubmatch(res.body)[1])
		keys, err := w.acc.APIKeys(w.ctx, w.admin, w.supplierID())
		w.must("keys", err)
		post(path+"/keys/"+keys[len(keys)-1].ID+"/revoke", url.Values{})

		trentC := w.client()
		trentC.post("/login", url.Values{"email": {"trent@portal.test"}, "password": {oneTime}})
		changeOwnPassword(t, trentC, oneTime, "trent's own passphrase")

		page := admin.get(path).body
		want := [][3]string{
			{"trent@portal.test", "Changed their own password", "trent@portal.test (supplier)"},
			{w.emails["admin"], "Revoked the API key", "ERP sync (supplier)"},
			{w.emails["admin"], "Issued the API key", "ERP sync (supplier)"},
			{w.emails["admin"], "Reset the password", "trent@portal.test (supplier)"},
			{w.emails["admin"], "Enabled the user", "trent@portal.test (supplier)"},
			{w.emails["admin"], "Disabled the user", "trent@portal.test (supplier)"},
			{w.emails["admin"], "Added the user", "trent@portal.test (supplier)"},
		}
		rows := historyRowRE.FindAllStringSubmatch(page, -1)
		// The world's seeded supplier user was added by the system before: the last row.
		if len(rows) != len(want)+1 {
			t.Fatalf("%d history rows, want %d:\n%v", len(rows), len(want)+1, rows)
		}
		for i, wr := range want {
			if got := [3]string{rows[i][1], rows[i][2], rows[i][3]}; got != wr {
				t.Errorf("history row %d: %q, want %q", i, got, wr)
			}
		}
		if !strings.Contains(page, `<h2 id="history-h">History</h2>`) {
			t.Error("no History heading")
		}
		for _, s := range append(secrets, "trent's own passphrase", "argon2id") {
			if strings.Contains(page, s) {
				t.Errorf("the page shows the secret %q", s)
			}
		}
	})
}
