package trade_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// payoutBook is one supplier's books as the payout fuzzer keeps them: the balances, the payouts
// and whether its account is flagged, driven only by the pure decisions.
type payoutBook struct {
	t        *testing.T
	now      time.Time
	sandbox  bool
	balances ledger.Balances
	payouts  []trade.Payout
	flagged  bool
	n        int
}

// fuzzSource is where the fuzzer's releases come from.
var fuzzSource = trade.ClearingAccount("card", "USD")

const (
	fuzzSupplier    = "sup_f"
	payoutStepsMax  = 64
	payoutStepBytes = 2
)

func (b *payoutBook) natural(a ledger.Account) int64 {
	return ledger.Natural(a.Kind, b.balances[a.ID()])
}

// post applies transfers to the balances, checking each balances and leaves no account that
// must not go negative below zero.
func (b *payoutBook) post(ts []ledger.Transfer) {
	b.t.Helper()
	for _, tr := range ts {
		if err := tr.Validate(); err != nil {
			b.t.Fatalf("transfer: %v", err)
		}
		for _, e := range tr.Entries {
			b.balances[e.Account.ID()] += e.Amount
			if !e.Account.Kind.MayGoNegative() && b.natural(e.Account) < 0 {
				b.t.Fatalf("%s went negative after %s", e.Account, tr.ID)
			}
		}
	}
}

// step applies one operation chosen by op to the book, with amount as its size.
func (b *payoutBook) step(op, amount byte) {
	b.t.Helper()
	c := money.Currency("USD")
	pay, rec := trade.PayableAccount(fuzzSupplier, c), trade.ReceivableAccount(fuzzSupplier, c)
	b.now = b.now.Add(time.Hour)
	switch op % 6 {
	case 0: // a release credits the payable (from a rail: escrow's own books are not the point here)
		b.post([]ledger.Transfer{mustBuild(b.t, ledger.NewTransfer(b.id("rel"), "release", c, "", b.now).
			Post(fuzzSource, pay, int64(amount)*100+1))})
	case 1: // a guaranteed refund makes a debt
		b.post([]ledger.Transfer{mustBuild(b.t, ledger.NewTransfer(b.id("debt"), "supplier_debt", c, "", b.now).
			Post(rec, trade.FundAccount(c), int64(amount)*50+1))})
	case 2: // a payout
		p, ts, err := trade.PlanPayout(trade.PayoutPlan{ID: b.id("po"), SupplierID: fuzzSupplier, Currency: c, Payable: b.natural(pay),
			Receivable: b.natural(rec), Trigger: trade.PayoutAutomatic, Sandbox: b.sandbox, Flagged: b.flagged, Now: b.now})
		if err != nil {
			return // refused: nothing to pay, or the account is flagged
		}
		if b.flagged && p.Sent > 0 {
			b.t.Fatalf("sent %d to a flagged account", p.Sent)
		}
		b.post(ts)
		b.payouts = append(b.payouts, p)
	case 3, 4: // the rail (or an admin) answers a payout: sent, or returned
		if len(b.payouts) == 0 {
			return
		}
		i := int(amount) % len(b.payouts)
		p := b.payouts[i]
		r := trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(p.Sent, c), BankReference: "FT" + p.ID, ValueDate: b.now}
		if op%6 == 4 {
			r = trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: money.New(p.Sent, c), ValueDate: b.now, Reason: "AC04"}
		}
		if amount%7 == 0 {
			r.Amount.Minor++ // a wrong amount: always refused
		}
		np, ts, changed, err := trade.ApplyPayoutResult(p, r, trade.System, b.now)
		if err != nil {
			if r.Amount.Minor == p.Sent && p.Status == trade.PayoutRequested {
				b.t.Fatalf("a requested payout refused %s: %v", r.Outcome, err)
			}
			return
		}
		if r.Amount.Minor != p.Sent {
			b.t.Fatalf("an answer of %d recorded for a payout of %d", r.Amount.Minor, p.Sent)
		}
		if changed {
			b.post(ts)
			b.payouts[i] = np
			if np.Status == trade.PayoutReturned {
				b.flagged = true
			}
		}
	case 5: // an admin clears the flag
		b.flagged = false
	}
}

func (b *payoutBook) id(prefix string) string { b.n++; return fmt.Sprintf("%s_%d", prefix, b.n) }

func mustBuild(t *testing.T, bl *ledger.Builder) ledger.Transfer {
	t.Helper()
	tr, err := bl.Build()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// check verifies the payout invariants the ledger check holds a database to: the in-transit
// balance is what requested payouts send, the rail's clearing account has paid out exactly what
// sent payouts sent, and the payable is what was released less what payouts took and did not
// give back.
func (b *payoutBook) check() {
	b.t.Helper()
	rail := "tt_wire"
	if b.sandbox {
		rail = trade.SandboxRail
	}
	c := money.Currency("USD")
	var requested, sent, kept int64
	for _, p := range b.payouts {
		switch p.Status {
		case trade.PayoutRequested:
			requested += p.Sent
		case trade.PayoutSent:
			sent += p.Sent
		case trade.PayoutReturned, trade.PayoutNetted:
		default:
			b.t.Fatalf("payout %s is %s", p.ID, p.Status)
		}
		kept += p.PayableBefore
		if p.Status == trade.PayoutReturned {
			kept -= p.Sent
		}
	}
	if got := b.natural(trade.InTransitAccount(rail, c)); got != requested {
		b.t.Fatalf("in transit %d, requested payouts send %d", got, requested)
	}
	if got := b.natural(trade.ClearingAccount(rail, c)); got != -sent {
		b.t.Fatalf("the rail's clearing account is %d, sent payouts sent %d", got, sent)
	}
	released := b.natural(fuzzSource)
	if got := b.natural(trade.PayableAccount(fuzzSupplier, c)); got != released-kept {
		b.t.Fatalf("payable %d, released %d less kept by payouts %d", got, released, kept)
	}
	var sum int64
	for _, v := range b.balances {
		sum += v
	}
	if sum != 0 {
		b.t.Fatalf("the balances sum to %d", sum)
	}
}

// payoutVOPR runs the operations data encodes (its first byte picks the sandbox) and checks the
// invariants after each.
func payoutVOPR(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	b := &payoutBook{t: t, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), sandbox: data[0]&1 == 1, balances: ledger.Balances{}}
	for i := 1; i+1 < len(data) && i < 1+payoutStepsMax*payoutStepBytes; i += payoutStepBytes {
		b.step(data[i], data[i+1])
		b.check()
	}
}

// FuzzPayoutLifecycle checks the payout money invariants over sequences of releases, debts,
// payouts, answers (right and wrong), returns and cleared flags the fuzzer invents: nothing
// reaches the rail's clearing account unless confirmed, in-transit money is exactly the
// requested payouts, a return restores the payable, a flagged account is sent nothing, and every
// transfer balances. R12 R14
func FuzzPayoutLifecycle(f *testing.F) {
	f.Add([]byte{0, 0, 40, 2, 0, 3, 0})                           // release, pay out, sent
	f.Add([]byte{1, 0, 40, 2, 0, 4, 0, 2, 0, 5, 0, 2, 0, 3, 1})   // sandbox: returned, flagged, cleared, sent
	f.Add([]byte{0, 0, 10, 1, 90, 2, 0, 0, 30, 2, 0, 3, 1, 4, 1}) // debt netted first, sent then returned
	f.Fuzz(func(t *testing.T, data []byte) { payoutVOPR(t, data) })
}

// TestPayoutLifecycleRandom runs the payout fuzzer over 1,000 pseudo-random sequences from a
// fixed seed, so every go test run checks the invariants. R12 R14
func TestPayoutLifecycleRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 16))
	for i := range 1000 {
		data := make([]byte, 1+payoutStepBytes*(4+rng.IntN(payoutStepsMax-4)))
		for j := range data {
			data[j] = byte(rng.UintN(6 * 40))
		}
		if !t.Run(fmt.Sprint(i), func(t *testing.T) { payoutVOPR(t, data) }) {
			t.Fatalf("sequence %x fails: add it to FuzzPayoutLifecycle's corpus", data)
		}
	}
}
