package escrow_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// restart replaces the service with one on the same database configured by sandbox and
// accounts: a process restart with other flags.
func (e *env) restart(sandbox escrow.Sandbox, accounts payment.CollectionAccounts) {
	e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Blobs: e.blobs,
		Sandbox: sandbox, Accounts: accounts})
}

// pending is the order's pending payment.
func pending(t *testing.T, o *trade.Order) trade.Payment {
	t.Helper()
	for _, p := range o.Payments {
		if p.Status == trade.PaymentPending {
			return p
		}
	}
	t.Fatalf("order %s has no pending payment: %+v", o.ID, o.Payments)
	return trade.Payment{}
}

// eventPayloads returns the payloads of the order's events of type typ.
func (e *env) eventPayloads(o *trade.Order, typ string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, ev := range must(e.svc.Events(e.ctx, e.admin, o.ID)) {
		if ev.Type != typ {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(ev.Payload, &m); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestNoSandboxMoneyArrivesOnlyFromARail ensures that without the sandbox rail the payment
// instructions name the platform's collection account for the method and currency, are not
// marked sandbox, and that the order stays unpaid — whatever time passes and whichever timers
// fire — until the rail reports the money to ReceiveFunds; the money is then booked on the
// rail's own clearing account. R8
func TestNoSandboxMoneyArrivesOnlyFromARail(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		accounts := railtest.Accounts()
		e.restart(escrow.Sandbox{}, accounts)
		o := e.do(e.buyer, e.confirmed(10_00), trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		p := pending(t, o)
		want, _ := accounts.For(payment.TTWire, "USD")
		if p.Sandbox || p.PayTo == nil || *p.PayTo != want {
			t.Fatalf("instructions: sandbox %v, pay to %+v; want %+v", p.Sandbox, p.PayTo, want)
		}
		e.clock.Advance(3 * 24 * time.Hour) // far beyond any sandbox delay, within the instructions' validity
		e.timers()
		if o = e.reload(o); o.State != trade.Confirmed || pending(t, o).ID != p.ID {
			t.Fatalf("without money: state %s, payments %+v", o.State, o.Payments)
		}
		for _, tm := range must(e.svc.Timers(e.ctx, o.ID)) {
			if tm.Kind == trade.TimerSandboxSettle {
				t.Errorf("a sandbox delivery was scheduled: %+v", tm)
			}
		}
		wireBefore := e.balance(trade.RailAccount(payment.TTWire, "USD")) // the guarantee fund came by wire
		al := must(e.svc.ReceiveFunds(e.ctx, "MT940-0316-1", escrow.Incoming{Method: payment.TTWire,
			Amount: money.New(p.Total, "USD"), Reference: p.Reference, Payer: "Buyer Co"}))
		if al.OrderID != o.ID || al.PaymentID != p.ID {
			t.Fatalf("allocation %+v", al)
		}
		if o = e.reload(o); o.State != trade.InProduction || o.Money.Paid != p.Amount {
			t.Fatalf("after the rail's credit: state %s, paid %d", o.State, o.Money.Paid)
		}
		if got := e.balance(trade.RailAccount(payment.TTWire, "USD")) - wireBefore; got != p.Total {
			t.Errorf("rail_clearing:tt_wire moved %d, want %d", got, p.Total)
		}
		if got := e.balance(trade.SandboxAccount("USD")); got != 0 {
			t.Errorf("rail_clearing:sandbox %d without the sandbox", got)
		}
		for _, ev := range e.eventPayloads(o, "payment.received") {
			if _, ok := ev["sandbox"]; ok {
				t.Errorf("real money's event says sandbox: %v", ev)
			}
		}
		e.checkLedger()
	})
}

// TestNoSandboxMethodNotOffered ensures a method the platform has no collection account for,
// in the order's currency, is refused with method_not_offered, after the domain's own refusals
// (who may pay, which methods take the currency), and that Pay Later needs no account. R8 R9
func TestNoSandboxMethodNotOffered(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		wire, _ := railtest.Accounts().For(payment.TTWire, "USD")
		e.restart(escrow.Sandbox{}, payment.CollectionAccounts{wire})
		o := e.confirmed(10_00)
		refused := func(a trade.Actor, m payment.Method, reason string) {
			t.Helper()
			_, err := e.svc.Do(e.ctx, a, e.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: m})
			if got := fault.ReasonOf(err); got != reason {
				t.Errorf("pay by %s as %s: %v, want %s", m, a.Role, err, reason)
			}
		}
		refused(e.buyer, payment.Card, "method_not_offered")
		refused(e.buyer, payment.Boleto, "method_currency_unsupported") // BRL only: the domain says why
		refused(e.supplier, payment.Card, "role_not_allowed")
		refused(e.buyer, payment.PayLater, "pay_later_requires_credit_line") // the lender pays: no account asked
		if o = e.reload(o); len(o.Payments) != 0 {
			t.Fatalf("a refused payment left instructions: %+v", o.Payments)
		}
		o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		if p := pending(t, o); p.PayTo == nil || p.PayTo.Number != wire.Number {
			t.Fatalf("instructions %+v", p)
		}
		if _, err := e.svc.CollectionAccount(payment.Card, "USD"); fault.ReasonOf(err) != "method_not_offered" {
			t.Errorf("CollectionAccount(card, USD): %v", err)
		}
	})
}

// TestSandboxDeliversAndSaysSo ensures that with the sandbox rail on, the instructions name the
// sandbox's own account and are marked sandbox, the sandbox delivers the money after its delay
// through the usual matching, and the record says it was simulated: the money is debited to the
// sandbox's clearing account, not the method's, and the payment.received event carries
// sandbox: true. R8
func TestSandboxDeliversAndSaysSo(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.restart(escrow.Sandbox{Enabled: true, Delay: time.Hour}, nil)
		if !e.svc.Sandbox().Enabled {
			t.Fatal("the service does not report its sandbox")
		}
		o := e.do(e.buyer, e.confirmed(10_00), trade.Pay{Installment: trade.Initial, Method: payment.Card})
		p := pending(t, o)
		if !p.Sandbox || p.PayTo == nil || !p.PayTo.Sandbox || !strings.Contains(p.PayTo.Note, "no real money moves") ||
			!strings.Contains(p.PayTo.Note, "1 hour") {
			t.Fatalf("sandbox instructions: %+v pay to %+v", p, p.PayTo)
		}
		e.clock.Advance(time.Hour - time.Second)
		e.timers()
		if o = e.reload(o); o.State != trade.Confirmed {
			t.Fatalf("state %s before the sandbox delay ended", o.State)
		}
		e.clock.Advance(time.Second)
		e.timers()
		if o = e.reload(o); o.State != trade.InProduction {
			t.Fatalf("state %s after the sandbox delay", o.State)
		}
		if got := e.balance(trade.SandboxAccount("USD")); got != p.Total {
			t.Errorf("rail_clearing:sandbox %d, want %d", got, p.Total)
		}
		if got := e.balance(trade.RailAccount(payment.Card, "USD")); got != 0 {
			t.Errorf("rail_clearing:card %d: simulated money booked as a card's", got)
		}
		evs := e.eventPayloads(o, "payment.received")
		if len(evs) != 1 || evs[0]["sandbox"] != true {
			t.Errorf("payment.received payloads %v, want one with sandbox: true", evs)
		}
		e.checkLedger()
	})
}

// TestSandboxOffSkipsScheduledDelivery ensures a sandbox delivery scheduled while the sandbox
// was on delivers nothing once the server runs without it: the timer is skipped (sandbox_off)
// and the payment waits for real money, which the rail reports. R8 R21
func TestSandboxOffSkipsScheduledDelivery(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.restart(escrow.Sandbox{Enabled: true, Delay: time.Hour}, nil)
		o := e.do(e.buyer, e.confirmed(10_00), trade.Pay{Installment: trade.Initial, Method: payment.Card})
		p := pending(t, o)
		e.restart(escrow.Sandbox{}, railtest.Accounts())
		e.clock.Advance(2 * time.Hour)
		e.timers()
		if o = e.reload(o); o.State != trade.Confirmed {
			t.Fatalf("state %s: the sandbox delivered with the sandbox off", o.State)
		}
		var outcome string
		for _, tm := range must(e.svc.Timers(e.ctx, o.ID)) {
			if tm.Kind == trade.TimerSandboxSettle {
				outcome = tm.Outcome
			}
		}
		if outcome != escrow.TimerSkipped+": sandbox_off" {
			t.Errorf("sandbox timer outcome %q", outcome)
		}
		must(e.svc.ReceiveFunds(e.ctx, "cap-1", escrow.Incoming{Method: payment.Card, Amount: money.New(p.Total, "USD"),
			Reference: p.Reference}))
		if o = e.reload(o); o.State != trade.InProduction || e.balance(trade.SandboxAccount("USD")) != 0 {
			t.Fatalf("after the card capture: state %s", o.State)
		}
		e.checkLedger()
	})
}
