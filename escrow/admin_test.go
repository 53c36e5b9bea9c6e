package escrow_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// TestOrgHistory ensures a supplier's history records every eligibility decision with its
// reason and the admin who made it, and every coverage limit, oldest first; and that only an
// admin reads it. R1, R22
func TestOrgHistory(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		sup := e.supplier.OrgID
		e.clock.Advance(24 * time.Hour)
		must(e.svc.SetEligibility(e.ctx, e.admin, e.key(), sup, false, "Licence expired"))
		hist := must(e.svc.OrgHistory(e.ctx, e.admin, sup))
		var fields []string
		for _, c := range hist {
			fields = append(fields, c.Field)
		}
		if want := []string{"created", "eligibility", "coverage_limit", "eligibility"}; !slices.Equal(fields, want) {
			t.Fatalf("history fields %v, want %v", fields, want)
		}
		last := hist[len(hist)-1]
		var req struct {
			Eligible bool   `json:"eligible"`
			Reason   string `json:"reason"`
		}
		if err := json.Unmarshal(last.Change, &req); err != nil || req.Eligible || req.Reason != "Licence expired" ||
			!last.At.Equal(e.clock.Now()) || last.Actor.UserID != e.admin.UserID {
			t.Errorf("last change %+v (%s)", last, last.Change)
		}
		var limit money.Amount
		if err := json.Unmarshal(hist[2].Change, &limit); err != nil || limit != money.New(20_000_00, "USD") {
			t.Errorf("coverage change %s", hist[2].Change)
		}
		for _, a := range []trade.Actor{e.buyer, e.supplier, e.arbiter} {
			if _, err := e.svc.OrgHistory(e.ctx, a, sup); fault.ReasonOf(err) != "role_not_allowed" {
				t.Errorf("%s reads a supplier's history: %v", a.Role, err)
			}
			if _, err := e.svc.Balances(e.ctx, a); fault.ReasonOf(err) != "role_not_allowed" {
				t.Errorf("%s reads the balances: %v", a.Role, err)
			}
		}
		if _, err := e.svc.OrgHistory(e.ctx, e.admin, "sup_nope"); !isNotFound(err) {
			t.Errorf("history of an unknown org: %v", err)
		}
	})
}

func isNotFound(err error) bool {
	f, ok := fault.As(err)
	return ok && f.Code == fault.NotFound
}

// TestBalancesTrialBalance ensures the balance table read by Balances matches the ledger
// check's trial balance after money moved, and that its debits equal its credits per currency.
func TestBalancesTrialBalance(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.confirmed(10_00)
		e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: "card"})
		e.clock.Advance(2 * time.Hour)
		e.timers()
		bal := must(e.svc.Balances(e.ctx, e.admin))
		rep := must(e.svc.CheckLedger(e.ctx))
		if !reflect.DeepEqual(rep.Trial, bal) {
			t.Errorf("balance table %v, the check's trial balance %v", bal, rep.Trial)
		}
		tot := escrow.TrialTotals(bal)
		if len(tot) != 1 || tot[0].Currency != "USD" || !tot[0].Balanced() || tot[0].Debits == 0 {
			t.Errorf("trial totals %+v", tot)
		}
	})
}

// TestTrialTotals ensures a trial balance is footed per currency with each account on its
// natural side: a debit-normal account with a positive balance is a debit, a credit-normal one
// a credit, and either with a negative balance lands on the other side.
func TestTrialTotals(t *testing.T) {
	lines := []escrow.AccountBalance{
		{Account: "rail_clearing:card:USD", Balance: 1_030_00},   // debit-normal: debit
		{Account: "escrow:ord_1:USD", Balance: 1_000_00},         // credit-normal: credit
		{Account: "fee_revenue:card:USD", Balance: 30_00},        // credit
		{Account: "rail_clearing:tt_wire:EUR", Balance: -50_00},  // debit-normal, negative: credit
		{Account: "buyer_refundable:buy_1:EUR", Balance: -50_00}, // credit-normal, negative: debit
		{Account: "not an account", Balance: 7},                  // left out
	}
	got := escrow.TrialTotals(lines)
	want := []escrow.CurrencyTotal{
		{Currency: "EUR", Debits: 50_00, Credits: 50_00},
		{Currency: "USD", Debits: 1_030_00, Credits: 1_030_00},
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	lines[1].Balance--
	if escrow.TrialTotals(lines)[1].Balanced() {
		t.Error("an unbalanced USD trial balance reads as balanced")
	}
}

// TestVerifyChain ensures VerifyChain accepts a chain as appended and names the first broken
// link of a stream whose event was altered, reordered or removed.
func TestVerifyChain(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.confirmed(10_00)
		evs := must(e.svc.Events(e.ctx, e.admin, o.ID))
		if vs := escrow.VerifyChain(o.ID, evs); len(vs) != 0 {
			t.Fatalf("intact chain: %v", vs)
		}
		altered := append([]escrow.Event(nil), evs...)
		altered[1].Payload = json.RawMessage(`{"total":1}`)
		if vs := escrow.VerifyChain(o.ID, altered); len(vs) != 1 || vs[0].Rule != "chain_tampered" {
			t.Errorf("altered payload: %v", vs)
		}
		removed := append(append([]escrow.Event(nil), evs[:1]...), evs[2:]...)
		if vs := escrow.VerifyChain(o.ID, removed); len(vs) == 0 || vs[0].Rule != "chain_gap" {
			t.Errorf("removed event: %v", vs)
		}
	})
}
