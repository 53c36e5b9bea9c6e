package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// timers fires every timer due at the clock's time, as the server's worker would.
func (w *world) timers() {
	w.t.Helper()
	for {
		n, err := w.svc.RunTimers(w.ctx, "portal-test")
		w.must("run timers", err)
		if n == 0 {
			return
		}
	}
}

// readyToShip drives an order through a passed inspection and the balance paid: the supplier
// may ship it now.
func (w *world) readyToShip() *trade.Order {
	w.t.Helper()
	o := w.order(trade.InProduction)
	do := func(a trade.Actor, cmd trade.Command) {
		w.t.Helper()
		var err error
		o, err = w.svc.Do(w.ctx, a, w.key(), o.ID, cmd)
		w.must(string(cmd.Event()), err)
	}
	var findings []trade.Finding
	for _, req := range []string{"Fabric weight", "Zipper", "CPSIA (US) compliant"} {
		findings = append(findings, trade.Finding{Attribute: req, Measured: "as specified", Pass: true})
	}
	do(w.actors["inspector"], trade.SubmitReport{Report: trade.Report{Passed: true, SampleSize: 125, Findings: findings}})
	do(w.actors["buyer"], trade.Pay{Installment: trade.Balance, Method: payment.TTWire})
	o = w.deliver(o)
	if o.State != trade.BalancePaid {
		w.t.Fatalf("state %s, want balance_paid", o.State)
	}
	return o
}

// released drives an order through a passed inspection, the balance and shipment; the release
// timer pays escrow to the supplier's payable account (R12).
func (w *world) released() *trade.Order {
	w.t.Helper()
	o := w.readyToShip()
	_, err := w.svc.Do(w.ctx, w.actors["supplier"], w.key(), o.ID,
		trade.Ship{ShippedOn: trade.Day(w.clock.Now()), Carrier: "COSCO", Tracking: "COSU1"})
	w.must("ship", err)
	w.timers()
	o, err = w.svc.Order(w.ctx, w.admin, o.ID)
	w.must("read order", err)
	if o.State != trade.Released {
		w.t.Fatalf("state %s, want released", o.State)
	}
	return o
}

// TestPayoutsPortal ensures a supplier sees what it is owed, the release that makes it up (with
// a link to the order) and the next automatic payout; an admin pays it out with "Pay out now"
// (a double submission pays once), and a second try is refused next to the currency, keeping
// the choice; the supplier then sees the payout. Only a supplier has the payouts page and only
// an admin pays out. R12
func TestPayoutsPortal(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.released()
		sup := w.supplierID()
		supplier := w.login("supplier")
		page := supplier.get("/payouts")
		due := trade.Day(w.clock.Now()).AddDate(0, 0, 1).Add(time.Hour)
		for _, want := range []string{`href="/payouts"`, "Owed to you now", "USD 11,600.00", `href="/orders/` + o.ID + `"`,
			"Released after shipment", "Next automatic payout", `datetime="` + due.Format(time.RFC3339) + `"`, "No payouts yet."} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the supplier's payouts page lacks %q", want)
			}
		}
		if page.status != http.StatusOK {
			t.Fatalf("GET /payouts: %d", page.status)
		}
		for _, role := range []string{"buyer", "inspector", "arbiter", "admin"} {
			if res := w.login(role).get("/payouts"); res.status != http.StatusForbidden {
				t.Errorf("%s GET /payouts: %d, want 403", role, res.status)
			}
		}
		for _, role := range []string{"buyer", "supplier", "inspector", "arbiter"} {
			if res := w.login(role).post("/admin/suppliers/"+sup+"/payout", url.Values{"currency": {"USD"}}); res.status != http.StatusForbidden {
				t.Errorf("%s POST payout: %d, want 403", role, res.status)
			}
		}

		admin := w.login("admin")
		action := "/admin/suppliers/" + sup + "/payout"
		adminPage := admin.get("/admin/suppliers/" + sup)
		for _, want := range []string{"Pay out now", "USD 11,600.00", `<option selected>USD</option>`} {
			if !strings.Contains(adminPage.body, want) {
				t.Errorf("the admin's supplier page lacks %q", want)
			}
		}
		form := url.Values{"idempotency_key": {formKey(t, adminPage.body, action)}, "currency": {"USD"}}
		for range 2 { // a double submission
			if res := admin.post(action, form); res.status != http.StatusSeeOther {
				t.Fatalf("pay out now: %d %s", res.status, res.body)
			}
		}
		after := admin.get("/admin/suppliers/" + sup)
		if !strings.Contains(after.body, "Requested a payout of USD 11,600.00 by T/T bank transfer (international wire); it is sent once the bank&#39;s confirmation is recorded.") {
			t.Error("no flash after paying out")
		}
		ps, err := w.svc.Payouts(w.ctx, w.admin, escrowFilter(sup))
		w.must("payouts", err)
		if len(ps) != 1 || ps[0].Sent != 11_600_00 {
			t.Fatalf("payouts %+v, want one of 1160000", ps)
		}
		again := admin.post(action, url.Values{"idempotency_key": {formKey(t, after.body, action)}, "currency": {"USD"}})
		if again.status != http.StatusUnprocessableEntity ||
			!strings.Contains(again.body, `<small id="f-payout-currency-error" class="field-error">Nothing is owed to this supplier in USD.</small>`) ||
			!strings.Contains(again.body, `<option selected>USD</option>`) {
			t.Fatalf("paying out nothing: %d; the error is not next to the currency", again.status)
		}
		if res := admin.post("/admin/suppliers/sup_none/payout", url.Values{"idempotency_key": {formKey(t, after.body, action)},
			"currency": {"USD"}}); res.status != http.StatusNotFound {
			t.Errorf("paying out an unknown supplier: %d, want 404", res.status)
		}
		page = supplier.get("/payouts")
		for _, want := range []string{"Your payouts", "Requested: waiting for the bank&#39;s confirmation", ps[0].Reference, "By the platform",
			"No payout is due.", "On its way to your bank"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("after the payout the supplier's page lacks %q", want)
			}
		}
	})
}

// TestPayoutsPortalDebt ensures a supplier sees the debt a refund from the guarantee fund left
// (R14), and that the next payout nets it first: the admin's payout of a release no larger than
// the debt only nets, and both pages say so. R12 R14 R22
func TestPayoutsPortalDebt(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		sup := w.supplierID()
		_, err := w.svc.SetReleasePolicy(w.ctx, w.admin, w.key(), sup, trade.ReleaseInitialForProduction)
		w.must("release policy", err)
		_, err = w.svc.FundGuarantee(w.ctx, w.admin, w.key(), money.New(100_000_00, "USD"))
		w.must("fund", err)
		a := w.order(trade.InProduction) // the deposit is released for production on arrival
		_, err = w.svc.PayOut(w.ctx, w.admin, w.key(), sup, "USD")
		w.must("pay out the deposit", err)
		w.clock.Set(a.Deadline().Add(time.Second))
		w.timers() // the order is late
		a, err = w.svc.Do(w.ctx, w.actors["buyer"], w.key(), a.ID, trade.Refund{})
		w.must("refund", err)
		if a.Money.Guaranteed != 3_480_00 {
			t.Fatalf("guaranteed %d, want 348000", a.Money.Guaranteed)
		}
		supplier := w.login("supplier")
		page := supplier.get("/payouts").body
		for _, want := range []string{"Your debt, netted first (R14)", "USD 3,480.00", "Your next releases settle this debt before anything is sent."} {
			if !strings.Contains(page, want) {
				t.Errorf("the supplier's page lacks %q", want)
			}
		}
		w.order(trade.InProduction) // another deposit, released: as much as the debt
		admin := w.login("admin")
		action := "/admin/suppliers/" + sup + "/payout"
		adminPage := admin.get("/admin/suppliers/" + sup).body
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, adminPage, action)}, "currency": {"USD"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("pay out now: %d", res.status)
		}
		if !strings.Contains(admin.get("/admin/suppliers/"+sup).body, "Netted USD 3,480.00 against the supplier&#39;s debt; nothing was left to send.") {
			t.Error("no netting flash")
		}
		page = supplier.get("/payouts").body
		if !strings.Contains(page, "Netted: nothing sent") {
			t.Error("the supplier's page does not show the netting payout")
		}
		rep, err := w.svc.CheckLedger(w.ctx)
		w.must("ledger check", err)
		if !rep.OK() {
			t.Fatalf("ledger: %v", rep.Violations)
		}
	})
}

func escrowFilter(supplierID string) escrow.PayoutFilter {
	return escrow.PayoutFilter{SupplierID: supplierID}
}

// TestPayoutsPortalReturned ensures a supplier whose payout the bank returned is told so, with
// the bank's reason, sees the money owed to it again (made of the returned payout), and learns
// that nothing is sent until its account is cleared; the admin's supplier page shows the return
// and refuses "Pay out now" next to the currency. R12
func TestPayoutsPortalReturned(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		w.released()
		sup := w.supplierID()
		p, err := w.svc.PayOut(w.ctx, w.admin, w.key(), sup, "USD")
		w.must("pay out", err)
		_, err = w.svc.RecordPayoutResult(w.ctx, w.admin, w.key(), p.ID, trade.PayoutResult{Outcome: trade.OutcomeReturned,
			Amount: money.New(p.Sent, "USD"), ValueDate: w.clock.Now(), Reason: "AC04 closed account number"})
		w.must("record the return", err)
		page := w.login("supplier").get("/payouts").body
		for _, want := range []string{"Your bank returned a payout.", "AC04 closed account number", "Returned by the bank: AC04 closed account number",
			"A payout your bank returned", "USD 11,600.00"} {
			if !strings.Contains(page, want) {
				t.Errorf("the supplier's page lacks %q", want)
			}
		}
		admin := w.login("admin")
		action := "/admin/suppliers/" + sup + "/payout"
		adminPage := admin.get("/admin/suppliers/" + sup).body
		if !strings.Contains(adminPage, "Returned by the bank: AC04 closed account number") {
			t.Error("the admin's supplier page does not show the return")
		}
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, adminPage, action)}, "currency": {"USD"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "was returned by the bank") {
			t.Fatalf("paying out to a flagged account: %d", res.status)
		}
	})
}
