package escrow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// payoutBank is a payout rail as the tests see it: a bank with a memory of its answers (the
// sandbox rail's table, so the same reference gets the same answer) behind a wire that can fail.
// down answers that many calls with an error (an outage); crashAfter is called once after the
// bank has answered, before the worker records it (the worker's process dies). calls counts the
// calls per reference.
type payoutBank struct {
	mu         sync.Mutex
	memory     *escrow.SandboxPayoutRail
	down       int
	crashAfter func()
	calls      map[string]int
}

func (b *payoutBank) Name() string { return "testbank" }

func (b *payoutBank) Send(ctx context.Context, in escrow.PayoutInstruction) (trade.PayoutResult, error) {
	b.mu.Lock()
	b.calls[in.Reference]++
	if b.down > 0 {
		b.down--
		b.mu.Unlock()
		return trade.PayoutResult{}, errors.New("bank unavailable: 503")
	}
	crash := b.crashAfter
	b.crashAfter = nil
	b.mu.Unlock()
	r, err := b.memory.Send(ctx, in)
	if crash != nil {
		crash()
	}
	return r, err
}

func (b *payoutBank) callsOf(ref string) int { b.mu.Lock(); defer b.mu.Unlock(); return b.calls[ref] }

// sandboxOff restarts the service over the same database with the sandbox off (a real server)
// and rail as its payout rail; nil: none, as shipped, so an operator records the bank's answers.
func (e *env) sandboxOff(rail escrow.PayoutRail) {
	e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Blobs: e.blobs,
		Payouts: escrow.PayoutOptions{Rail: rail}})
}

// withPayoutBank restarts the service with the sandbox off and a payoutBank as its rail.
func (e *env) withPayoutBank() *payoutBank {
	b := &payoutBank{memory: escrow.NewSandboxPayoutRail(e.db, e.clock), calls: map[string]int{}}
	e.sandboxOff(b)
	return b
}

// requested releases an order with the sandbox on, then, on a real server (rail as its payout
// rail), has an admin pay the supplier out: the payout waits as requested.
func (e *env) requested(rail escrow.PayoutRail) trade.Payout {
	e.t.Helper()
	e.released()
	e.sandboxOff(rail)
	p := must(e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "USD"))
	if p.Status != trade.PayoutRequested || p.Sandbox || p.Sent != 10_000_00 {
		e.t.Fatalf("requested payout %+v", p)
	}
	return p
}

func confirmation(p trade.Payout, ref string, at time.Time) trade.PayoutResult {
	return trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(p.Sent, p.Currency), BankReference: ref, ValueDate: at}
}

func bankReturn(p trade.Payout, at time.Time) trade.PayoutResult {
	return trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: money.New(p.Sent, p.Currency), ValueDate: at,
		Reason: "AC01 incorrect account number"}
}

var (
	wireTransit  = trade.InTransitAccount(string(payment.TTWire), "USD")
	wireClearing = trade.RailAccount(payment.TTWire, "USD")
)

// TestPayoutSandboxOffWaitsForOperator ensures that on a real server, with no payout adapter,
// a payout waits as requested — its money in the T/T rail's in-transit account, nothing in the
// rail's clearing account — and no worker answers it; an admin records the bank's confirmation:
// a wrong amount or currency is refused, the confirmation moves the money to the rail's clearing
// account once, and the same confirmation again (another key) changes nothing while a different
// one is refused. The ledger check holds at each step. R12
func TestPayoutSandboxOffWaitsForOperator(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		clearingBefore := e.balance(wireClearing)
		p := e.requested(nil)
		if e.balance(wireTransit) != p.Sent || e.balance(wireClearing) != clearingBefore || e.payable() != 0 {
			t.Fatalf("requested: in transit %d, clearing %d", e.balance(wireTransit), e.balance(wireClearing))
		}
		e.clock.Advance(24 * time.Hour)
		if n := must(e.svc.RunPayoutSends(e.ctx, "w1")); n != 0 {
			t.Fatalf("a worker with no payout rail claimed %d payouts", n)
		}
		if got := must(e.svc.Payout(e.ctx, e.admin, p.ID)); got.Status != trade.PayoutRequested || got.Attempts != 0 {
			t.Fatalf("after a day without an adapter: %+v", got)
		}
		e.checkLedger()

		for _, a := range []trade.Actor{e.buyer, e.supplier, e.inspect, e.arbiter} {
			if _, err := e.svc.RecordPayoutResult(e.ctx, a, e.key(), p.ID, confirmation(p, "FT1", e.clock.Now())); fault.CodeOf(err) != fault.Forbidden {
				t.Errorf("%s recorded a confirmation: %v", a.Role, err)
			}
		}
		wrong := confirmation(p, "FT26063ABC", e.clock.Now())
		wrong.Amount = money.New(p.Sent-1, "USD")
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, wrong); fault.ReasonOf(err) != "payout_amount_mismatch" ||
			fault.CodeOf(err) != fault.Invalid {
			t.Fatalf("a confirmation of another amount: %v", err)
		}
		wrong.Amount = money.New(p.Sent, "EUR")
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, wrong); fault.ReasonOf(err) != "payout_amount_mismatch" {
			t.Fatalf("a confirmation in another currency: %v", err)
		}
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), "po_none", confirmation(p, "FT1", e.clock.Now())); fault.ReasonOf(err) != "payout_not_found" {
			t.Fatalf("confirming no payout: %v", err)
		}
		if e.balance(wireTransit) != p.Sent {
			t.Fatal("a refused confirmation moved money")
		}

		ok := confirmation(p, "FT26063ABC", e.clock.Now())
		sent := must(e.svc.RecordPayoutResult(e.ctx, e.admin, "confirm-1", p.ID, ok))
		if sent.Status != trade.PayoutSent || sent.BankReference != "FT26063ABC" || sent.RecordedBy != "admin:admin" || sent.Sandbox {
			t.Fatalf("confirmed %+v", sent)
		}
		if e.balance(wireTransit) != 0 || e.balance(wireClearing) != clearingBefore-p.Sent {
			t.Fatalf("confirmed: in transit %d, clearing %d", e.balance(wireTransit), e.balance(wireClearing))
		}
		again := must(e.svc.RecordPayoutResult(e.ctx, e.admin, "confirm-2", p.ID, ok)) // a duplicate, another key
		if again.Status != trade.PayoutSent || e.balance(wireClearing) != clearingBefore-p.Sent || e.events(e.supplier.OrgID, "payout.sent") != 1 {
			t.Fatalf("a duplicate confirmation: %+v, clearing %d", again, e.balance(wireClearing))
		}
		if retry := must(e.svc.RecordPayoutResult(e.ctx, e.admin, "confirm-1", p.ID, ok)); retry.ID != sent.ID {
			t.Fatal("a retry with the same key answered differently")
		}
		other := confirmation(p, "FT-OTHER", e.clock.Now())
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, other); fault.ReasonOf(err) != "payout_recorded" {
			t.Fatalf("a different confirmation of a sent payout: %v", err)
		}
		e.checkLedger()
	})
}

// TestPayoutReturnedFlagsAccount ensures a bank's return puts the money back in the supplier's
// payable — from the in-transit account before the wire left, from the rail's clearing account
// after — and flags the supplier's account: nothing is sent to it (by an admin or by the
// automatic payout) until an admin clears the flag, which schedules the automatic payout of what
// is owed. R12 R21
func TestPayoutReturnedFlagsAccount(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		clearingBefore := e.balance(wireClearing)
		p := e.requested(nil)
		ret := must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, bankReturn(p, e.clock.Now())))
		if ret.Status != trade.PayoutReturned || ret.ReturnReason == "" || e.payable() != p.Sent || e.balance(wireTransit) != 0 ||
			e.balance(wireClearing) != clearingBefore {
			t.Fatalf("returned before it left: %+v, payable %d, in transit %d", ret, e.payable(), e.balance(wireTransit))
		}
		f := must(e.svc.OpenPayoutFlag(e.ctx, e.supplier, ""))
		if f == nil || f.PayoutID != p.ID || f.Reason != "AC01 incorrect account number" {
			t.Fatalf("flag %+v", f)
		}
		if bs := must(e.svc.PayoutBalances(e.ctx, e.admin, e.supplier.OrgID)); !bs[0].Flagged || bs[0].ToSend() != 0 {
			t.Fatalf("balance of a flagged supplier %+v", bs[0])
		}
		if again := must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, bankReturn(p, e.clock.Now()))); again.Status != trade.PayoutReturned ||
			e.payable() != p.Sent {
			t.Fatal("a duplicate return restored the payable twice")
		}
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, confirmation(p, "FT1", e.clock.Now())); fault.ReasonOf(err) != "payout_recorded" {
			t.Fatalf("confirming a returned payout: %v", err)
		}
		e.checkLedger()

		if _, err := e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "USD"); fault.ReasonOf(err) != "payout_account_flagged" {
			t.Fatalf("paying out to a flagged account: %v", err)
		}
		e.sandboxOn() // the tests' payments arrive through the sandbox rail
		e.released()  // another release schedules the automatic payout, which finds the account flagged
		e.sandboxOff(nil)
		owed := e.payable()
		e.clock.Set(e.payoutTimer().DueAt)
		e.timers()
		if ps := e.payouts(); len(ps) != 1 || e.payable() != owed {
			t.Fatalf("the automatic payout sent to a flagged account: %d payouts, payable %d", len(ps), e.payable())
		}
		for _, a := range []trade.Actor{e.buyer, e.supplier, e.arbiter} {
			if _, err := e.svc.ClearPayoutFlag(e.ctx, a, e.key(), e.supplier.OrgID); fault.CodeOf(err) != fault.Forbidden {
				t.Errorf("%s cleared the flag: %v", a.Role, err)
			}
		}
		cleared := must(e.svc.ClearPayoutFlag(e.ctx, e.admin, "clear-1", e.supplier.OrgID))
		if cleared.ClearedAt == nil || cleared.ClearedBy != "admin:admin" || must(e.svc.OpenPayoutFlag(e.ctx, e.admin, e.supplier.OrgID)) != nil {
			t.Fatalf("cleared %+v", cleared)
		}
		if _, err := e.svc.ClearPayoutFlag(e.ctx, e.admin, e.key(), e.supplier.OrgID); fault.ReasonOf(err) != "payout_account_not_flagged" {
			t.Fatalf("clearing twice: %v", err)
		}
		tm := e.payoutTimer()
		if tm == nil {
			t.Fatal("clearing the flag scheduled no automatic payout of what is owed")
		}
		e.clock.Set(tm.DueAt)
		e.timers()
		next := e.payouts()[0]
		if next.Status != trade.PayoutRequested || next.Sent != owed || e.payable() != 0 {
			t.Fatalf("after clearing: %+v", next)
		}
		// Sent, then returned days later: the money comes back through the rail.
		sent := must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), next.ID, confirmation(next, "FT9", e.clock.Now())))
		e.clock.Advance(72 * time.Hour)
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), next.ID, bankReturn(next, sent.ValueDate.Add(-24*time.Hour))); fault.ReasonOf(err) != "invalid_value_date" {
			t.Fatalf("a return dated before the wire left: %v", err)
		}
		back := must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), next.ID, bankReturn(next, e.clock.Now())))
		if back.Status != trade.PayoutReturned || e.payable() != owed || e.balance(wireClearing) != clearingBefore ||
			len(back.TransferIDs) != 3 || must(e.svc.OpenPayoutFlag(e.ctx, e.admin, e.supplier.OrgID)) == nil {
			t.Fatalf("returned after it left: %+v, payable %d, clearing %d", back, e.payable(), e.balance(wireClearing))
		}
		if e.events(e.supplier.OrgID, "payout.returned") != 2 || e.events(e.supplier.OrgID, "payout.account_cleared") != 1 {
			t.Fatal("the supplier's stream misses a return or the clearing")
		}
		e.checkLedger()
	})
}

// TestSandboxPayoutReturned ensures the sandbox payout rail returns the payouts of a supplier it
// is told to, through the worker, with a sandbox label and reason, and the account is flagged as
// for a real return. R12
func TestSandboxPayoutReturned(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		r, ok := e.svc.SandboxPayoutRail()
		if !ok {
			t.Fatal("no sandbox payout rail with the sandbox on")
		}
		must(0, r.SetReturns(e.ctx, e.supplier.OrgID, true))
		e.released()
		owed := e.payable()
		e.clock.Set(e.payoutTimer().DueAt)
		e.timers()
		p := e.payouts()[0]
		if p.Status != trade.PayoutReturned || !p.Sandbox || p.ReturnReason != escrow.SandboxReturnReason || p.RecordedBy != "rail:sandbox" ||
			e.payable() != owed || e.balance(trade.InTransitAccount(trade.SandboxRail, "USD")) != 0 {
			t.Fatalf("sandbox return: %+v, payable %d", p, e.payable())
		}
		if f := must(e.svc.OpenPayoutFlag(e.ctx, e.admin, e.supplier.OrgID)); f == nil || f.PayoutID != p.ID {
			t.Fatalf("flag %+v", f)
		}
		e.checkLedger()
		must(0, r.SetReturns(e.ctx, e.supplier.OrgID, false))
		must(e.svc.ClearPayoutFlag(e.ctx, e.admin, e.key(), e.supplier.OrgID))
		e.clock.Set(e.payoutTimer().DueAt)
		e.timers()
		if p := e.payouts()[0]; p.Status != trade.PayoutSent || !p.Sandbox || e.payable() != 0 {
			t.Fatalf("after clearing: %+v", p)
		}
		e.checkLedger()
	})
}

// TestPayoutConfirmationRace ensures two admins recording the same bank confirmation at once,
// with different keys, post exactly one transfer: one applies it, the other finds it recorded
// and gets the payout unchanged. R12
func TestPayoutConfirmationRace(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		clearingBefore := e.balance(wireClearing)
		for round := range 3 {
			var p trade.Payout
			if round == 0 {
				p = e.requested(nil)
			} else {
				e.sandboxOn()
				p = e.requested(nil)
			}
			r := confirmation(p, fmt.Sprintf("FT-RACE-%d", round), e.clock.Now())
			var wg sync.WaitGroup
			got := make([]trade.Payout, 2)
			errs := make([]error, 2)
			for i := range got {
				wg.Go(func() {
					got[i], errs[i] = e.svc.RecordPayoutResult(e.ctx, e.admin, fmt.Sprintf("race-%d-%d", round, i), p.ID, r)
				})
			}
			wg.Wait()
			for i := range got {
				if errs[i] != nil || got[i].Status != trade.PayoutSent {
					t.Fatalf("round %d admin %d: %+v %v", round, i, got[i], errs[i])
				}
			}
			if n := e.events(e.supplier.OrgID, "payout.sent"); n != round+1 {
				t.Fatalf("round %d: %d payout.sent events", round, n)
			}
			if e.balance(wireClearing) != clearingBefore-int64(round+1)*p.Sent || e.balance(wireTransit) != 0 {
				t.Fatalf("round %d: clearing %d, in transit %d", round, e.balance(wireClearing), e.balance(wireTransit))
			}
			e.checkLedger()
		}
	})
}

// sandboxOn restarts the service with the sandbox on, as the tests start.
func (e *env) sandboxOn() {
	e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Hour}, Blobs: e.blobs})
}

// TestPayoutCrashAfterRailAnswered ensures a payout rail worker that dies after the rail
// answered but before the answer was recorded sends the payout once: its lease holds the payout
// until it lapses, an admin meanwhile is told the worker is on it, then another worker asks again
// with the same reference, the rail gives the same answer, and the confirmation is recorded once.
// R12 R21
func TestPayoutCrashAfterRailAnswered(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		b := e.withPayoutBank()
		p := must(e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "USD"))
		ctx, die := context.WithCancel(e.ctx)
		b.crashAfter = die // the process dies between the rail's answer and its record
		if _, err := e.svc.RunPayoutSends(ctx, "doomed"); err != nil {
			t.Fatalf("a dying worker: %v", err)
		}
		if got := must(e.svc.Payout(e.ctx, e.admin, p.ID)); got.Status != trade.PayoutRequested || e.balance(wireTransit) != p.Sent {
			t.Fatalf("after the crash: %+v", got)
		}
		if _, err := e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, confirmation(p, "FT1", e.clock.Now())); fault.ReasonOf(err) != "payout_in_progress" {
			t.Fatalf("an admin recording while the dead worker's lease runs: %v", err)
		}
		if n := must(e.svc.RunPayoutSends(e.ctx, "rail-2")); n != 0 {
			t.Fatal("another worker took the payout while the dead worker's lease ran")
		}
		e.clock.Advance(escrow.PayoutSendLease + time.Second)
		if n := must(e.svc.RunPayoutSends(e.ctx, "rail-2")); n != 1 {
			t.Fatalf("after the lease lapsed the worker claimed %d", n)
		}
		got := must(e.svc.Payout(e.ctx, e.admin, p.ID))
		if got.Status != trade.PayoutSent || got.RecordedBy != "rail:testbank" || got.Sandbox || b.callsOf(p.ID) != 2 || got.Attempts != 2 {
			t.Fatalf("after asking again: %+v, calls %d", got, b.callsOf(p.ID))
		}
		if e.events(e.supplier.OrgID, "payout.sent") != 1 || e.balance(wireTransit) != 0 {
			t.Fatal("the confirmation was recorded more than once")
		}
		if err := e.db.Read(e.ctx, func(r escrow.Reader) error {
			evs, err := r.Events(e.ctx, e.supplier.OrgID)
			for _, ev := range evs {
				if ev.Type == "payout.sent" && strings.Contains(string(ev.Payload), "attempts") {
					t.Errorf("the supplier's event shows the outbox: %s", ev.Payload)
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e.checkLedger()
	})
}

// TestPayoutRailOutage ensures a payout rail that does not answer is asked again with backoff,
// then, after PayoutSendAttemptsMax attempts, the payout waits for an operator — published once
// as payout.attention — who records the bank's answer; a worker never invents one. R12
func TestPayoutRailOutage(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		b := e.withPayoutBank()
		b.down = 1_000
		p := must(e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "USD"))
		for i := 1; i <= escrow.PayoutSendAttemptsMax; i++ {
			if n := must(e.svc.RunPayoutSends(e.ctx, "w1")); n != 1 {
				t.Fatalf("attempt %d: claimed %d", i, n)
			}
			got := must(e.svc.Payout(e.ctx, e.admin, p.ID))
			if got.Status != trade.PayoutRequested || got.Attempts != i || got.LastError == "" || got.Attention != (i == escrow.PayoutSendAttemptsMax) {
				t.Fatalf("attempt %d: %+v", i, got)
			}
			if n := must(e.svc.RunPayoutSends(e.ctx, "w1")); n != 0 {
				t.Fatalf("attempt %d: asked again before the backoff", i)
			}
			e.clock.Advance(escrow.PayoutSendBackoff(i))
		}
		e.clock.Advance(24 * time.Hour)
		if n := must(e.svc.RunPayoutSends(e.ctx, "w1")); n != 0 || b.callsOf(p.ID) != escrow.PayoutSendAttemptsMax {
			t.Fatalf("a payout waiting for an operator was asked again: claimed %d, calls %d", n, b.callsOf(p.ID))
		}
		if ps := must(e.svc.Payouts(e.ctx, e.admin, escrow.PayoutFilter{Attention: true})); len(ps) != 1 || ps[0].ID != p.ID {
			t.Fatalf("payouts waiting for an operator: %+v", ps)
		}
		if n := e.events(e.supplier.OrgID, "payout.attention"); n != 1 { // for the notifier: the admins are told
			t.Fatalf("%d payout.attention events", n)
		}
		sent := must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, confirmation(p, "FT77", e.clock.Now())))
		if sent.Status != trade.PayoutSent || sent.Attention || sent.LastError != "" {
			t.Fatalf("recorded by hand: %+v", sent)
		}
		e.checkLedger()
	})
}

// TestLedgerCheckPayoutLifecycle ensures the ledger check catches money moved into a rail's
// in-transit account without a requested payout, and a payout whose transfers disagree with its
// state; and accepts a payout booked before payouts had a lifecycle, sent at once. R12
func TestLedgerCheckPayoutLifecycle(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		pay := trade.PayableAccount(e.supplier.OrgID, "USD")
		post := func(id, code string, from, to ledger.Account, amount int64) {
			t.Helper()
			err := e.db.Write(e.ctx, func(tx escrow.Tx) error {
				tr, err := ledger.NewTransfer(id, code, "USD", "", e.clock.Now()).Post(from, to, amount).Build()
				if err != nil {
					return err
				}
				return tx.PostTransfer(e.ctx, tr)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// A payout booked before migration 00017: one transfer straight to the rail, status sent.
		legacy := trade.Payout{ID: "po_legacy", SupplierID: e.supplier.OrgID, Currency: "USD", PayableBefore: 100_00, Sent: 100_00,
			Method: payment.TTWire, Reference: trade.PayoutReference("po_legacy"), Status: trade.PayoutSent, Trigger: trade.PayoutByAdmin,
			CreatedAt: e.clock.Now(), TransferIDs: []string{"tr_po_legacy_send"}}
		post("tr_po_legacy_send", trade.CodePayoutSent, pay, wireClearing, 100_00)
		if err := e.db.Write(e.ctx, func(tx escrow.Tx) error { return tx.(escrow.PayoutTx).InsertPayout(e.ctx, legacy) }); err != nil {
			t.Fatal(err)
		}
		e.checkLedger()

		post("tr_rogue", trade.CodePayoutRequested, pay, wireTransit, 50_00)
		rules := map[string]bool{}
		for _, v := range must(e.svc.CheckLedger(e.ctx)).Violations {
			rules[v.Rule] = true
		}
		if !rules["payout_ledger_mismatch"] || !rules["payout_in_transit_mismatch"] {
			t.Fatalf("violations %v, want payout_ledger_mismatch and payout_in_transit_mismatch", rules)
		}
	})
}
