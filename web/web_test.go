package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

// TestLoginRequired ensures no page is shown without a session: a GET goes to the login page
// and comes back after it; a POST is refused.
func TestLoginRequired(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	c := w.client()
	res := c.get("/orders/new")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Forders%2Fnew" {
		t.Errorf("GET without session: %d %q", res.status, res.header.Get("Location"))
	}
	if res := c.post("/orders/new", url.Values{}); res.status != http.StatusUnauthorized {
		t.Errorf("POST without session: %d", res.status)
	}
	// After login, the next parameter brings the person back, but only to a local path.
	res = c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}, "next": {"/orders/new"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/orders/new" {
		t.Errorf("login with next: %d %q", res.status, res.header.Get("Location"))
	}
	c2 := w.client()
	res = c2.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}, "next": {"//evil.example/x"}})
	if res.header.Get("Location") != "/" {
		t.Errorf("login with an off-site next redirects to %q", res.header.Get("Location"))
	}
}

// TestLoginFailure ensures a wrong password is refused with one message that does not say which
// part was wrong, keeps the email typed and never echoes the password.
func TestLoginFailure(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	c := w.client()
	res := c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {"not the password"}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong email or password.") {
		t.Fatalf("wrong password: %d", res.status)
	}
	if !strings.Contains(res.body, `value="`+w.emails["buyer"]+`"`) || strings.Contains(res.body, "not the password") {
		t.Error("the email is not kept, or the password is echoed")
	}
	if res := c.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("a failed login opened a session: %d", res.status)
	}
}

// TestSessionCookie ensures the session cookie is HttpOnly and SameSite=Lax, Secure only when
// configured or when the request came over TLS, and replaced at login (no session fixation);
// logout ends the session.
func TestSessionCookie(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	c := w.client()
	c.get("/login")
	res := c.post("/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}})
	set := res.header.Get("Set-Cookie")
	for _, want := range []string{web.SessionCookie + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %q", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q is Secure on plain http", set)
	}
	if res := c.get("/"); res.status != http.StatusOK {
		t.Fatalf("dashboard after login: %d", res.status)
	}
	if res := c.post("/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.status)
	}
	if res := c.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("dashboard after logout: %d", res.status)
	}

	sm := web.NewSessions(w.db.Sessions(), web.SessionConfig{Secure: true, IdleTimeout: time.Minute})
	h := sm.LoadAndSave(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { sm.Put(r.Context(), "k", "v") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if set := rec.Header().Get("Set-Cookie"); !strings.Contains(set, "Secure") {
		t.Errorf("configured Secure, got %q", set)
	}

	// Over TLS the cookie is Secure without the setting: at login (a redirect), on a page that
	// renews nothing but writes a body, and when logout deletes it.
	tls := httptest.NewTLSServer(w.srv.Config.Handler)
	t.Cleanup(tls.Close)
	hc := tls.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(method, path string, v url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, tls.URL+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	in := send("POST", "/login", url.Values{"email": {w.emails["buyer"]}, "password": {password}})
	var session *http.Cookie
	for _, c := range in.Cookies() {
		if c.Name == web.SessionCookie {
			session = c
		}
	}
	if in.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login over TLS: %d, cookie %v", in.StatusCode, session)
	}
	req, _ := http.NewRequest("POST", tls.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(session)
	out, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if set := out.Header.Get("Set-Cookie"); out.StatusCode != http.StatusSeeOther || !strings.Contains(set, web.SessionCookie+"=;") ||
		!strings.Contains(set, "Secure") {
		t.Errorf("logout over TLS: %d, Set-Cookie %q", out.StatusCode, set)
	}
}

// TestCrossOriginPostRefused ensures a form posted from another site is refused by the portal
// itself (CrossOriginProtection inside web.New, against CSRF), however it is mounted: through
// the world's mux beside the API, and served alone with no wrapper. A same-origin post and a
// cross-site GET still go through.
func TestCrossOriginPostRefused(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	alone := httptest.NewServer(web.New(w.svc, w.acc, web.NewSessions(w.db.Sessions(), web.SessionConfig{}),
		web.Options{LookupUser: w.db.Access().User}))
	t.Cleanup(alone.Close)
	buyer := w.login("buyer")
	for _, base := range []string{w.srv.URL, alone.URL} {
		for _, path := range []string{"/login", "/logout", "/orders/new", "/account/password"} {
			req, _ := http.NewRequest("POST", base+path, strings.NewReader("email=a&password=b"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Origin", "https://evil.example")
			if res := buyer.do(req); res.status != http.StatusForbidden {
				t.Errorf("cross-site POST %s%s: %d", base, path, res.status)
			}
		}
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader("email=a&password=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if res := w.client().do(req); res.status != http.StatusUnauthorized {
			t.Errorf("same-origin POST /login to %s: %d, want the login's own answer", base, res.status)
		}
		req, _ = http.NewRequest("GET", base+"/login", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res := w.client().do(req); res.status != http.StatusOK {
			t.Errorf("cross-site GET /login from %s: %d", base, res.status)
		}
	}
	// The buyer's session survived the forged logout.
	if res := buyer.get("/"); res.status != http.StatusOK {
		t.Errorf("after a forged logout the buyer's dashboard is %d", res.status)
	}
}

// TestAPINotShadowed ensures the portal at / leaves the API's paths to the API, and serves its
// own CSS and JavaScript from the binary.
func TestAPINotShadowed(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	c := w.client()
	if res := c.get("/openapi.json"); res.status != http.StatusOK || !strings.Contains(res.body, `"openapi"`) {
		t.Errorf("/openapi.json: %d", res.status)
	}
	if res := c.get("/v1/orders"); res.status != http.StatusUnauthorized || !strings.Contains(res.header.Get("Content-Type"), "problem+json") {
		t.Errorf("/v1/orders without key: %d %s", res.status, res.header.Get("Content-Type"))
	}
	for path, ctype := range map[string]string{"/static/pico.min.css": "text/css", "/static/app.css": "text/css", "/static/htmx.min.js": "javascript"} {
		res := c.get(path)
		if res.status != http.StatusOK || !strings.Contains(res.header.Get("Content-Type"), ctype) || len(res.body) < 100 {
			t.Errorf("%s: %d %s", path, res.status, res.header.Get("Content-Type"))
		}
	}
	if res := w.login("buyer").get("/no/such/page"); res.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", res.status)
	}
}

// TestDashboards ensures each role's dashboard shows what that role works on.
func TestDashboards(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	proposed := w.order(trade.ContractProposed)
	escalated := w.order(trade.Escalated)
	for role, want := range map[string][]string{
		"buyer":     {"Place an order", "#" + proposed.ID[len(proposed.ID)-8:], "Contract proposed", "Escalated", "Shipping date"},
		"supplier":  {"Trade Assurance coverage", "USD 50,000.00", "Maple Kids Apparel Inc."},
		"inspector": {"Inspections booked with you", "#" + escalated.ID[len(escalated.ID)-8:]},
		"arbiter":   {"Escalated disputes", "#" + escalated.ID[len(escalated.ID)-8:], "Fabric weight 168"},
		"admin":     {"Suppliers", "Ningbo Sunrise Garments Co.", "Gold Supplier", "Unvetted Textiles Ltd."},
	} {
		res := w.login(role).get("/")
		if res.status != http.StatusOK {
			t.Fatalf("%s dashboard: %d", role, res.status)
		}
		for _, s := range want {
			if !strings.Contains(res.body, s) {
				t.Errorf("%s dashboard lacks %q", role, s)
			}
		}
	}
	if res := w.login("arbiter").get("/"); strings.Contains(res.body, proposed.ID) {
		t.Error("the arbiter's queue lists an order that is not escalated")
	}
}

// TestOrderPageByRole ensures the order page offers each role the actions the lifecycle table
// allows it in the order's state, and that an inspection company does not see the money.
func TestOrderPageByRole(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	proposed := w.order(trade.ContractProposed)
	path := "/orders/" + proposed.ID
	sup := w.login("supplier").get(path)
	// The supplier proposed the contract: the buyer confirms it, the supplier may not (R4).
	if strings.Contains(sup.body, "/confirm-contract") {
		t.Error("the supplier is offered to confirm its own proposal")
	}
	buyer := w.login("buyer").get(path)
	for _, want := range []string{`action="` + path + `/confirm-contract"`, `action="` + path + `/book-inspection"`, `action="` + path + `/cancel"`} {
		if !strings.Contains(buyer.body, want) {
			t.Errorf("the buyer's page lacks the form %s", want)
		}
	}
	if strings.Contains(buyer.body, path+"/pay") || strings.Contains(buyer.body, path+"/ship") {
		t.Error("the buyer is offered to pay or ship before confirmation")
	}
	insp := w.login("inspector").get(path)
	if insp.status != http.StatusOK {
		t.Fatalf("inspector order page: %d", insp.status)
	}
	for _, money := range []string{"USD 7,800.00", "USD 3,800.00", "Payments", "coverage"} {
		if strings.Contains(insp.body, money) {
			t.Errorf("the inspector sees %q", money)
		}
	}
	if res := w.login("inspector").get("/orders/" + w.order(trade.Draft).ID); res.status != http.StatusNotFound {
		t.Errorf("an order without the inspector: %d", res.status)
	}
}

// TestDoubleSubmitAppliesOnce ensures a form submitted twice — the same rendered form, the same
// idempotency key — applies once: one payment, one message.
func TestDoubleSubmitAppliesOnce(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	o := w.order(trade.Confirmed)
	c := w.login("buyer")
	path := "/orders/" + o.ID
	page := c.get(path).body
	pay := url.Values{"idempotency_key": {formKey(t, page, path+"/pay")}, "version": {itoa(o.Version)},
		"installment": {"initial"}, "method": {"card"}}
	for i := range 2 {
		if res := c.post(path+"/pay", pay); res.status != http.StatusSeeOther {
			t.Fatalf("pay #%d: %d %s", i+1, res.status, res.body)
		}
	}
	msg := url.Values{"idempotency_key": {formKey(t, page, path+"/messages")}, "body": {"Sent the deposit."}}
	for i := range 2 {
		if res := c.post(path+"/messages", msg); res.status != http.StatusSeeOther {
			t.Fatalf("message #%d: %d", i+1, res.status)
		}
	}
	o, err := w.svc.Order(w.ctx, w.admin, o.ID)
	w.must("order", err)
	if len(o.Payments) != 1 {
		t.Errorf("%d payments after a double submit, want 1", len(o.Payments))
	}
	ms, err := w.svc.Messages(w.ctx, w.admin, o.ID)
	w.must("messages", err)
	if n := strings.Count(joinBodies(ms), "Sent the deposit."); n != 1 {
		t.Errorf("%d copies of the message, want 1", n)
	}
	// A form without a key (a stale or forged page) is refused, not applied.
	res := c.post(path+"/cancel", url.Values{"version": {itoa(o.Version)}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "This form has expired") {
		t.Errorf("keyless post: %d", res.status)
	}
}

func joinBodies(ms []trade.Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Body + "\n")
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestStaleVersionRefused ensures an action from a page that is out of date is refused with
// a message to review the order, rather than applied to a state the person did not see.
func TestStaleVersionRefused(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	o := w.order(trade.Confirmed)
	c := w.login("buyer")
	path := "/orders/" + o.ID
	page := c.get(path).body
	_, err := w.svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.BookInspection{InspectorID: w.actors["inspector"].OrgID})
	w.must("rebook", err)
	res := c.post(path+"/pay", url.Values{"idempotency_key": {formKey(t, page, path+"/pay")},
		"version": {itoa(o.Version)}, "installment": {"initial"}, "method": {"card"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "The order changed since you opened this page") {
		t.Errorf("stale post: %d", res.status)
	}
}

// TestPasswordChange ensures a person changes their password with the current one, and the
// new one logs in.
func TestPasswordChange(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	c := w.login("supplier")
	res := c.post("/account/password", url.Values{"current_password": {"wrong password!"}, "password": {"a new long password"}, "password_confirm": {"a new long password"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-current_password-error"`) {
		t.Errorf("wrong current password: %d", res.status)
	}
	res = c.post("/account/password", url.Values{"current_password": {password}, "password": {"short"}, "password_confirm": {"short"}})
	if !strings.Contains(res.body, `id="f-password-error"`) {
		t.Errorf("weak password not shown next to its field: %d", res.status)
	}
	res = c.post("/account/password", url.Values{"current_password": {password}, "password": {"a new long password"}, "password_confirm": {"a new long password"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	if _, _, err := w.acc.Login(w.ctx, w.emails["supplier"], "a new long password"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
}

// TestPasswordChangeEndsOtherSessions ensures changing a password ends every other session of
// the user at its next request — a page goes to the login, a form is refused — while the
// session that changed it goes on, and another user's session is untouched; logging in again
// with the new password works.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		laptop, phone, other := w.login("supplier"), w.login("supplier"), w.login("buyer")
		for _, c := range []*client{laptop, phone, other} {
			if res := c.get("/"); res.status != http.StatusOK {
				t.Fatalf("dashboard before the change: %d", res.status)
			}
		}
		const next = "a new long password"
		changeOwnPassword(t, laptop, password, next)
		if res := laptop.get("/payouts"); res.status != http.StatusOK {
			t.Errorf("the session that changed the password: %d", res.status)
		}
		if res := phone.get("/payouts"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Fpayouts" {
			t.Errorf("the other session after the change: %d to %q", res.status, res.header.Get("Location"))
		}
		if res := phone.post("/account/password", url.Values{"current_password": {next}, "password": {"x"}, "password_confirm": {"x"}}); res.status != http.StatusUnauthorized {
			t.Errorf("a form from the other session: %d", res.status)
		}
		if res := other.get("/"); res.status != http.StatusOK {
			t.Errorf("another user's session: %d", res.status)
		}
		again := w.client()
		if res := again.post("/login", url.Values{"email": {w.emails["supplier"]}, "password": {next}}); res.status != http.StatusSeeOther {
			t.Fatalf("login with the new password: %d", res.status)
		}
		if res := again.get("/"); res.status != http.StatusOK {
			t.Errorf("the new session: %d", res.status)
		}
		// The changed session keeps going after a second change too, and ends the new login.
		changeOwnPassword(t, laptop, next, "and another long password")
		if res := laptop.get("/"); res.status != http.StatusOK {
			t.Errorf("the changing session after a second change: %d", res.status)
		}
		if res := again.get("/"); res.status != http.StatusSeeOther {
			t.Errorf("a session opened with the previous password: %d", res.status)
		}
	})
}

// TestDisabledUserLoggedOut ensures a user disabled while logged in loses the session at the
// next request.
func TestDisabledUserLoggedOut(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	c := w.login("buyer")
	if res := c.get("/"); res.status != http.StatusOK {
		t.Fatalf("dashboard: %d", res.status)
	}
	u, err := w.db.Access().User(w.ctx, w.actors["buyer"].UserID)
	w.must("user", err)
	now := w.clock.Now()
	u.DisabledAt = &now
	w.must("disable", w.db.Access().UpdateUser(w.ctx, u))
	if res := c.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("dashboard of a disabled user: %d", res.status)
	}
}

// TestDisputeForms ensures the dispute forms build the domain's commands: the supplier's offer
// of a partial refund, and the arbiter's decision (R17, R18), with a bad amount shown next to
// its field.
func TestDisputeForms(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	o := w.order(trade.Disputed)
	path := "/orders/" + o.ID
	sup := w.login("supplier")
	page := sup.get(path).body
	offer := url.Values{"idempotency_key": {formKey(t, page, path+"/propose-resolution")}, "version": {itoa(o.Version)},
		"kind": {"partial_refund"}, "amount": {"a lot"}}
	res := sup.post(path+"/propose-resolution", offer)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-amount-error"`) || !strings.Contains(res.body, `value="a lot"`) {
		t.Fatalf("bad amount: %d", res.status)
	}
	offer.Set("amount", "1000.00")
	offer.Set("idempotency_key", formKey(t, res.body, path+"/propose-resolution"))
	if res := sup.post(path+"/propose-resolution", offer); res.status != http.StatusSeeOther {
		t.Fatalf("offer: %d", res.status)
	}
	buyer := w.login("buyer")
	page = buyer.get(path).body
	if !strings.Contains(page, "Partial refund of USD 1,000.00") {
		t.Error("the buyer does not see the offer")
	}
	o, _ = w.svc.Order(w.ctx, w.admin, o.ID)
	if res := buyer.post(path+"/escalate", url.Values{"idempotency_key": {formKey(t, page, path+"/escalate")}, "version": {itoa(o.Version)}}); res.status != http.StatusSeeOther {
		t.Fatalf("escalate: %d", res.status)
	}
	arb := w.login("arbiter")
	page = arb.get(path).body
	o, _ = w.svc.Order(w.ctx, w.admin, o.ID)
	res = arb.post(path+"/decide", url.Values{"idempotency_key": {formKey(t, page, path+"/decide")}, "version": {itoa(o.Version)},
		"outcome": {"refund_partial"}, "amount": {"1500.00"}, "reasons": {"Fabric weight 168 g/m² is outside 200 ± 5%."}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("decide: %d %s", res.status, res.body)
	}
	o, _ = w.svc.Order(w.ctx, w.admin, o.ID)
	d := o.Disputes[len(o.Disputes)-1].Decision
	if d == nil || d.Outcome != trade.OutcomePartialRefund || d.Amount != 1500_00 {
		t.Errorf("decision %+v", d)
	}
}
