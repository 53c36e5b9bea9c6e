package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// password is every test user's password.
const password = "correct horse battery"

// world is the real service, API and portal on one database, served on httptest exactly as
// serve mounts them (the API, then the portal at /, which refuses cross-origin posts itself),
// with one user per role.
type world struct {
	t      *testing.T
	ctx    context.Context
	db     *store.DB
	svc    *escrow.Service
	acc    *access.Service
	clock  *escrow.ManualClock
	srv    *httptest.Server
	n      int
	admin  trade.Actor
	actors map[string]trade.Actor // by role name, plus "supplier2" (not eligible)
	emails map[string]string
	files  []trade.Attachment
}

func sqliteURL(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "portal.db") }

func postgresURL(t *testing.T) string { return pgtest.NewDatabase(t) }

func newWorld(t *testing.T, url string) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir, err := blob.OpenDir(t.TempDir(), blob.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	clock := escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	svc := escrow.New(db, escrow.Options{Clock: clock, Config: trade.DefaultConfig(), Blobs: dir, Accounts: railtest.Accounts()})
	acc := access.New(db.Access(), svc, clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	mux := http.NewServeMux()
	api.New(mux, svc, acc, api.Options{Version: "test"})
	sessions := web.NewSessions(db.Sessions(), web.SessionConfig{})
	mux.Handle("/", web.New(svc, acc, sessions, web.Options{LookupUser: db.Access().User, Blobs: dir}))
	w := &world{t: t, ctx: ctx, db: db, svc: svc, acc: acc, clock: clock,
		srv:    httptest.NewServer(mux),
		admin:  trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "test-admin"},
		actors: map[string]trade.Actor{}, emails: map[string]string{}}
	t.Cleanup(w.srv.Close)
	w.seed(dir)
	return w
}

func (w *world) key() string { w.n++; return fmt.Sprintf("test-%d", w.n) }

func (w *world) must(what string, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// seed creates the organizations, one user per role, and the design files of a contract.
func (w *world) seed(dir *blob.Dir) {
	t, ctx := w.t, w.ctx
	t.Helper()
	mk := func(name string, kind trade.OrgKind, org, country string) trade.Org {
		o, err := w.svc.CreateOrg(ctx, w.admin, w.key(), kind, org, country)
		w.must("create "+name, err)
		return o
	}
	buyer := mk("buyer", trade.KindBuyer, "Maple Kids Apparel Inc.", "US")
	sup := mk("supplier", trade.KindSupplier, "Ningbo Sunrise Garments Co.", "CN")
	sup2 := mk("supplier2", trade.KindSupplier, "Unvetted Textiles Ltd.", "CN")
	insp := mk("inspector", trade.KindInspector, "Asia Quality Inspections Ltd.", "HK")
	_, err := w.svc.SetEligibility(ctx, w.admin, w.key(), sup.ID, true, "Gold Supplier, verified 2 years")
	w.must("eligibility", err)
	_, err = w.svc.SetCoverageLimit(ctx, w.admin, w.key(), sup.ID, money.New(50_000_00, "USD"))
	w.must("coverage", err)
	for _, u := range []struct {
		role trade.Role
		org  string
	}{{trade.RoleBuyer, buyer.ID}, {trade.RoleSupplier, sup.ID}, {trade.RoleInspector, insp.ID},
		{trade.RoleArbiter, access.PlatformOrg}, {trade.RoleAdmin, access.PlatformOrg}} {
		email := string(u.role) + "@portal.test"
		user, err := w.acc.CreateUser(ctx, trade.System, u.org, email, "Test "+string(u.role), u.role, password)
		w.must("create user", err)
		w.actors[string(u.role)] = trade.Actor{Role: u.role, OrgID: u.org, UserID: user.ID}
		w.emails[string(u.role)] = email
	}
	w.actors["supplier2"] = trade.Actor{Role: trade.RoleSupplier, OrgID: sup2.ID}
	for _, f := range []struct{ name, body string }{
		{"design_draft_a.pdf", "%PDF-1.4\n% hoodie design draft\n%%EOF\n"},
		{"care_label_b.pdf", "%PDF-1.4\n% care label\n%%EOF\n"},
	} {
		m, err := dir.Put(ctx, strings.NewReader(f.body), "application/pdf")
		w.must("put file", err)
		_, err = w.svc.RecordUpload(ctx, w.actors["supplier"], m.Ref, f.name) // the supplier's own files
		w.must("record upload", err)
		w.files = append(w.files, trade.Attachment{Name: f.name, Ref: string(m.Ref), Size: m.Size, MediaType: m.MediaType})
	}
}

// contract is a small, clear purchase contract (R3, R5) shipping in 60 days.
func (w *world) contract(withFiles bool) trade.Contract {
	c := trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: trade.Day(w.clock.Now()).AddDate(0, 0, 60),
		Terms: trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{
			{Description: "Children's zip hoodie, organic cotton, 2T–5T", Quantity: 1200, Unit: "pcs", UnitPrice: 6_50},
			{Description: "Children's joggers, organic cotton, 2T–5T", Quantity: 800, Unit: "pcs", UnitPrice: 4_75},
		},
		Quality: []trade.Requirement{
			{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"},
			{Attribute: "Zipper", Requirement: "YKK"},
		},
		Compliance: []trade.Requirement{{Attribute: "CPSIA (US) compliant", Requirement: "yes"}},
	}
	if withFiles {
		c.Attachments = w.files
	}
	return c
}

// order places an order with the service and drives it to state, the way the parties and the
// rails would; it covers the states the browser tests start from.
func (w *world) order(state trade.State) *trade.Order {
	w.t.Helper()
	buyer, sup := w.actors["buyer"], w.actors["supplier"]
	c := w.contract(true)
	o, err := w.svc.Place(w.ctx, buyer, w.key(), trade.Place{SupplierID: sup.OrgID, Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true})
	w.must("place", err)
	step := func(a trade.Actor, cmd trade.Command) {
		w.t.Helper()
		o, err = w.svc.Do(w.ctx, a, w.key(), o.ID, cmd)
		w.must(string(cmd.Event()), err)
	}
	if state == trade.Draft {
		return o
	}
	step(buyer, trade.BookInspection{InspectorID: w.actors["inspector"].OrgID})
	step(sup, trade.ProposeContract{Contract: c})
	_, err = w.svc.PostMessage(w.ctx, buyer, w.key(), o.ID, "Please confirm the Pantone shade on the lab dip before bulk.", nil)
	w.must("message", err)
	if state == trade.ContractProposed {
		return o
	}
	step(buyer, trade.ConfirmContract{Hash: o.Proposal.Hash})
	if state == trade.Confirmed {
		return o
	}
	step(buyer, trade.Pay{Installment: trade.Initial, Method: payment.Card})
	o = w.deliver(o)
	if state == trade.InProduction {
		return o
	}
	step(w.actors["inspector"], trade.SubmitReport{Report: trade.Report{Passed: false, SampleSize: 125, Major: 9,
		Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "168 g/m²", Pass: false}}}})
	step(buyer, trade.FileDispute{Reason: "Fabric weight 168 g/m² against 200 ± 5%", Requirements: []string{"Fabric weight"}})
	if state == trade.Disputed {
		return o
	}
	step(buyer, trade.Escalate{Note: "no offer"})
	if state != trade.Escalated {
		w.t.Fatalf("order(%s): not a state the tests start from", state)
	}
	return o
}

// deliver is the payment rail: the money for the order's pending payment arrives, quoting its
// reference, through the same entry point a bank statement would use.
func (w *world) deliver(o *trade.Order) *trade.Order {
	w.t.Helper()
	o, err := w.svc.Order(w.ctx, w.admin, o.ID)
	w.must("read order", err)
	for _, p := range o.Payments {
		if p.Status == trade.PaymentPending {
			_, err := w.svc.ReceiveFunds(w.ctx, "stmt-"+p.ID, escrow.Incoming{Method: p.Method,
				Amount: money.New(p.Total, o.Currency), Reference: p.Reference, Payer: "Maple Kids"})
			w.must("receive funds", err)
		}
	}
	o, err = w.svc.Order(w.ctx, w.admin, o.ID)
	w.must("read order", err)
	return o
}

// client is a cookie-keeping HTTP client for one person, for tests that need no browser.
type client struct {
	w *world
	c *http.Client
}

func (w *world) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{w: w, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (w *world) login(role string) *client {
	w.t.Helper()
	c := w.client()
	res := c.post("/login", url.Values{"email": {w.emails[role]}, "password": {password}})
	if res.status != http.StatusSeeOther {
		w.t.Fatalf("login %s: status %d: %s", role, res.status, res.body)
	}
	return c
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.w.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *client) get(path string) response {
	req, _ := http.NewRequest("GET", c.w.srv.URL+path, nil)
	return c.do(req)
}

// post submits a form as a browser on the same origin would.
func (c *client) post(path string, v url.Values) response {
	req, _ := http.NewRequest("POST", c.w.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.w.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

var keyRE = regexp.MustCompile(`action="([^"]+)"[^>]*>\s*<input type="hidden" name="idempotency_key" value="([0-9a-f]{32})">`)

// formKey returns the idempotency key of the form posting to action on page.
func formKey(t *testing.T, page, action string) string {
	t.Helper()
	for _, m := range keyRE.FindAllStringSubmatch(page, -1) {
		if m[1] == action {
			return m[2]
		}
	}
	t.Fatalf("no form posting to %s with an idempotency key", action)
	return ""
}
