package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/access"
)

var (
	oneTimePasswordRE = regexp.MustCompile(`<code class="secret-value">([a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{5})</code>`)
	tokenRE           = regexp.MustCompile(`<code class="secret-value">(ta_key_[0-9a-f]+\.[a-z2-7]+)</code>`)
)

// TestAdminUsersByRole ensures the users pages list every organization and an organization's
// users and keys to an admin, never a hash or a secret, and are refused (403) to every other
// role, forms included; an unknown organization is 404.
func TestAdminUsersByRole(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		buyerOrg := w.actors["buyer"].OrgID
		_, _, err := w.acc.CreateAPIKeyOnce(w.ctx, w.admin, "seed", buyerOrg, "buyer", "Order sync")
		w.must("key", err)
		admin := w.login("admin")
		pages := map[string][]string{
			"/admin/users":                       {"Platform staff", "Maple Kids Apparel Inc.", "Ningbo Sunrise Garments Co.", "Asia Quality Inspections Ltd.", `href="/admin/users/` + buyerOrg + `"`},
			"/admin/users/" + buyerOrg:           {w.emails["buyer"], "Order sync", "Add a user", "Issue an API key", `data-label="Actions"`},
			"/admin/users/platform":              {w.emails["admin"], w.emails["arbiter"], `<option value="arbiter"`},
			"/admin/suppliers/" + w.supplierID(): {`href="/admin/users/` + w.supplierID() + `"`},
		}
		for path, want := range pages {
			res := admin.get(path)
			if res.status != http.StatusOK {
				t.Fatalf("admin GET %s: %d", path, res.status)
			}
			for _, s := range want {
				if !strings.Contains(res.body, s) {
					t.Errorf("admin %s lacks %q", path, s)
				}
			}
			if strings.Contains(res.body, "argon2id") || strings.Contains(res.body, "ta_key_") {
				t.Errorf("admin %s shows a password hash or a key's secret", path)
			}
		}
		if !strings.Contains(admin.get("/").body, `href="/admin/users"`) {
			t.Error("the admin's menu does not link the users pages")
		}
		if res := admin.get("/admin/users/org_nobody"); res.status != http.StatusNotFound {
			t.Errorf("an unknown organization: %d", res.status)
		}
		buyerPage := admin.get("/admin/users/" + buyerOrg).body
		userPath := "/admin/users/" + buyerOrg + "/users/" + w.actors["buyer"].UserID
		forms := map[string]url.Values{
			"/admin/users/" + buyerOrg + "/users": {"email": {"eve@portal.test"}, "name": {"Eve"}, "role": {"buyer"}},
			userPath + "/disable":                 {},
			userPath + "/reset-password":          {},
			"/admin/users/" + buyerOrg + "/keys":  {"key_name": {"x"}, "key_role": {"buyer"}},
		}
		for _, role := range []string{"buyer", "supplier", "inspector", "arbiter"} {
			c := w.login(role)
			for path := range pages {
				if strings.HasPrefix(path, "/admin/users") {
					if res := c.get(path); res.status != http.StatusForbidden {
						t.Errorf("%s GET %s: %d", role, path, res.status)
					}
				}
			}
			for path, v := range forms {
				v.Set("idempotency_key", formKey(t, buyerPage, path))
				if res := c.post(path, v); res.status != http.StatusForbidden {
					t.Errorf("%s POST %s: %d", role, path, res.status)
				}
			}
		}
		users, err := w.acc.Users(w.ctx, w.admin, buyerOrg)
		w.must("users", err)
		if len(users) != 1 || users[0].DisabledAt != nil {
			t.Errorf("refused forms changed the buyer's users: %+v", users)
		}
	})
}

// TestAdminAddUser ensures the add-user form puts each error next to its field with what was
// typed kept, and on success shows a one-time password once, which logs in; the same form
// submitted again adds no one and shows no password.
func TestAdminAddUser(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		admin := w.login("admin")
		path := "/admin/users/platform"
		action := path + "/users"
		page := admin.get(path).body
		for _, c := range []struct {
			name, email, role, field, msg string
		}{
			{"bad email", "not an email", "arbiter", "email", "Give a plain email address."},
			{"no role", "zoe@portal.test", "", "role", "Choose a role."},
			{"wrong role", "zoe@portal.test", "buyer", "role", "Platform staff are admins or arbiters."},
			{"email taken", w.emails["buyer"], "arbiter", "email", "A user with this email exists."},
		} {
			res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "email": {c.email}, "name": {"Zoe Arbiter"}, "role": {c.role}})
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-`+c.field+`-error"`) ||
				!strings.Contains(res.body, `value="Zoe Arbiter"`) {
				t.Errorf("%s: %d, no error next to %s or the name not kept", c.name, res.status, c.field)
			}
			if !strings.Contains(res.body, c.msg) {
				t.Errorf("%s: the page does not say %q", c.name, c.msg)
			}
			if c.field == "email" && !strings.Contains(res.body, `value="`+c.email+`"`) {
				t.Errorf("%s: the email typed is not kept", c.name)
			}
			page = res.body // a refused form comes back with a new key
		}
		if res := admin.post(action, url.Values{"email": {"zoe@portal.test"}, "name": {"Zoe"}, "role": {"arbiter"}}); res.status != http.StatusUnprocessableEntity ||
			!strings.Contains(res.body, "This form has expired.") {
			t.Errorf("without an idempotency key: %d", res.status)
		}
		key := formKey(t, page, action)
		ok := url.Values{"idempotency_key": {key}, "email": {"zoe@portal.test"}, "name": {"Zoe Arbiter"}, "role": {"arbiter"}}
		res := admin.post(action, ok)
		m := oneTimePasswordRE.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil || !strings.Contains(res.body, "One-time password for zoe@portal.test") {
			t.Fatalf("add user: %d\n%s", res.status, res.body)
		}
		again := admin.post(action, ok)
		if again.status != http.StatusOK || oneTimePasswordRE.MatchString(again.body) || strings.Contains(again.body, m[1]) ||
			!strings.Contains(again.body, "was added by this form before") {
			t.Errorf("the same form again: %d, or a password shown", again.status)
		}
		users, err := w.acc.Users(w.ctx, w.admin, access.PlatformOrg)
		w.must("users", err)
		if len(users) != 3 {
			t.Errorf("%d platform users, want 3 (admin, arbiter, zoe)", len(users))
		}
		zoe := w.client()
		if res := zoe.post("/login", url.Values{"email": {"zoe@portal.test"}, "password": {m[1]}}); res.status != http.StatusSeeOther ||
			res.header.Get("Location") != "/account/password" {
			t.Fatalf("login with the one-time password: %d to %q", res.status, res.header.Get("Location"))
		}
		changeOwnPassword(t, zoe, m[1], "zoe's own passphrase")
		if !strings.Contains(zoe.get("/").body, "Escalated disputes") {
			t.Error("the new arbiter does not see the arbiter's dashboard")
		}
	})
}

// TestAdminDisableUser ensures a disabled user is logged out at their next request and cannot
// log in until enabled; an admin is offered no way to disable themselves and is refused when
// they try; a user of another organization is not found under this one.
func TestAdminDisableUser(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		buyer := w.login("buyer")
		admin := w.login("admin")
		org := w.actors["buyer"].OrgID
		path := "/admin/users/" + org
		userPath := path + "/users/" + w.actors["buyer"].UserID
		res := admin.post(userPath+"/disable", url.Values{"idempotency_key": {formKey(t, admin.get(path).body, userPath+"/disable")}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path {
			t.Fatalf("disable: %d", res.status)
		}
		if page := admin.get(path).body; !strings.Contains(page, "is disabled and logged out") || !strings.Contains(page, "Disabled since") {
			t.Error("the page does not say the user is disabled")
		}
		if res := buyer.get("/"); res.status != http.StatusSeeOther {
			t.Errorf("the disabled buyer's next request: %d", res.status)
		}
		if res := w.client().post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}}); res.status != http.StatusUnauthorized {
			t.Errorf("a disabled user logs in: %d", res.status)
		}
		res = admin.post(userPath+"/enable", url.Values{"idempotency_key": {formKey(t, admin.get(path).body, userPath+"/enable")}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("enable: %d", res.status)
		}
		w.login("buyer")

		self := "/admin/users/platform/users/" + w.actors["admin"].UserID + "/disable"
		staff := admin.get("/admin/users/platform").body
		if strings.Contains(staff, `action="`+self+`"`) {
			t.Error("the admin is offered to disable themselves")
		}
		res = admin.post(self, url.Values{"idempotency_key": {strings.Repeat("a", 32)}})
		if res.status != http.StatusConflict || !strings.Contains(res.body, "You cannot disable yourself.") {
			t.Errorf("disable yourself: %d", res.status)
		}
		other := path + "/users/" + w.actors["supplier"].UserID + "/disable"
		if res := admin.post(other, url.Values{"idempotency_key": {strings.Repeat("b", 32)}}); res.status != http.StatusNotFound {
			t.Errorf("another organization's user under this one: %d", res.status)
		}
		if res := admin.post(userPath+"/delete", url.Values{"idempotency_key": {strings.Repeat("c", 32)}}); res.status != http.StatusNotFound {
			t.Errorf("an unknown action: %d", res.status)
		}
	})
}

// TestAdminResetPassword ensures a reset shows a new one-time password once, which logs in at
// once even on an account locked out by failed logins; the old password stops working; the
// same form again changes nothing and shows no password.
func TestAdminResetPassword(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		for range access.AccountFailuresMax {
			w.client().post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {"guess"}})
		}
		if res := w.client().post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {password}}); res.status != http.StatusTooManyRequests {
			t.Fatalf("the supplier is not locked out: %d", res.status)
		}
		admin := w.login("admin")
		path := "/admin/users/" + w.supplierID()
		action := path + "/users/" + w.actors["supplier"].UserID + "/reset-password"
		form := url.Values{"idempotency_key": {formKey(t, admin.get(path).body, action)}}
		res := admin.post(action, form)
		m := oneTimePasswordRE.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil || !strings.Contains(res.body, "New one-time password for "+w.emails["supplier"]) {
			t.Fatalf("reset: %d", res.status)
		}
		again := admin.post(action, form)
		if again.status != http.StatusOK || oneTimePasswordRE.MatchString(again.body) || !strings.Contains(again.body, "was reset by this form before") {
			t.Errorf("the same form again: %d, or a password shown", again.status)
		}
		if res := w.client().post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {password}}); res.status != http.StatusUnauthorized {
			t.Errorf("the old password: %d", res.status)
		}
		if res := w.client().post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {m[1]}}); res.status != http.StatusSeeOther {
			t.Errorf("the new password: %d", res.status)
		}
	})
}

// TestAdminAPIKeys ensures an admin issues a key whose secret is shown once and works on the
// API; the list shows its name and ID, never the secret; errors stay next to their fields; the
// same form again issues nothing; a revoked key is refused by the API at once.
func TestAdminAPIKeys(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		admin := w.login("admin")
		path := "/admin/users/" + w.supplierID()
		action := path + "/keys"
		page := admin.get(path).body
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "key_name": {strings.Repeat("n", access.KeyNameMax+1)}, "key_role": {"supplier"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-key_name-error"`) ||
			!strings.Contains(res.body, `aria-invalid="true" aria-describedby="f-key_name-error"`) || !strings.Contains(res.body, `value="`+strings.Repeat("n", access.KeyNameMax+1)+`"`) {
			t.Errorf("a name too long: %d", res.status)
		}
		res = admin.post(action, url.Values{"idempotency_key": {formKey(t, res.body, action)}, "key_name": {"ERP sync"}, "key_role": {"buyer"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-key_role-error"`) || strings.Contains(res.body, `id="f-role-error"`) {
			t.Errorf("a buyer key for a supplier: %d", res.status)
		}
		form := url.Values{"idempotency_key": {formKey(t, res.body, action)}, "key_name": {"ERP sync"}, "key_role": {"supplier"}}
		res = admin.post(action, form)
		m := tokenRE.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil {
			t.Fatalf("issue: %d\n%s", res.status, res.body)
		}
		token := m[1]
		api := func() int {
			req, _ := http.NewRequest("GET", w.srv.URL+"/v1/orders", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			return w.client().do(req).status
		}
		if got := api(); got != http.StatusOK {
			t.Fatalf("the new key on the API: %d", got)
		}
		again := admin.post(action, form)
		if again.status != http.StatusOK || tokenRE.MatchString(again.body) || !strings.Contains(again.body, "was issued by this form before") {
			t.Errorf("the same form again: %d, or a secret shown", again.status)
		}
		keys, err := w.acc.APIKeys(w.ctx, w.admin, w.supplierID())
		w.must("keys", err)
		if len(keys) != 1 {
			t.Fatalf("%d keys, want 1", len(keys))
		}
		list := admin.get(path).body
		secretPart := token[strings.Index(token, ".")+1:]
		if !strings.Contains(list, "ERP sync") || !strings.Contains(list, keys[0].ID) || strings.Contains(list, secretPart) || strings.Contains(list, keys[0].Hash) {
			t.Error("the list lacks the key's name or ID, or shows its secret or hash")
		}
		revoke := path + "/keys/" + keys[0].ID + "/revoke"
		if res := admin.post("/admin/users/"+w.actors["buyer"].OrgID+"/keys/"+keys[0].ID+"/revoke",
			url.Values{"idempotency_key": {strings.Repeat("d", 32)}}); res.status != http.StatusNotFound {
			t.Errorf("a key revoked under another organization: %d", res.status)
		}
		res = admin.post(revoke, url.Values{"idempotency_key": {formKey(t, list, revoke)}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.status)
		}
		if got := api(); got != http.StatusUnauthorized {
			t.Errorf("the revoked key on the API: %d", got)
		}
		if page := admin.get(path).body; !strings.Contains(page, "Revoked") || strings.Contains(page, `action="`+revoke+`"`) {
			t.Error("the page does not show the key revoked")
		}
	})
}
