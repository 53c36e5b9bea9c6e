package api_test

import (
	"time"
)

// owned is what each tenant of the matrix fixture owns beyond its confirmed order, so that the
// operations on disputes, payouts, loans and bank debits are tried on real resources: their own
// tenant's (allowed where the row says) and the other tenant's (refused).
type owned struct {
	disputedOrder, dispute string
	payout                 string
	loan                   string
	application            string // the buyer's Pay Later application, approved
	debit                  string // a bank debit request (tenant A only: retrying one is for admins)
}

// tenantNames names tenant A's organizations, or tenant B's.
func tenantNames(tenantA bool) (buyer, supplier, inspector string) {
	if tenantA {
		return "buyer", "supplier", "inspector"
	}
	return "buyer2", "supplier2", "inspector2"
}

// buildOwned makes each tenant's owned resources. It runs before the fixture's other orders:
// the clock moves here (payments arrive, the lender disburses), and nothing else is due yet.
func (f *fixture) buildOwned() {
	w := f.w
	f.owned = map[bool]*owned{true: {}, false: {}}
	for _, tenantA := range []bool{true, false} {
		b, _, _ := tenantNames(tenantA)
		// A Pay Later line: the business applies as a US one (R11).
		var app struct {
			Application struct{ ID string }
		}
		w.ok(w.call(b, "POST", "/v1/credit/applications", creditApplication("US", 500_000_00), &app), 202)
		w.lenderWorker() // the lender decides outside the request: the line opens
		o := f.owned[tenantA]
		o.application = app.Application.ID
		o.disputedOrder, o.dispute = f.disputed(tenantA)
		o.payout = f.paidOut(tenantA)
		o.loan = f.newLoan(tenantA)
	}
	f.owned[true].debit = f.newDebit()
}

// disputed is an order of the tenant whose inspection failed and whose buyer filed a dispute.
func (f *fixture) disputed(tenantA bool) (orderID, disputeID string) {
	w := f.w
	b, _, i := tenantNames(tenantA)
	o := f.confirmed(tenantA)
	w.do(b, o.ID, "pay", map[string]any{"installment": "initial", "method": "tt_wire"})
	w.tick(2 * time.Hour)
	o = w.do(i, o.ID, "inspection-report", map[string]any{"passed": false, "sample_size": 80, "major": 9,
		"findings": []any{map[string]any{"attribute": "Fabric weight", "measured": "168 g/m²", "pass": false}}})
	o = w.do(b, o.ID, "file-dispute", map[string]any{"reason": "168 g/m² against 200 ± 5%", "requirements": []string{"Fabric weight"}})
	if len(o.Disputes) == 0 {
		w.t.Fatalf("no dispute on %s (%s)", o.ID, o.State)
	}
	return o.ID, o.Disputes[0].ID
}

// paidOut releases an order of the tenant to its supplier and pays the supplier out.
func (f *fixture) paidOut(tenantA bool) string {
	w := f.w
	b, s, i := tenantNames(tenantA)
	o := f.confirmed(tenantA)
	w.do(b, o.ID, "pay", map[string]any{"installment": "initial", "method": "card"})
	w.tick(2 * time.Hour)
	w.do(i, o.ID, "inspection-report", map[string]any{"passed": true, "sample_size": 80, "critical": 0, "major": 0, "minor": 0,
		"findings": []any{map[string]any{"attribute": "Fabric weight", "measured": "201 g/m²", "pass": true}}})
	w.do(b, o.ID, "pay", map[string]any{"installment": "balance", "method": "tt_wire"})
	w.tick(2 * time.Hour)
	w.do(s, o.ID, "ship", map[string]any{"shipped_on": w.clock.Now().Truncate(24 * time.Hour).Format(time.RFC3339),
		"carrier": "COSCO", "tracking_number": "COSU1"})
	w.tick(time.Minute)
	var p struct{ ID string }
	w.ok(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": w.ids[s], "currency": "USD"}, &p), 201)
	return p.ID
}

// newLoan is a Pay Later loan offered to the tenant's buyer for a new order's initial payment,
// its agreement not yet accepted.
func (f *fixture) newLoan(tenantA bool) string {
	w := f.w
	b, _, _ := tenantNames(tenantA)
	o := f.confirmed(tenantA)
	w.do(b, o.ID, "pay", map[string]any{"installment": "initial", "method": "pay_later"})
	var l loanView
	w.ok(w.call(b, "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 3}, &l), 201)
	return l.ID
}

// newDebit is a bank debit request of tenant A's buyer: a loan accepted, disbursed by the lender
// within a few business days, and then paid off.
func (f *fixture) newDebit() string {
	w := f.w
	id := f.newLoan(true)
	var l loanView
	w.ok(w.call("buyer", "POST", "/v1/loans/"+id+"/accept", map[string]any{}, &l), 200)
	for range 7 {
		if w.ok(w.call("buyer", "GET", "/v1/loans/"+id, nil, &l), 200); l.State == "disbursed" {
			break
		}
		w.tick(24 * time.Hour)
		w.lenderWorker() // the disbursement request the timer made
	}
	if l.State != "disbursed" {
		w.t.Fatalf("loan %s not disbursed after a week: %s", id, l.State)
	}
	w.ok(w.call("buyer", "POST", "/v1/loans/"+id+"/pay-off", map[string]any{}, &l), 202)
	if l.BankDebit == nil {
		w.t.Fatalf("paying off loan %s requested no bank debit", id)
	}
	return l.BankDebit.ID
}

// ownedOf is the cell's tenant's owned resources: tenant A's for its own resource (platform
// staff use tenant A's), tenant B's for a foreign one.
func (t *target) ownedOf() *owned { return t.f.owned[t.own] }

func (t *target) disputedOrder() string { return t.ownedOf().disputedOrder }
func (t *target) dispute() string       { return t.ownedOf().dispute }
func (t *target) payout() string        { return t.ownedOf().payout }
func (t *target) debit() string         { return t.f.owned[true].debit }
func (t *target) application() string   { return t.ownedOf().application }

// loan is the cell's tenant's loan; a fresh one when the call will change it.
func (t *target) loan() string {
	if t.fresh {
		return t.f.newLoan(t.own)
	}
	return t.ownedOf().loan
}
