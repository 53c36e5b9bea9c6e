package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/metrics"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

// outage is an on/off switch for the Pay Later lender and bank of the test: while it is on,
// every call fails without an answer, as in an outage.
type outage struct {
	mu   sync.Mutex
	down bool
}

func (o *outage) set(down bool) { o.mu.Lock(); o.down = down; o.mu.Unlock() }

func (o *outage) check() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down {
		return errors.New("unavailable: 503")
	}
	return nil
}

// downLender is the built-in lender behind an outage switch.
type downLender struct {
	*outage
	inner credit.BuiltIn
}

func (l downLender) ID() string { return l.inner.ID() }

func (l downLender) Decide(ctx context.Context, req credit.DecisionRequest) (credit.Decision, error) {
	if err := l.check(); err != nil {
		return credit.Decision{}, err
	}
	return l.inner.Decide(ctx, req)
}

func (l downLender) Disburse(ctx context.Context, req credit.DisbursementRequest) (credit.Disbursement, error) {
	if err := l.check(); err != nil {
		return credit.Disbursement{}, err
	}
	return l.inner.Disburse(ctx, req)
}

// downBank is the sandbox bank behind an outage switch.
type downBank struct {
	*outage
	inner *escrow.SandboxBank
}

func (b downBank) Debit(ctx context.Context, d escrow.BankDebit) (bool, error) {
	if err := b.check(); err != nil {
		return false, err
	}
	return b.inner.Debit(ctx, d)
}

// TestPayLaterWorkerMetrics drives the Pay Later lender and bank workers through an outage and
// checks their metrics against what happened, on both databases: the lender unanswered for
// every attempt (tradeassure_lender_requests_total counts each retry, then attention, and
// tradeassure_lender_requests_attention shows the request waiting for an operator); the
// operator's retry recorded once the lender is back (the gauge back to 0); a disbursement
// recorded; and a payoff the bank never answers (tradeassure_bank_debits_total's retries, then
// attention, and tradeassure_bank_debits_attention). R11
func TestPayLaterWorkerMetrics(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "m.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := must(store.Open(ctx, url(t)))
			t.Cleanup(func() { db.Close() })
			reg := prometheus.NewRegistry()
			clock := escrow.NewManualClock(t0)
			lenderOut, bankOut := &outage{}, &outage{}
			svc := escrow.New(db, escrow.Options{Clock: clock, Credit: escrow.CreditOptions{
				Lender:  downLender{outage: lenderOut, inner: credit.NewBuiltIn()},
				Bank:    downBank{outage: bankOut, inner: escrow.NewSandboxBank(db, clock)},
				OnDebit: metrics.NewBankDebitCounter(reg), OnLender: metrics.NewLenderCounter(reg)}})
			reg.MustRegister(metrics.NewCollector(db, clock.Now, nil))
			n := 0
			key := func() string { n++; return fmt.Sprintf("k%d", n) }
			want := func(what, name, labels string, v float64) {
				t.Helper()
				if got := gathered(t, reg, name, labels); got != v {
					t.Errorf("%s: %s{%s} = %v, want %v", what, name, labels, got, v)
				}
			}
			// run runs a worker once, at the time its requests are due again.
			run := func(worker func(context.Context, string) (int, error)) int {
				t.Helper()
				clock.Advance(escrow.BankDebitBackoffMax)
				return must(worker(ctx, "w1"))
			}

			admin := trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin"}
			b := must(svc.CreateOrg(ctx, admin, key(), trade.KindBuyer, "Buyer Co", "US"))
			s := must(svc.CreateOrg(ctx, admin, key(), trade.KindSupplier, "Supplier Co", "CN"))
			must(svc.SetEligibility(ctx, admin, key(), s.ID, true, "Gold Supplier"))
			must(svc.SetCoverageLimit(ctx, admin, key(), s.ID, money.New(20_000_00, "USD")))
			buyer := trade.Actor{Role: trade.RoleBuyer, OrgID: b.ID, UserID: "b"}
			supplier := trade.Actor{Role: trade.RoleSupplier, OrgID: s.ID, UserID: "s"}
			want("before any request", "tradeassure_lender_requests_attention", "", 0)
			want("before any request", "tradeassure_bank_debits_attention", "", 0)

			// The lender is down for every attempt: retries, then attention.
			lenderOut.set(true)
			revenue := money.New(500_000_00, credit.USD)
			must(svc.ApplyForCredit(ctx, buyer, key(), credit.Application{Channel: credit.InAdvance,
				Business: credit.Business{LegalName: "Buyer Co", EINLast4: "6789", Country: "US", State: "NY",
					Established: t0.AddDate(-3, 0, 0), Revenue: &revenue},
				Owner:    credit.Owner{Name: "Pat Owner", BirthYear: 1980, SSNLast4: "1234"},
				Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
				Consent:  credit.Consent{Given: true, At: t0, TextVersion: "2025-01"}}))
			for i := range escrow.LenderAttemptsMax {
				if got := run(svc.RunLenderRequests); got != 1 {
					t.Fatalf("attempt %d: the lender worker claimed %d requests", i+1, got)
				}
			}
			want("lender down", "tradeassure_lender_requests_total", "kind=decision,result=retry", escrow.LenderAttemptsMax-1)
			want("lender down", "tradeassure_lender_requests_total", "kind=decision,result=attention", 1)
			want("lender down", "tradeassure_lender_requests_total", "kind=decision,result=recorded", -1)
			want("lender down", "tradeassure_lender_requests_attention", "", 1)
			if got := run(svc.RunLenderRequests); got != 0 {
				t.Fatalf("a request in attention was claimed again (%d)", got)
			}

			// The lender is back and an operator retries: the decision is recorded.
			lenderOut.set(false)
			att := must(svc.LenderRequests(ctx, admin, escrow.LenderFilter{Status: escrow.LenderAttention}))
			if len(att) != 1 {
				t.Fatalf("requests in attention: %+v", att)
			}
			must(svc.RetryLenderRequest(ctx, admin, key(), att[0].ID))
			run(svc.RunLenderRequests)
			want("lender back", "tradeassure_lender_requests_total", "kind=decision,result=recorded", 1)
			want("lender back", "tradeassure_lender_requests_attention", "", 0)

			// A loan: the lender pays two business days after the agreement.
			shipBy := trade.Day(clock.Now()).AddDate(0, 0, 30)
			c := trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: shipBy, Terms: trade.PaymentTerms{InitialBP: 3000},
				LineItems: []trade.LineItem{{Description: "Cotton T-shirts", Quantity: 1000, Unit: "pcs", UnitPrice: 4_50}}}
			o := must(svc.Place(ctx, buyer, key(), trade.Place{SupplierID: s.ID, Currency: "USD", ShipBy: shipBy,
				ComplianceConfirmed: true, Contract: &c}))
			o = must(svc.Do(ctx, supplier, key(), o.ID, trade.ConfirmContract{Hash: o.Proposal.Hash}))
			must(svc.Do(ctx, buyer, key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.PayLater}))
			l := must(svc.OfferLoan(ctx, buyer, key(), o.ID, 3))
			l = must(svc.AcceptLoan(ctx, buyer, key(), l.ID))
			clock.Advance(72 * time.Hour)
			must(svc.RunTimers(ctx, "w1"))
			if got := run(svc.RunLenderRequests); got != 1 {
				t.Fatalf("the lender worker claimed %d disbursements", got)
			}
			want("disbursed", "tradeassure_lender_requests_total", "kind=disbursement,result=recorded", 1)
			if l = must(svc.Loan(ctx, admin, l.ID)); l.State != credit.Disbursed {
				t.Fatalf("loan %s after the lender paid", l.State)
			}

			// The bank never answers the payoff: retries, then attention.
			bankOut.set(true)
			must(svc.PayOffLoan(ctx, buyer, key(), l.ID))
			for i := range escrow.BankDebitAttemptsMax {
				if got := run(svc.RunBankDebits); got != 1 {
					t.Fatalf("attempt %d: the bank worker claimed %d debits", i+1, got)
				}
			}
			want("bank down", "tradeassure_bank_debits_total", "kind=payoff,result=retry", escrow.BankDebitAttemptsMax-1)
			want("bank down", "tradeassure_bank_debits_total", "kind=payoff,result=attention", 1)
			want("bank down", "tradeassure_bank_debits_attention", "", 1)
			want("bank down", "tradeassure_lender_requests_attention", "", 0)
		})
	}
}

// gathered reads one sample of reg: name{labels…} as "k=v,k=v"; -1 when absent.
func gathered(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	for _, mf := range must(reg.Gather()) {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelString(m) == labels {
				return sampleValue(m)
			}
		}
	}
	return -1
}
