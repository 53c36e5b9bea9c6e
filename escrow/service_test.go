package escrow_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is one service on one database, with the organizations the tests share.
type env struct {
	t        *testing.T
	ctx      context.Context
	url      string
	db       *store.DB
	svc      *escrow.Service
	clock    *escrow.ManualClock
	blobs    *blob.Dir
	n        int
	admin    trade.Actor
	arbiter  trade.Actor
	buyer    trade.Actor
	supplier trade.Actor
	inspect  trade.Actor
}

// databases runs f once on SQLite and once on PostgreSQL: the same test, both databases.
func databases(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		f(t, newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, newEnv(t, pgtest.NewDatabase(t)))
	})
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), url: url, clock: escrow.NewManualClock(t0)}
	e.blobs = must(blob.OpenDir(filepath.Join(t.TempDir(), "blobs"), blob.DefaultPolicy()))
	t.Cleanup(func() { e.blobs.Close() })
	e.open()
	e.admin = trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin"}
	e.arbiter = trade.Actor{Role: trade.RoleArbiter, OrgID: ledger.Platform, UserID: "arbiter"}
	b := e.org(trade.KindBuyer, "Buyer Co", "US")
	s := e.org(trade.KindSupplier, "Supplier Co", "CN")
	i := e.org(trade.KindInspector, "QC Co", "HK")
	e.buyer = trade.Actor{Role: trade.RoleBuyer, OrgID: b.ID, UserID: "b"}
	e.supplier = trade.Actor{Role: trade.RoleSupplier, OrgID: s.ID, UserID: "s"}
	e.inspect = trade.Actor{Role: trade.RoleInspector, OrgID: i.ID, UserID: "i"}
	must(e.svc.SetEligibility(e.ctx, e.admin, e.key(), s.ID, true, "Gold Supplier"))
	must(e.svc.SetCoverageLimit(e.ctx, e.admin, e.key(), s.ID, money.New(20_000_00, "USD")))
	must(e.svc.FundGuarantee(e.ctx, e.admin, e.key(), money.New(100_000_00, "USD")))
	return e
}

// open (re)opens the store and the service: calling it again is a process restart.
func (e *env) open() {
	e.t.Helper()
	db, err := store.Open(e.ctx, e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	e.svc = escrow.New(db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Hour}, Blobs: e.blobs})
}

func (e *env) key() string { e.n++; return fmt.Sprintf("k%d", e.n) }

func (e *env) org(kind trade.OrgKind, name, country string) trade.Org {
	return must(e.svc.CreateOrg(e.ctx, e.admin, e.key(), kind, name, country))
}

// must returns v, or stops the test with err. It panics rather than calling t.Fatal so that it
// can wrap a call that returns two values; the testing package reports the panic as a failure.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (e *env) do(a trade.Actor, o *trade.Order, cmd trade.Command) *trade.Order {
	e.t.Helper()
	return must(e.svc.Do(e.ctx, a, e.key(), o.ID, cmd))
}

// timers fires everything due, as many rounds as it takes, with the Pay Later bank and lender
// workers' rounds between (the debits and disbursements the timers request, R11) and the payout
// rail's (the payouts they request); it returns how many timers fired.
func (e *env) timers() int {
	e.t.Helper()
	total := 0
	for {
		n := must(e.svc.RunTimers(e.ctx, "w1"))
		d := must(e.svc.RunBankDebits(e.ctx, "w1"))
		l := must(e.svc.RunLenderRequests(e.ctx, "w1"))
		p := must(e.svc.RunPayoutSends(e.ctx, "w1"))
		if n == 0 && d == 0 && l == 0 && p == 0 {
			return total
		}
		total += n
	}
}

func (e *env) reload(o *trade.Order) *trade.Order {
	return must(e.svc.Order(e.ctx, e.admin, o.ID))
}

func contract(now time.Time, unitPrice int64) trade.Contract {
	return trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: trade.Day(now).AddDate(0, 0, 30),
		Terms:     trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{{Description: "Hoodie", Quantity: 1000, Unit: "pcs", UnitPrice: unitPrice}},
		Quality:   []trade.Requirement{{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%"}}}
}

// confirmed places an order with a booked inspection and a confirmed contract.
func (e *env) confirmed(unitPrice int64) *trade.Order {
	e.t.Helper()
	c := contract(e.clock.Now(), unitPrice)
	o := must(e.svc.Place(e.ctx, e.buyer, e.key(), trade.Place{SupplierID: e.supplier.OrgID, Currency: "USD",
		ShipBy: c.ShipBy, ComplianceConfirmed: true}))
	o = e.do(e.buyer, o, trade.BookInspection{InspectorID: e.inspect.OrgID})
	o = e.do(e.supplier, o, trade.ProposeContract{Contract: c})
	return e.do(e.buyer, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
}

// shipped drives an order to shipped: paid in full, inspection passed.
func (e *env) shipped() *trade.Order {
	e.t.Helper()
	o := e.confirmed(10_00)
	o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
	e.clock.Advance(2 * time.Hour)
	e.timers()
	o = e.do(e.inspect, e.reload(o), trade.SubmitReport{Report: trade.Report{Passed: true, SampleSize: 80,
		Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "201 g/m²", Pass: true}}}})
	o = e.do(e.buyer, o, trade.Pay{Installment: trade.Balance, Method: payment.TTWire})
	e.clock.Advance(2 * time.Hour)
	e.timers()
	o = e.reload(o)
	if o.State != trade.BalancePaid {
		e.t.Fatalf("state %s, want balance_paid", o.State)
	}
	return e.do(e.supplier, o, trade.Ship{ShippedOn: trade.Day(e.clock.Now()), Carrier: "COSCO", Tracking: "X1"})
}

func (e *env) checkLedger() {
	e.t.Helper()
	rep := must(e.svc.CheckLedger(e.ctx))
	if !rep.OK() {
		e.t.Fatalf("ledger check: %v", rep.Violations)
	}
}

func (e *env) balance(a ledger.Account) int64 {
	e.t.Helper()
	var b int64
	if err := e.db.Read(e.ctx, func(r escrow.Reader) error {
		var err error
		b, err = r.Balance(e.ctx, a.ID())
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return ledger.Natural(a.Kind, b)
}

// TestHappyPathReleases ensures the whole lifecycle through the service: payments arrive by the
// sandbox rail, the release timer pays escrow to the supplier, completion restores coverage, and
// the ledger check passes. R12, R22
func TestHappyPathReleases(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.shipped()
		e.timers() // release is due at shipment
		o = e.reload(o)
		if o.State != trade.Released {
			t.Fatalf("state %s, want released", o.State)
		}
		payable := ledger.Account{Kind: ledger.SupplierPayable, Owner: e.supplier.OrgID, Currency: "USD"}
		if got := e.balance(payable); got != 10_000_00 {
			t.Fatalf("supplier payable %d, want 1000000", got)
		}
		sup := must(e.svc.Org(e.ctx, e.supplier.OrgID))
		if sup.Coverage.Used != 10_000_00 {
			t.Fatalf("coverage used %d while open, want 1000000", sup.Coverage.Used)
		}
		o = e.do(e.buyer, o, trade.Complete{})
		if sup = must(e.svc.Org(e.ctx, e.supplier.OrgID)); sup.Coverage.Used != 0 {
			t.Fatalf("coverage used %d after completion, want 0", sup.Coverage.Used)
		}
		fee := trade.FeeAccount(payment.Card, "USD")
		if got := e.balance(fee); got != 8850 { // 2.95% of the 3,000.00 initial payment (R10)
			t.Fatalf("card fee revenue %d, want 8850", got)
		}
		// A closed order leaves no deadline behind to fire for nothing. R21
		for _, tm := range must(e.svc.Timers(e.ctx, o.ID)) {
			if tm.State == escrow.TimerPending || tm.State == escrow.TimerClaimed {
				t.Errorf("timer %s still %s after completion", tm.Key, tm.State)
			}
		}
		e.checkLedger()
	})
}

// TestIdempotentRetry ensures a retried command applies once and returns the same result, and
// that reusing a key for another request is refused.
func TestIdempotentRetry(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.confirmed(10_00)
		first := must(e.svc.Do(e.ctx, e.buyer, "pay-1", o.ID, trade.Pay{Installment: trade.Initial, Method: payment.Card}))
		again := must(e.svc.Do(e.ctx, e.buyer, "pay-1", o.ID, trade.Pay{Installment: trade.Initial, Method: payment.Card}))
		if len(again.Payments) != 1 || again.Payments[0].ID != first.Payments[0].ID || again.Version != first.Version {
			t.Fatalf("retry applied again: %+v", again.Payments)
		}
		_, err := e.svc.Do(e.ctx, e.buyer, "pay-1", o.ID, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		if fault.ReasonOf(err) != "idempotency_key_reused" {
			t.Fatalf("reused key with another request: %v", err)
		}
		// A rail reporting the same credit twice books it once (R8).
		p := first.Payments[0]
		in := escrow.Incoming{Method: p.Method, Amount: money.New(p.Total, "USD"), Reference: p.Reference}
		a1 := must(e.svc.ReceiveFunds(e.ctx, "stmt-77", in))
		a2 := must(e.svc.ReceiveFunds(e.ctx, "stmt-77", in))
		if a1 != a2 || a1.PaymentID != p.ID {
			t.Fatalf("allocations %+v, %+v", a1, a2)
		}
		if got := e.reload(o).Money.Paid; got != p.Amount {
			t.Fatalf("paid %d, want %d", got, p.Amount)
		}
		e.checkLedger()
	})
}

// TestConcurrentReleases ensures two concurrent releases of one order pay the supplier once:
// exactly one wins, the other is refused, and escrow never goes negative. R12
func TestConcurrentReleases(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.shipped()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.Do(e.ctx, e.admin, fmt.Sprintf("release-%d", i), o.ID, trade.Release{})
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case fault.ReasonOf(err) != "transition_not_allowed":
				t.Fatalf("loser failed with %v, want transition_not_allowed", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d releases won, want exactly 1 (%v)", wins, errs)
		}
		if got := e.balance(ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: "USD"}); got != 0 {
			t.Fatalf("escrow %d after release, want 0", got)
		}
		e.timers() // the release timer now finds the order released: skipped, not applied twice
		e.checkLedger()
	})
}

// TestDeadlineAcrossRestart ensures the shipping deadline fires exactly once although the process
// restarts while the timer is claimed and before it fires. R13, R21
func TestDeadlineAcrossRestart(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.confirmed(10_00)
		o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		e.clock.Advance(2 * time.Hour)
		e.timers()
		e.clock.Set(o.Deadline().Add(time.Second))
		// A worker claims the deadline and dies before firing it.
		claimed := must(e.db.ClaimTimers(e.ctx, e.clock.Now(), "doomed", escrow.TimerLease, 10))
		if len(claimed) == 0 {
			t.Fatal("nothing due after the deadline")
		}
		e.db.Close()
		e.open() // restart
		if n := e.timers(); n != 0 {
			t.Fatalf("%d timers fired while the dead worker's lease runs", n)
		}
		e.clock.Advance(escrow.TimerLease + time.Second)
		e.timers()
		e.timers()
		o = e.reload(o)
		if o.State != trade.Late {
			t.Fatalf("state %s, want late", o.State)
		}
		evs := must(e.svc.Events(e.ctx, e.admin, o.ID))
		late := 0
		for _, ev := range evs {
			if ev.Type == "order.late" {
				late++
			}
		}
		if late != 1 {
			t.Fatalf("order.late recorded %d times, want 1", late)
		}
		o = e.do(e.buyer, o, trade.Refund{})
		if o.State != trade.Refunded || o.Money.Held() != 0 {
			t.Fatalf("after refund: %s, held %d", o.State, o.Money.Held())
		}
		e.checkLedger()
	})
}

// TestTwoWorkersOnePostgres ensures that with two server processes on one PostgreSQL, every
// deadline fires exactly once. R21
func TestTwoWorkersOnePostgres(t *testing.T) {
	e := newEnv(t, pgtest.NewDatabase(t))
	const orders = 12
	var ids []string
	for range orders {
		o := e.confirmed(1_00)
		o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		ids = append(ids, o.ID)
	}
	e.clock.Advance(2 * time.Hour)
	e.timers()
	e.clock.Advance(40 * 24 * time.Hour)
	other := must(store.Open(e.ctx, e.url))
	defer other.Close()
	svc2 := escrow.New(other, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig()})
	var wg sync.WaitGroup
	for i, s := range []*escrow.Service{e.svc, svc2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := s.RunTimers(e.ctx, fmt.Sprintf("worker-%d", i))
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		evs := must(e.svc.Events(e.ctx, e.admin, id))
		late := 0
		for _, ev := range evs {
			if ev.Type == "order.late" {
				late++
			}
		}
		if late != 1 {
			t.Fatalf("order %s: order.late %d times, want 1", id, late)
		}
	}
	e.checkLedger()
}

// TestSuspenseAndCoverage ensures unmatched money waits in suspense until allocated (R8), and
// that a supplier's coverage is consumed by open orders and caps new ones (R22).
func TestSuspenseAndCoverage(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		a := e.confirmed(15_00) // 15,000.00
		b := e.confirmed(15_00) // only 5,000.00 of the limit is left
		if a.Coverage != 15_000_00 || b.Coverage != 5_000_00 {
			t.Fatalf("coverage %d and %d, want 1500000 and 500000", a.Coverage, b.Coverage)
		}
		o := e.do(e.buyer, a, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		p := o.Payments[0]
		alloc := must(e.svc.ReceiveFunds(e.ctx, "wire-1", escrow.Incoming{Method: payment.TTWire,
			Amount: money.New(p.Total, "USD"), Reference: "no reference"}))
		if alloc.SuspenseID == "" {
			t.Fatalf("unmatched money allocated: %+v", alloc)
		}
		if got := e.reload(o).Money.Paid; got != 0 {
			t.Fatalf("order counts %d paid before allocation", got)
		}
		e.checkLedger()
		must(e.svc.AllocateSuspense(e.ctx, e.admin, e.key(), alloc.SuspenseID, o.ID, p.ID))
		if o = e.reload(o); o.State != trade.InProduction || o.Money.Paid != p.Amount {
			t.Fatalf("after allocation: %s, paid %d", o.State, o.Money.Paid)
		}
		e.do(e.buyer, b, trade.Cancel{Reason: "changed supplier"})
		if sup := must(e.svc.Org(e.ctx, e.supplier.OrgID)); sup.Coverage.Used != 15_000_00 {
			t.Fatalf("coverage used %d after cancel, want 1500000", sup.Coverage.Used)
		}
		e.checkLedger()
	})
}

// TestLedgerCheckDetectsTampering ensures `ledger check` notices an edited audit event and a
// balance table that no longer matches the entries.
func TestLedgerCheckDetectsTampering(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.confirmed(10_00)
		e.checkLedger()
		if _, err := e.db.SQL().ExecContext(e.ctx, `UPDATE events SET payload = '{"total":1}' WHERE stream = $1 AND seq = 2`, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.SQL().ExecContext(e.ctx, `UPDATE ledger_balances SET balance = balance + 1 WHERE account_id LIKE 'guarantee_fund:%'`); err != nil {
			t.Fatal(err)
		}
		rep := must(e.svc.CheckLedger(e.ctx))
		got := map[string]bool{}
		for _, v := range rep.Violations {
			got[v.Rule] = true
		}
		if !got["chain_tampered"] || !got["balance_cache_mismatch"] {
			t.Fatalf("violations %v, want chain_tampered and balance_cache_mismatch", rep.Violations)
		}
	})
}

// TestThreadAttachments ensures the order's message thread keeps messages with attachments that
// exist in the blob store, with size and type taken from the store, refuses references to
// content never uploaded, and hides the thread from other organizations. R23, R3
func TestThreadAttachments(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.confirmed(10_00)
		pdf := must(e.svc.Upload(e.ctx, e.supplier, e.key(), "design_draft_a.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n% design draft A\n%%EOF\n")))
		att := []trade.Attachment{{Name: "design_draft_a.pdf", Ref: pdf.Ref, Size: 1, MediaType: "image/png"}}
		m := must(e.svc.PostMessage(e.ctx, e.supplier, e.key(), o.ID, "Design draft attached for sign-off.", att))
		if got := m.Attachments[0]; got.Size != pdf.Size || got.MediaType != "application/pdf" {
			t.Fatalf("attachment %+v: size and type must come from the store", got)
		}
		missing := []trade.Attachment{{Name: "label.pdf", Ref: "sha256:" + strings.Repeat("0", 64), Size: 1}}
		if _, err := e.svc.PostMessage(e.ctx, e.buyer, e.key(), o.ID, "label", missing); fault.ReasonOf(err) != "attachment_not_found" {
			t.Fatalf("unknown content: %v", err)
		}
		// A contract amendment can carry the same file.
		c := o.Contract().Contract
		c.Attachments = att
		o = e.do(e.buyer, o, trade.ProposeAmendment{Contract: c})
		if a := o.Proposal.Contract.Attachments[0]; a.MediaType != "application/pdf" {
			t.Fatalf("contract attachment %+v", a)
		}
		stranger := trade.Actor{Role: trade.RoleBuyer, OrgID: e.org(trade.KindBuyer, "Other", "US").ID}
		if _, err := e.svc.Messages(e.ctx, stranger, o.ID); fault.ReasonOf(err) != "order_not_found" {
			t.Fatalf("another buyer read the thread: %v", err)
		}
		msgs := must(e.svc.Messages(e.ctx, e.buyer, o.ID))
		if len(msgs) != 1 || msgs[0].Attachments[0].Ref != pdf.Ref {
			t.Fatalf("thread %+v", msgs)
		}
	})
}

// TestConcurrentRetriesSameKey ensures two concurrent deliveries of one command (a client
// retrying while the first request is still running) apply it once and both get its result.
func TestConcurrentRetriesSameKey(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		for round := range 5 {
			o := e.confirmed(10_00)
			key := fmt.Sprintf("pay-race-%d", round)
			var wg sync.WaitGroup
			got := make([]*trade.Order, 2)
			errs := make([]error, 2)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], errs[i] = e.svc.Do(e.ctx, e.buyer, key, o.ID, trade.Pay{Installment: trade.Initial, Method: payment.Card})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: delivery %d failed: %v", round, i, err)
				}
			}
			if got[0].Version != got[1].Version || len(got[0].Payments) != 1 || got[0].Payments[0].ID != got[1].Payments[0].ID {
				t.Fatalf("round %d: the two deliveries saw different results", round)
			}
			if n := len(e.reload(o).Payments); n != 1 {
				t.Fatalf("round %d: %d payments, want 1", round, n)
			}
		}
	})
}
