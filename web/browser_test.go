package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tradeassure/tradeassure/trade"
)

// The browser tests drive Debian's Chromium (scripts/test installs it) against the real service
// and portal on httptest. They never skip: without a browser they fail.

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// stepTimeout bounds one browser step; generous, because a cold browser on 2 cores is slow.
const stepTimeout = 90 * time.Second

// browser starts a headless Chromium for the test, with a fresh profile, and returns its
// context. The browser stops when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("no browser at %s (%v): scripts/test installs it; by hand: apt-get install chromium", ChromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first action binds the browser's life to the context it gets: ctx, not a timeout, so
	// that later steps may time out alone.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// person is one user in a browser context of their own (cookies are not shared).
type person struct {
	t    *testing.T
	w    *world
	ctx  context.Context
	role string
}

func (w *world) person(browserCtx context.Context, role string) *person {
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	w.t.Cleanup(cancel)
	// Open the tab now, without a timeout: a tab lives as long as the context of its first action.
	if err := chromedp.Do(ctx); err != nil {
		w.t.Fatalf("open a tab for %s: %v", role, err)
	}
	return &person{t: w.t, w: w, ctx: ctx, role: role}
}

// do runs browser steps, failing the test with what was being done.
func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s (%s): %v\npage text:\n%s", what, p.role, err, p.text())
	}
}

// run runs one action that returns a value.
func run[T any](p *person, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s (%s): %v", what, p.role, err)
	}
	return v
}

// text is the page's visible text, for failure messages.
func (p *person) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return s
}

// waitText waits until the page shows s. It polls from Go, so that a navigation under way (a
// form post and its redirect) is waited out rather than failing the evaluation.
func waitText(s string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(s)
	return waitJS(fmt.Sprintf(`document.readyState === "complete" && document.body.innerText.includes(%s)`, q))
}

// waitJS waits until the expression is true on the page, polling from Go like waitText.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// open goes to path and checks the page (person.check): every page a browser test visits fits
// the viewport, labels its controls, has readable text contrast and shows keyboard focus.
func (p *person) open(path string) {
	p.t.Helper()
	p.visit(path)
	p.check()
}

// visit goes to path and waits for the page's heading, without checking the page.
func (p *person) visit(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.w.srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

func (p *person) login() {
	p.t.Helper()
	p.open("/login")
	p.do("log in",
		chromedp.SendKeys(chromedp.ID("f-email"), p.w.emails[p.role]),
		chromedp.SendKeys(chromedp.ID("f-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("header .who")),
	)
}

// submit clicks an action form's button on the order page and waits for the flash.
func (p *person) submit(action, flash string) {
	p.t.Helper()
	p.do(action,
		chromedp.Click(chromedp.CSS("#action-"+action+" button[type=submit]")),
		waitText(flash),
	)
	p.check()
}

// stateIs checks the order page's state badge.
func (p *person) stateIs(want trade.State) {
	p.t.Helper()
	got := run(p, "state", chromedp.Text(chromedp.CSS("main h1 .state")))
	if strings.TrimSpace(got) != stateLabel(want) {
		p.t.Fatalf("%s sees state %q, want %q\npage text:\n%s", p.role, got, stateLabel(want), p.text())
	}
}

func stateLabel(s trade.State) string {
	t := strings.ReplaceAll(string(s), "_", " ")
	return strings.ToUpper(t[:1]) + t[1:]
}

func (p *person) has(what string, texts ...string) {
	p.t.Helper()
	body := p.text()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			p.t.Errorf("%s: %s's page lacks %q\npage text:\n%s", what, p.role, s, body)
		}
	}
}

// TestBrowserJourney drives one order from checkout to release through the portal, each party
// in a browser of their own: the buyer places the order with the form (R2, R3), the supplier
// confirms the contract (R4), the buyer books an inspection (R15), sees every payment method's
// fee and total before paying (R10) and pays; the inspector passes the batch (R16); the buyer
// pays the balance; the supplier ships; the escrow is released (R12) and the buyer sees it.
// Only the payment rail (money arriving) and the release timer are the system's, driven
// through the service as a bank statement and the timer worker would.
func TestBrowserJourney(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { journey(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { journey(t, newWorld(t, postgresURL(t))) })
}

func journey(t *testing.T, w *world) {
	ctx := browser(t)
	buyer, supplier, inspector := w.person(ctx, "buyer"), w.person(ctx, "supplier"), w.person(ctx, "inspector")

	buyer.login()
	buyer.has("dashboard", "Your orders", "Place an order")
	// The buyer finds the supplier in the directory (R1, R22) and starts the order from it.
	buyer.do("open the supplier directory", chromedp.Click(chromedp.CSS(`main a[href="/suppliers"]`)), waitText("Find a supplier"))
	buyer.check()
	buyer.do("search the directory",
		chromedp.SendKeys(chromedp.ID("f-q"), "sunrise"),
		chromedp.SendKeys(chromedp.ID("f-country"), "cn"),
		chromedp.Click(chromedp.CSS("form.directory-search button[type=submit]")),
		waitText("Suppliers that match"),
	)
	buyer.check()
	buyer.has("directory", "Ningbo Sunrise Garments Co.", "USD 50,000.00")
	if strings.Contains(buyer.text(), "Unvetted Textiles") {
		t.Error("R1: the directory lists a supplier that is not eligible")
	}
	buyer.do("start an order", chromedp.Click(chromedp.CSS(`a.start-order`)), chromedp.WaitVisible(chromedp.ID("f-ship_by")))
	buyer.check()
	buyer.has("checkout", "Supplier: Ningbo Sunrise Garments Co. (CN)", "Coverage available for new orders: USD 50,000.00")
	shipBy := trade.Day(w.clock.Now()).AddDate(0, 0, 60).Format(time.DateOnly)
	buyer.do("fill the order form",
		chromedp.SetValue(chromedp.ID("f-ship_by"), shipBy),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--description"), "Children's zip hoodie, organic cotton"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--quantity"), "100"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--unit"), "pcs"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--unit_price"), "12.50"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--attribute"), "Fabric weight"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--requirement"), "200"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--unit"), "g/m²"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--tolerance"), "± 5%"),
		chromedp.Click(chromedp.ID("f-compliance_confirmed")),
		chromedp.Click(chromedp.CSS("form.order-form button[type=submit]")),
		waitText("Order placed."),
	)
	buyer.stateIs(trade.ContractProposed)
	orderPath := strings.TrimPrefix(run(buyer, "location", chromedp.Location()), w.srv.URL)
	if !strings.HasPrefix(orderPath, "/orders/ord_") {
		t.Fatalf("after placing, the buyer is at %q", orderPath)
	}
	buyer.has("contract", "Proposed by Maple Kids Apparel Inc.", "USD 1,250.00", "Fabric weight", "± 5%")

	// A message through htmx: the thread updates in place, and a second message (with the fresh
	// idempotency key the swap brought) posts too.
	for _, m := range []string{"Please send a lab dip before bulk.", "And the care label draft, please."} {
		buyer.do("post a message",
			chromedp.SendKeys(chromedp.ID("f-body"), m),
			chromedp.Click(chromedp.CSS("#thread button[type=submit]")),
			waitText(m),
		)
	}

	supplier.login()
	supplier.has("supplier dashboard", "Trade Assurance coverage", "USD 50,000.00", "Maple Kids Apparel Inc.")
	supplier.open(orderPath)
	supplier.has("thread", "Please send a lab dip before bulk.", "And the care label draft, please.")
	supplier.submit("confirm-contract", "Contract confirmed.")
	supplier.stateIs(trade.Confirmed)

	buyer.open(orderPath)
	buyer.stateIs(trade.Confirmed)
	buyer.do("book an inspection",
		chromedp.SetValue(chromedp.ID("f-inspector_id"), w.actors["inspector"].OrgID),
		chromedp.Click(chromedp.CSS("#action-book-inspection button[type=submit]")),
		waitText("Inspection booked."),
	)
	// R10: every method with its fee and what the buyer sends, before paying. 30% of 1,250.00 is
	// 375.00; a card adds 2.95% (11.06); online bank payment a flat 15.00; a wire's bank charges
	// are an estimate that the platform does not collect.
	buyer.has("fee table", "Send the initial payment", "USD 375.00",
		"Credit or debit card", "USD 11.06", "USD 386.06",
		"Online bank payment", "USD 15.00", "USD 390.00",
		"T/T bank transfer (international wire)", "about USD 30.00–50.00", "Western Union", "Pay Later",
		"USD 1,250.00 of USD 1,250.00 (100%) is covered")
	buyer.do("pay by card", chromedp.Click(chromedp.ID("m-card")))
	buyer.submit("pay", "Payment instructions issued.")
	buyer.has("instructions", "Send USD 386.06")
	buyer.stateIs(trade.Confirmed)
	// The order's live deadlines count down from the service's clock (R21): the instructions
	// expire in 14 days, and the shipping date is 60 days away.
	now := w.clock.Now()
	buyer.deadlinesAre(
		"Payment instructions for the initial payment expire: in 14 days|"+now.Add(w.svc.Config().PaymentExpiry).Format(time.RFC3339),
		"Shipping date "+trade.Day(now).AddDate(0, 0, 60).Format("2 Jan 2006")+" (R2): in 60 days|"+
			trade.Day(now).AddDate(0, 0, 61).Format(time.RFC3339))
	w.deliver(mustOrder(w, orderPath))
	buyer.open(orderPath)
	buyer.stateIs(trade.InProduction)

	inspector.login()
	inspector.has("inspector dashboard", "Inspections booked with you", "#"+orderPath[len(orderPath)-8:])
	inspector.open(orderPath)
	inspector.do("fill the report",
		chromedp.Click(chromedp.ID("f-result-pass")),
		chromedp.SendKeys(chromedp.ID("f-sample_size"), "32"),
		chromedp.SendKeys(chromedp.ID("f-findings-0--measured"), "201 g/m²"),
		chromedp.Click(chromedp.ID("f-findings-0--pass")),
		chromedp.SendKeys(chromedp.ID("f-summary"), "ISO 2859-1 level II; no defects found."),
	)
	inspector.submit("report", "Inspection report submitted.")
	inspector.stateIs(trade.InspectionPassed)
	if strings.Contains(inspector.text(), "USD 386.06") {
		t.Error("the inspection company sees the payments")
	}

	buyer.open(orderPath)
	buyer.has("balance", "Pay the balance", "USD 875.00", "201 g/m²")
	buyer.do("pay by wire", chromedp.Click(chromedp.ID("m-tt_wire")))
	buyer.submit("pay", "Payment instructions issued.")
	w.deliver(mustOrder(w, orderPath))
	buyer.open(orderPath)
	buyer.stateIs(trade.BalancePaid)

	supplier.open(orderPath)
	supplier.do("fill the shipment",
		chromedp.SendKeys(chromedp.ID("f-carrier"), "COSCO Shipping"),
		chromedp.SendKeys(chromedp.ID("f-tracking_number"), "COSU6312845170"),
	)
	supplier.submit("ship", "Shipment recorded.")
	supplier.stateIs(trade.Shipped)

	if _, err := w.svc.RunTimers(w.ctx, "test-worker"); err != nil { // the release timer (R12)
		t.Fatal(err)
	}
	buyer.open(orderPath)
	buyer.stateIs(trade.Released)
	buyer.has("release", "Funds released to the supplier", "Confirm receipt and close the order", "released USD 1,250.00")
	// After release, the one deadline left is the end of the buyer's time to dispute.
	buyer.deadlinesAre("The buyer's time to dispute after release ends: in 30 days|" +
		w.clock.Now().Add(w.svc.Config().CompletionWait).Format(time.RFC3339))
	lc := run(buyer, "lifecycle", chromedp.AttributeValue(chromedp.CSS("svg.lifecycle g.current"), "data-state"))
	if lc.Value != string(trade.Released) {
		t.Errorf("the lifecycle diagram highlights %q", lc.Value)
	}
}

// deadlinesAre checks the order page's list of deadlines, each given as "what: countdown|the
// datetime attribute of its <time>", soonest first.
func (p *person) deadlinesAre(want ...string) {
	p.t.Helper()
	got := run(p, "deadlines", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#deadlines li")].map(li =>
		li.querySelector("strong").innerText + ": " + li.querySelector("time").innerText + "|" + li.querySelector("time").getAttribute("datetime"))`))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		p.t.Errorf("%s sees the deadlines\n  %s\nwant\n  %s", p.role, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func mustOrder(w *world, path string) *trade.Order {
	w.t.Helper()
	o, err := w.svc.Order(w.ctx, w.admin, strings.TrimPrefix(path, "/orders/"))
	w.must("order", err)
	return o
}

// TestBrowserFormErrors ensures a rejected order form shows each error next to its field
// (marked aria-invalid and described by the message) and keeps everything typed — also when
// the domain's error is about a line item row that is not the first.
func TestBrowserFormErrors(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { formErrors(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { formErrors(t, newWorld(t, postgresURL(t))) })
}

func formErrors(t *testing.T, w *world) {
	ctx := browser(t)
	buyer := w.person(ctx, "buyer")
	buyer.login()
	buyer.open("/orders/new?supplier=" + w.actors["supplier"].OrgID)
	yesterday := trade.Day(w.clock.Now()).AddDate(0, 0, -1).Format(time.DateOnly)
	buyer.do("fill with a past date",
		chromedp.SetValue(chromedp.ID("f-ship_by"), yesterday),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--description"), "Hoodie"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--quantity"), "100"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--unit"), "pcs"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--unit_price"), "6.50"),
		chromedp.SendKeys(chromedp.ID("f-line_items-2--description"), "Joggers"),
		chromedp.SendKeys(chromedp.ID("f-line_items-2--quantity"), "0"),
		chromedp.SendKeys(chromedp.ID("f-line_items-2--unit"), "pcs"),
		chromedp.SendKeys(chromedp.ID("f-line_items-2--unit_price"), "4.75"),
		chromedp.Click(chromedp.ID("f-compliance_confirmed")),
		chromedp.Click(chromedp.CSS("form.order-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-ship_by-error")),
	)
	fieldError(buyer, "ship_by", "f-ship_by", "cannot be in the past")
	kept := map[string]string{"f-ship_by": yesterday, "f-line_items-0--description": "Hoodie",
		"f-line_items-0--unit_price": "6.50", "f-line_items-2--description": "Joggers", "f-supplier_id": w.actors["supplier"].OrgID}
	for id, want := range kept {
		if got := run(buyer, "value of "+id, chromedp.Value(chromedp.ID(id))); got != want {
			t.Errorf("%s = %q after the error, want %q kept", id, got, want)
		}
	}
	if !run(buyer, "checkbox", chromedp.Evaluate[bool](`document.getElementById("f-compliance_confirmed").checked`)) {
		t.Error("the compliance confirmation was not kept")
	}

	// Next the domain refuses the third row's quantity: its error must sit next to row 3, not row 1.
	buyer.do("fix the date",
		chromedp.SetValue(chromedp.ID("f-ship_by"), trade.Day(w.clock.Now()).AddDate(0, 0, 30).Format(time.DateOnly)),
		chromedp.Click(chromedp.CSS("form.order-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-line_items-2--quantity-error")),
	)
	fieldError(buyer, "row 3 quantity", "f-line_items-2--quantity", "Quantity must be 1 to")
	if n := run(buyer, "errors", chromedp.Evaluate[int](`document.querySelectorAll(".field-error[id]").length`)); n != 1 {
		t.Errorf("%d field errors shown, want only the quantity's", n)
	}

	// A price that is not a number is caught before the domain, next to its field.
	buyer.do("a bad price",
		chromedp.SetValue(chromedp.ID("f-line_items-2--quantity"), "800"),
		chromedp.SetValue(chromedp.ID("f-line_items-0--unit_price"), "six fifty"),
		chromedp.Click(chromedp.CSS("form.order-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-line_items-0--unit_price-error")),
	)
	fieldError(buyer, "price", "f-line_items-0--unit_price", "Give a price in USD")

	buyer.do("fix and place",
		chromedp.SetValue(chromedp.ID("f-line_items-0--unit_price"), "6.50"),
		chromedp.Click(chromedp.CSS("form.order-form button[type=submit]")),
		waitText("Order placed."),
	)
	buyer.has("placed", "USD 4,450.00", "Joggers")
}

// fieldError checks that the input id is marked invalid and described by an error containing want.
func fieldError(p *person, what, id, want string) {
	p.t.Helper()
	inv := run(p, what, chromedp.AttributeValue(chromedp.ID(id), "aria-invalid"))
	desc := run(p, what, chromedp.AttributeValue(chromedp.ID(id), "aria-describedby"))
	msg := run(p, what, chromedp.Text(chromedp.ID(id+"-error")))
	if inv.Value != "true" || desc.Value != id+"-error" || !strings.Contains(msg, want) {
		p.t.Errorf("%s: aria-invalid=%q aria-describedby=%q message %q, want %q", what, inv.Value, desc.Value, msg, want)
	}
}

// TestBrowserPhoneWidth ensures every page each role uses works on a phone (R24): at 390×844,
// and at 1280×800, each passes the page check (person.check: nothing sticks out, every control
// labelled, text contrast, focus visible) — the login, every role's dashboard (the arbiter's is
// the queue of escalated disputes), the supplier directory, the order page as the buyer sees
// it, as the inspector sees it with the report form and as the supplier sees it with the
// shipment form and with a dispute to answer, checkout, the contract editor, Pay Later,
// notifications, the password page, the supplier's payouts, the case file, and the admin's
// suppliers, fees, ledger and users and an audit log. On SQLite, with UPDATE_SCREENSHOTS=1, it
// also rewrites the documentation's screenshots.
func TestBrowserPhoneWidth(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { phoneWidth(t, newWorld(t, sqliteURL(t)), os.Getenv("UPDATE_SCREENSHOTS") == "1") })
	t.Run("postgres", func(t *testing.T) { phoneWidth(t, newWorld(t, postgresURL(t)), false) })
}

func phoneWidth(t *testing.T, w *world, update bool) {
	w.order(trade.ContractProposed)
	inProduction := w.order(trade.InProduction) // the inspection is booked with the inspector
	disputed := w.order(trade.Disputed)
	escalated := w.order(trade.Escalated)
	ready := w.readyToShip()
	o := w.order(trade.Confirmed)
	w.released()
	w.clock.Advance(26 * time.Hour) // the next day's automatic payout sends it (R12)
	w.timers()
	w.released()                  // and a balance owed now
	w.payoutSentThenReturned()    // a flagged account and a payout waiting: the operations queues
	notes := withNotifications(w) // as serve mounts the portal: with the inbox
	runNotifier(t, notes)
	w.approve(500_000_00) // the buyer's Pay Later line
	runNotifier(t, notes) // and its notice, linking to the credit line
	w.vietnamSuppliers(3) // the directory lists more than one supplier
	ctx := browser(t)
	visitor, buyer, supplier := w.person(ctx, "visitor"), w.person(ctx, "buyer"), w.person(ctx, "supplier")
	inspector, arbiter, admin := w.person(ctx, "inspector"), w.person(ctx, "arbiter"), w.person(ctx, "admin")
	for _, p := range []*person{buyer, supplier, inspector, arbiter, admin} {
		p.login()
	}
	pages := []struct {
		name string // of the screenshot; "" takes none
		who  *person
		path string
		at   string // the element a screenshot scrolls to, if not the top
	}{
		{"login", visitor, "/login", ""},
		{"dashboard-buyer", buyer, "/", ""},
		{"order", buyer, "/orders/" + o.ID, ""},
		{"suppliers", buyer, "/suppliers", ""},
		{"new-order", buyer, "/orders/new?supplier=" + w.actors["supplier"].OrgID, ""},
		{"contract-editor", buyer, "/orders/" + o.ID + "/contract", ""},
		{"pay-later", buyer, "/credit", ""},
		{"notifications", buyer, "/notifications", ""},
		{"", buyer, "/account/password", ""},
		{"dashboard-supplier", supplier, "/", ""},
		{"", supplier, "/orders/" + ready.ID, ""},    // the shipment form
		{"", supplier, "/orders/" + disputed.ID, ""}, // the settlement offer
		{"payouts", supplier, "/payouts", ""},
		{"dashboard-inspector", inspector, "/", ""},
		{"inspection-report", inspector, "/orders/" + inProduction.ID, "action-report"},
		{"dashboard-arbiter", arbiter, "/", ""},
		{"case", arbiter, "/orders/" + escalated.ID + "/case", ""},
		{"admin-suppliers", admin, "/admin/suppliers", ""},
		{"admin-fees", admin, "/admin/fees", ""},
		{"admin-ledger", admin, "/admin/ledger", ""},
		{"admin-operations", admin, "/admin/operations", ""},
		{"admin-users", admin, "/admin/users", ""},
		{"audit", admin, "/orders/" + escalated.ID + "/audit", ""},
	}
	review := os.Getenv("REVIEW_SCREENSHOTS") // a directory for full-page captures, to check a layout by eye
	save := func(p *person, dir, name string, shot chromedp.Action[[]byte]) {
		t.Helper()
		png := run(p, "screenshot "+name, shot)
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docs := filepath.Join("..", "docs", "screenshots")
	for _, size := range []viewport{phone, laptop} {
		for _, pg := range pages {
			p := pg.who
			p.resize(size)
			p.open(pg.path) // checks the page: nothing sticks out, labels, focus
			if title := run(p, "title", chromedp.Evaluate[string](`document.title`)); strings.HasPrefix(title, "Not ") ||
				strings.HasPrefix(title, "Error") {
				t.Fatalf("%s (%s) shows %q, not the page", pg.name, pg.path, title)
			}
			if pg.name == "" {
				continue
			}
			name := fmt.Sprintf("%s-%d", pg.name, size.w)
			if pg.at != "" {
				p.do("scroll to "+pg.at, chromedp.Evaluate[chromedp.Void](`document.getElementById(`+strconv.Quote(pg.at)+`).scrollIntoView()`))
			}
			if update {
				save(p, docs, name, chromedp.CaptureScreenshot())
			}
			if review != "" {
				save(p, review, name, chromedp.FullScreenshot(100))
			}
			if pg.name == "order" && update {
				// The fee table a buyer sees before paying (R10).
				p.do("scroll to the payment", chromedp.Evaluate[chromedp.Void](`document.getElementById("action-pay").scrollIntoView()`))
				save(p, docs, fmt.Sprintf("order-pay-%d", size.w), chromedp.CaptureScreenshot())
			}
		}
	}
}
