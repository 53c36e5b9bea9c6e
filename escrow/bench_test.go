package escrow_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

// The whole-order lifecycle benchmarks. One iteration drives a new order from checkout to
// completion through the service, every command in its own transaction:
//
//	place → book inspection → propose → confirm → pay initial → sandbox settle (RunTimers) →
//	inspection pass → pay balance → sandbox settle (RunTimers) → ship → release (RunTimers) →
//	complete
//
// That is benchLifecycleCommands commands; each RunTimers also commits one claim transaction,
// so an order costs benchLifecycleTxs write transactions. The clock moves a little per step
// (the sandbox rail delivers after a minute), so the leftover timers of earlier orders (payment
// expiry after 14 days, the shipping deadline, the completion timer after 30 days) never fall
// due during a run: each RunTimers must fire exactly the one timer of this order, which the
// benchmark checks, so every iteration does the same work however long the run.
const (
	benchLifecycleCommands = 12
	benchLifecycleTxs      = benchLifecycleCommands + 3
	benchSandboxDelay      = time.Minute
	benchStep              = time.Second // the clock's move between two commands
)

// benchKeys makes idempotency keys unique within a test binary.
var benchKeys atomic.Int64

func benchKey() string { return fmt.Sprintf("bk%d", benchKeys.Add(1)) }

// benchParties are the organizations of one stream of orders.
type benchParties struct {
	buyer, supplier, inspector trade.Actor
}

// benchWorld is one service on one database, for benchmarks.
type benchWorld struct {
	ctx   context.Context
	db    *store.DB
	svc   *escrow.Service
	clock *escrow.ManualClock
	admin trade.Actor
}

// benchOpen opens a fresh database of the dialect: a file in b's temporary directory (SQLite)
// or a new database on the test server (PostgreSQL). sandbox enables the sandbox rail.
func benchOpen(b *testing.B, dialect string, sandbox bool, poolConns int) *benchWorld {
	b.Helper()
	var url string
	switch dialect {
	case "sqlite":
		url = "sqlite:" + filepath.Join(b.TempDir(), "ta.db")
	case "postgres":
		url = pgtest.NewDatabase(b)
		if poolConns > 0 {
			sep := "?"
			if strings.Contains(url, "?") {
				sep = "&"
			}
			url += fmt.Sprintf("%spool_max_conns=%d", sep, poolConns)
		}
	default:
		b.Fatalf("unknown dialect %q", dialect)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	w := &benchWorld{ctx: ctx, db: db, clock: escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		admin: trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin"}}
	w.svc = escrow.New(db, escrow.Options{Clock: w.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: sandbox, Delay: benchSandboxDelay}, Accounts: railtest.Accounts()})
	benchCheck(b)(w.svc.FundGuarantee(ctx, w.admin, benchKey(), money.New(100_000_00, "USD")))
	return w
}

// benchCheck returns a function that stops b on an error; it takes a result first so that it
// can wrap a call: benchCheck(b)(f()).
func benchCheck(b *testing.B) func(any, error) {
	return func(_ any, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// parties creates a buyer, an eligible supplier with a coverage limit, and an inspector.
func (w *benchWorld) parties(b *testing.B, tag string) benchParties {
	b.Helper()
	org := func(kind trade.OrgKind, name, country string) trade.Org {
		o, err := w.svc.CreateOrg(w.ctx, w.admin, benchKey(), kind, name+" "+tag, country)
		if err != nil {
			b.Fatal(err)
		}
		return o
	}
	by, sp, in := org(trade.KindBuyer, "Buyer", "US"), org(trade.KindSupplier, "Supplier", "CN"), org(trade.KindInspector, "QC", "HK")
	benchCheck(b)(w.svc.SetEligibility(w.ctx, w.admin, benchKey(), sp.ID, true, "Gold Supplier"))
	benchCheck(b)(w.svc.SetCoverageLimit(w.ctx, w.admin, benchKey(), sp.ID, money.New(20_000_00, "USD")))
	return benchParties{
		buyer:     trade.Actor{Role: trade.RoleBuyer, OrgID: by.ID, UserID: "b"},
		supplier:  trade.Actor{Role: trade.RoleSupplier, OrgID: sp.ID, UserID: "s"},
		inspector: trade.Actor{Role: trade.RoleInspector, OrgID: in.ID, UserID: "i"},
	}
}

// settle moves the clock past the sandbox delay and runs the timers: exactly one must fire.
func (w *benchWorld) settle(owner string) error {
	w.clock.Advance(benchSandboxDelay)
	return w.runOne(owner)
}

func (w *benchWorld) runOne(owner string) error {
	n, err := w.svc.RunTimers(w.ctx, owner)
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("RunTimers fired %d timers, want 1", n)
	}
	return nil
}

// payment settles an order's pending payment the way the sandbox rail does, through
// ReceiveFunds, without the timer worker (for the parallel benchmark, whose streams must not
// fire each other's timers).
func (w *benchWorld) payment(o *trade.Order) error {
	p := o.Payments[len(o.Payments)-1]
	_, err := w.svc.ReceiveFunds(w.ctx, "rcv-"+p.ID, escrow.Incoming{Method: p.Method,
		Amount: money.New(p.Total, o.Currency), Reference: p.Reference, Payer: o.BuyerID})
	return err
}

// lifecycle drives one order from checkout to completion. With timers, the sandbox rail and
// the release timer run through RunTimers (owner names the worker); without, the payments
// arrive through ReceiveFunds and the admin releases.
func (w *benchWorld) lifecycle(p benchParties, timers bool, owner string) error {
	ctx, svc := w.ctx, w.svc
	step := func(a trade.Actor, o *trade.Order, cmd trade.Command) (*trade.Order, error) {
		w.clock.Advance(benchStep)
		return svc.Do(ctx, a, benchKey(), o.ID, cmd)
	}
	now := w.clock.Now()
	c := trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: trade.Day(now).AddDate(0, 0, 30),
		Terms:     trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{{Description: "Hoodie", Quantity: 1000, Unit: "pcs", UnitPrice: 10_00}},
		Quality:   []trade.Requirement{{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%"}}}
	o, err := svc.Place(ctx, p.buyer, benchKey(), trade.Place{SupplierID: p.supplier.OrgID, Currency: "USD",
		ShipBy: c.ShipBy, ComplianceConfirmed: true})
	if err != nil {
		return fmt.Errorf("place: %w", err)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"book inspection", func() (err error) {
			o, err = step(p.buyer, o, trade.BookInspection{InspectorID: p.inspector.OrgID})
			return err
		}},
		{"propose", func() (err error) { o, err = step(p.supplier, o, trade.ProposeContract{Contract: c}); return err }},
		{"confirm", func() (err error) {
			o, err = step(p.buyer, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
			return err
		}},
		{"pay initial", func() (err error) {
			o, err = step(p.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
			return err
		}},
		{"settle initial", func() error {
			if timers {
				return w.settle(owner)
			}
			return w.payment(o)
		}},
		{"inspection pass", func() (err error) {
			o, err = step(p.inspector, o, trade.SubmitReport{Report: trade.Report{Passed: true, SampleSize: 80,
				Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "201 g/m²", Pass: true}}}})
			return err
		}},
		{"pay balance", func() (err error) {
			o, err = step(p.buyer, o, trade.Pay{Installment: trade.Balance, Method: payment.TTWire})
			return err
		}},
		{"settle balance", func() error {
			if timers {
				return w.settle(owner)
			}
			return w.payment(o)
		}},
		{"ship", func() (err error) {
			o, err = step(p.supplier, o, trade.Ship{ShippedOn: trade.Day(w.clock.Now()), Carrier: "COSCO", Tracking: "X1"})
			return err
		}},
		{"release", func() (err error) {
			if timers {
				w.clock.Advance(benchStep) // the release is due at shipment
				return w.runOne(owner)
			}
			_, err = step(w.admin, o, trade.Release{})
			return err
		}},
		{"complete", func() (err error) { o, err = step(p.buyer, o, trade.Complete{}); return err }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("order %s: %s: %w", o.ID, s.name, err)
		}
	}
	if o.State != trade.Completed || o.Money.Released != 10_000_00 {
		return fmt.Errorf("order %s ended %s with %d released, want completed with 1000000", o.ID, o.State, o.Money.Released)
	}
	return nil
}

// reportLifecycle reports orders/s, commands/s and write transactions/s.
func reportLifecycle(b *testing.B, orders int, txsPerOrder int) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(orders)/s, "orders/s")
	b.ReportMetric(float64(orders*benchLifecycleCommands)/s, "commands/s")
	b.ReportMetric(float64(orders*txsPerOrder)/s, "tx/s")
}

// BenchmarkOrderLifecycle measures one order's whole lifecycle (see above) from one goroutine,
// with the sandbox rail and the timer worker as the tests run them.
func BenchmarkOrderLifecycle(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			w := benchOpen(b, dialect, true, 0)
			p := w.parties(b, "0")
			for b.Loop() {
				if err := w.lifecycle(p, true, "w1"); err != nil {
					b.Fatal(err)
				}
			}
			reportLifecycle(b, b.N, benchLifecycleTxs)
		})
	}
}

// BenchmarkOrderLifecycleParallel runs the lifecycle from GOMAXPROCS×4 goroutines, each with
// its own buyer, supplier and inspector, so that no two touch the same order, balance or
// supplier row. Payments arrive through ReceiveFunds and the admin releases (no timer worker,
// which would fire other goroutines' timers): 12 commands and 12 transactions per order. What
// is left to serialize them is the database: SQLite's one writer, and on PostgreSQL the event
// log's advisory lock, held from a command's first event until its commit.
func BenchmarkOrderLifecycleParallel(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			const parallelism = 4
			w := benchOpen(b, dialect, false, 16)
			streams := make(chan benchParties, parallelism*runtime.GOMAXPROCS(0))
			for i := range cap(streams) {
				streams <- w.parties(b, fmt.Sprint(i))
			}
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := <-streams
				for pb.Next() {
					if err := w.lifecycle(p, false, ""); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
			reportLifecycle(b, b.N, benchLifecycleCommands)
		})
	}
}
