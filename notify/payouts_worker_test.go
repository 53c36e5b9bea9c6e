package notify_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// payoutKinds are the kinds of notification about supplier payouts.
var payoutKinds = []notify.Kind{notify.PayoutReturned, notify.PayoutToRecord, notify.PayoutAttention}

// expectPayouts checks "who:kind" of every notification of payoutKinds, of every person of e.
func (e *env) expectPayouts(want ...string) {
	e.t.Helper()
	var got []string
	for who, a := range e.actors {
		for _, n := range must(e.notes.List(e.ctx, notify.UserScope(a.UserID), "", notify.AnyState, 0, notify.PageSizeMax)) {
			if slices.Contains(payoutKinds, n.Kind) {
				got = append(got, who+":"+string(n.Kind))
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Fatalf("payout notifications:\n got %q\nwant %q", got, want)
	}
}

// otherSupplier adds a supplier of another organization, with a user, who must never hear of
// the first supplier's payouts.
func (e *env) otherSupplier() {
	e.t.Helper()
	s := must(e.svc.CreateOrg(e.ctx, e.admin, e.key(), trade.KindSupplier, "Hanoi Knitwear JSC", "VN"))
	u := must(e.acc.CreateUser(e.ctx, trade.System, s.ID, "other_supplier@people.test", "Test other_supplier", trade.RoleSupplier,
		"correct horse battery"))
	e.actors["other_supplier"] = trade.Actor{Role: trade.RoleSupplier, OrgID: s.ID, UserID: u.ID}
}

// released drives an order to shipment and lets the release timer fire: the money is owed to
// the supplier, and its automatic payout is scheduled.
func (e *env) released() {
	e.t.Helper()
	o := e.inProduction()
	o = e.do("inspector", o, trade.SubmitReport{Report: trade.Report{Passed: true, SampleSize: 80,
		Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "201 g/m²", Pass: true}}}})
	o = e.do("buyer", o, trade.Pay{Installment: trade.Balance, Method: payment.TTWire})
	o = e.deliver(o)
	o = e.do("supplier", o, trade.Ship{ShippedOn: trade.Day(e.clock.Now()), Carrier: "COSCO", Tracking: "X1"})
	e.payoutWorkers()
	if o = must(e.svc.Order(e.ctx, e.admin, o.ID)); o.State != trade.Released {
		e.t.Fatalf("the order is %s, want released", o.State)
	}
}

// payoutWorkers runs the escrow timers and the payout rail's worker until nothing is due, then
// the notifier.
func (e *env) payoutWorkers() {
	e.t.Helper()
	for range 50 {
		if must(e.svc.RunTimers(e.ctx, "t1"))+must(e.svc.RunPayoutSends(e.ctx, "p1")) == 0 {
			e.run(e.notes, "w1")
			return
		}
	}
	e.t.Fatal("the workers do not settle")
}

// nextAutomaticPayout moves the clock to the supplier's automatic payout and runs the workers;
// it returns the payout requested.
func (e *env) nextAutomaticPayout() trade.Payout {
	e.t.Helper()
	e.clock.Set(trade.NextPayoutAt(e.clock.Now(), escrow.PayoutDelay))
	e.payoutWorkers()
	ps := must(e.svc.Payouts(e.ctx, e.admin, escrow.PayoutFilter{SupplierID: e.actors["supplier"].OrgID, Limit: 1}))
	if len(ps) != 1 || !ps[0].CreatedAt.Equal(e.clock.Now()) {
		e.t.Fatalf("no automatic payout: %+v", ps)
	}
	return ps[0]
}

// eventTypes lists the types of every event in org's audience (its events feed and webhooks).
func (e *env) eventTypes(org string) []string {
	e.t.Helper()
	var out []string
	for after := int64(0); ; {
		evs := must(e.db.Webhooks().OrgEvents(e.ctx, org, after, escrow.PageSizeMax))
		if len(evs) == 0 {
			return out
		}
		for _, ev := range evs {
			out, after = append(out, ev.Type), ev.GlobalSeq
		}
	}
}

// payoutEmailsOnlyTo fails unless every email about a payout went to one of to.
func (e *env) payoutEmailsOnlyTo(to ...string) {
	e.t.Helper()
	for _, m := range e.sink.messages() {
		if strings.Contains(strings.ToLower(m.Subject), "payout") && !slices.Contains(to, m.To) {
			e.t.Fatalf("%q to %s", m.Subject, m.To)
		}
	}
}

// TestPayoutsNotifyThePeopleWhoMustAct follows a supplier's payouts on a platform with no payout
// adapter: the automatic payout asks the admins to record the bank's answer, once, even after a
// restart; the bank's return asks the supplier to correct its bank details and the admins to
// clear the flag; after the flag is cleared, the next payout answered before the notifier saw it
// asks nothing, and its being sent tells no one. No one else hears of it: not the buyer, the
// inspection company, the arbiter, another buyer nor another supplier. Every email links to the
// page where the reader acts. R12
func TestPayoutsNotifyThePeopleWhoMustAct(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.otherSupplier()
		sup := e.actors["supplier"].OrgID
		e.released()
		e.expectPayouts()
		p := e.nextAutomaticPayout()
		if p.Status != trade.PayoutRequested || p.Sandbox {
			t.Fatalf("the automatic payout %+v", p)
		}
		e.expectPayouts("admin:payout_to_record")
		e.run(e.notifier(), "w2") // a restarted notifier
		e.expectPayouts("admin:payout_to_record")
		if m := find2(e.sink.messages(), "admin@people.test", "Record the bank's answer to payout "+notify.ShortRef(p.ID)); len(m) != 1 ||
			!strings.Contains(m[0].Body, "POST /v1/payouts/"+p.ID+"/result") || !strings.Contains(m[0].Body, p.Reference) ||
			!strings.Contains(m[0].Body, "Open it on the Operations page: "+baseURL+"/admin/operations#payouts") {
			t.Fatalf("payout to record email: %+v", m)
		}

		// The bank returns it: the supplier corrects its bank details, the admins clear the flag.
		amount := money.New(p.Sent, p.Currency)
		must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, trade.PayoutResult{Outcome: trade.OutcomeReturned,
			Amount: amount, ValueDate: e.clock.Now(), Reason: "AC01 incorrect account number"}))
		e.payoutWorkers()
		base := []string{"admin:payout_to_record", "admin:payout_returned", "supplier:payout_returned"}
		e.expectPayouts(base...)
		if m := find2(e.sink.messages(), "supplier@people.test", "Payout of "+amount.Display()+" returned by the bank"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "AC01 incorrect account number") || !strings.Contains(m[0].Body, "correct bank details") ||
			!strings.Contains(m[0].Body, "Open your payouts: "+baseURL+"/payouts") {
			t.Fatalf("the supplier's return email: %+v", m)
		}
		if m := find2(e.sink.messages(), "admin@people.test", "Payout "+notify.ShortRef(p.ID)+" to Ningbo Sunrise Garments Co. returned"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "POST /v1/payouts/flags/"+sup+"/clear") || !strings.Contains(m[0].Body, baseURL+"/admin/operations#flags") {
			t.Fatalf("the admins' return email: %+v", m)
		}

		// The flag cleared, the next automatic payout is answered before the notifier sees it: its
		// request asks nothing any more, and its being sent tells no one.
		must(e.svc.ClearPayoutFlag(e.ctx, e.admin, e.key(), sup))
		e.clock.Set(trade.NextPayoutAt(e.clock.Now(), escrow.PayoutDelay))
		must(e.svc.RunTimers(e.ctx, "t1"))
		again := must(e.svc.Payouts(e.ctx, e.admin, escrow.PayoutFilter{SupplierID: sup, Status: trade.PayoutRequested}))
		if len(again) != 1 || again[0].Sent != p.Sent {
			t.Fatalf("the payout after the flag was cleared: %+v", again)
		}
		must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), again[0].ID, trade.PayoutResult{Outcome: trade.OutcomeSent,
			Amount: amount, BankReference: "FT26063ABC", ValueDate: e.clock.Now()}))
		e.payoutWorkers()
		e.expectPayouts(base...)

		// No one else was told anything of it, by notification or email.
		for _, who := range []string{"other_supplier", "other", "inspector", "arbiter", "buyer", "buyer_b"} {
			for _, n := range must(e.notes.List(e.ctx, notify.UserScope(e.actors[who].UserID), "", notify.AnyState, 0, notify.PageSizeMax)) {
				if who == "other_supplier" || who == "other" || strings.Contains(strings.ToLower(n.Title+n.Body), "payout") {
					t.Errorf("%s told %s: %q", who, n.Kind, n.Title)
				}
			}
		}
		e.payoutEmailsOnlyTo("supplier@people.test", "admin@people.test")
	})
}

// payoutRail is a payout rail for the tests: it never answers, or answers for another amount.
type payoutRail struct{ misfit bool }

func (payoutRail) Name() string { return "testbank" }

func (r payoutRail) Send(_ context.Context, in escrow.PayoutInstruction) (trade.PayoutResult, error) {
	if !r.misfit {
		return trade.PayoutResult{}, errors.New("bank unavailable: 503")
	}
	return trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(in.Amount.Minor-1, in.Amount.Currency),
		BankReference: "FT1", ValueDate: in.At}, nil
}

// TestPayoutAttentionTellsAdmins: with a payout adapter, the admins are not asked to record
// payouts; a payout the rail never answers (after PayoutSendAttemptsMax attempts) or answers for
// another amount waits for an operator, and the admins are told once, with how to record the
// bank's answer. The supplier is not told, and its events feed does not show it: the send
// outbox's workings are the platform's. R12
func TestPayoutAttentionTellsAdmins(t *testing.T) {
	for name, c := range map[string]struct {
		rail     payoutRail
		attempts int
		says     string
	}{
		"no answer":                   {payoutRail{}, escrow.PayoutSendAttemptsMax, "bank unavailable: 503"},
		"an answer that does not fit": {payoutRail{misfit: true}, 1, "the rail's answer does not fit"},
	} {
		t.Run(name, func(t *testing.T) {
			databases(t, func(t *testing.T, e *env) {
				e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Accounts: railtest.Accounts(),
					Payouts: escrow.PayoutOptions{Rail: c.rail}})
				e.notes = e.notifier()
				e.otherSupplier()
				sup := e.actors["supplier"].OrgID
				e.released()
				p := must(e.svc.PayOut(e.ctx, e.admin, e.key(), sup, "USD"))
				for range escrow.PayoutSendAttemptsMax {
					e.payoutWorkers()
					e.clock.Advance(escrow.PayoutSendBackoffMax)
				}
				got := must(e.svc.Payout(e.ctx, e.admin, p.ID))
				if !got.Attention || got.Attempts != c.attempts || got.Status != trade.PayoutRequested {
					t.Fatalf("the payout after the rail's answers: %+v", got)
				}
				e.expectPayouts("admin:payout_attention") // and no payout to record: an adapter runs
				if m := find2(e.sink.messages(), "admin@people.test", "Payout "+notify.ShortRef(p.ID)+" needs an operator"); len(m) != 1 ||
					!strings.Contains(m[0].Body, c.says) || !strings.Contains(m[0].Body, "POST /v1/payouts/"+p.ID+"/result") ||
					!strings.Contains(m[0].Body, baseURL+"/admin/operations#payouts") {
					t.Fatalf("attention email: %+v", m)
				}
				if n := strings.Count(strings.Join(e.eventTypes(ledger.Platform), ","), "payout.attention"); n != 1 {
					t.Fatalf("the platform sees %d payout.attention events", n)
				}
				if slices.Contains(e.eventTypes(sup), "payout.attention") {
					t.Fatal("the supplier's feed shows payout.attention")
				}

				// The admin records the bank's answer: nothing more for anyone.
				must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, trade.PayoutResult{Outcome: trade.OutcomeSent,
					Amount: money.New(p.Sent, p.Currency), BankReference: "FT26063ABC", ValueDate: e.clock.Now()}))
				e.payoutWorkers()
				e.run(e.notifier(), "w2")
				e.expectPayouts("admin:payout_attention")
				e.payoutEmailsOnlyTo("admin@people.test")
			})
		})
	}
}
