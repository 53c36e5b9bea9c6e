package client

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/trade"
)

// TestCreditIterators ensures the client iterates every Pay Later list over all its pages: a
// buyer's applications, loans and closed statements (its own, and an admin's naming the buyer),
// and the admin's bank debit and lender outboxes with their filters — each item once, in order,
// in more than one request, with the fields a script reads decoded. R11
func TestCreditIterators(t *testing.T) {
	var pages atomic.Int64
	e := newEnv(t, api.RateLimit{Disabled: true}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("limit") == "2" {
				pages.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	for _, c := range e.clients {
		c.page = 2
	}
	buyer, supplier, admin := e.clients["buyer"], e.clients["supplier"], e.clients["admin"]
	must := mustOf(t)
	post := func(c *Client, path string, body, out any) {
		t.Helper()
		if _, err := c.do(ctx, request{method: http.MethodPost, path: path, body: body, idemKey: NewIdempotencyKey(), safe: true}, out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	drain := func(run func(context.Context, string) (int, error)) {
		t.Helper()
		for {
			n, err := run(ctx, "test-worker")
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}

	// Two applications declined (too little revenue), then one approved, a minute apart.
	var apps []string
	for _, revenue := range []int64{10_000_00, 20_000_00, 500_000_00} {
		var applied struct{ Application CreditApplication }
		post(buyer, "/v1/credit/applications", map[string]any{"channel": "in_advance",
			"business": map[string]any{"legal_name": "Maple Kids Apparel Inc.", "ein": "12-3456789", "country": "US", "state": "NY",
				"established": "2019-04-01", "annual_revenue": map[string]any{"minor": revenue, "currency": "USD"}},
			"owner":    map[string]any{"name": "Pat Owner", "birth_year": 1980, "ssn": "123-45-6789"},
			"accounts": []any{map[string]any{"kind": "business_checking", "institution": "First Bank", "account_number": "000123454321"}},
			"consent":  map[string]any{"given": true, "text_version": "2025-01"}}, &applied)
		drain(e.svc.RunLenderRequests)
		apps = append(apps, applied.Application.ID)
		e.tick(time.Minute)
	}
	slices.Reverse(apps)

	// Three loans, accepted and paid by the lender two business days later, then paid off.
	var loans []string
	for range 3 {
		o := e.place(ctx, "")
		o = must(supplier.ProposeContract(ctx, o.ID, e.contract(), ""))
		o = must(buyer.ConfirmContract(ctx, o.ID, o.Proposal.Hash, ""))
		must(buyer.Pay(ctx, o.ID, trade.Initial, "pay_later", ""))
		var l Loan
		post(buyer, "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 3}, &l)
		post(buyer, "/v1/loans/"+l.ID+"/accept", map[string]any{}, nil)
		loans = append(loans, l.ID)
	}
	slices.Sort(loans)
	e.tick(48 * time.Hour)
	drain(e.svc.RunLenderRequests)
	for _, id := range loans {
		post(buyer, "/v1/loans/"+id+"/pay-off", map[string]any{}, nil)
	}
	drain(e.svc.RunBankDebits)
	// March, April and May close on the first of the next month.
	for _, month := range []time.Month{time.April, time.May, time.June} {
		e.clock.Set(time.Date(2026, month, 1, 0, 0, 0, 0, time.UTC))
		e.tick(0)
	}

	// walk collects an iterator's keys, failing on an error, an item twice, or one request.
	walk := func(name string, seq iter.Seq2[string, error]) []string {
		t.Helper()
		before := pages.Load()
		var got []string
		for k, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if slices.Contains(got, k) {
				t.Fatalf("%s: %s twice", name, k)
			}
			got = append(got, k)
		}
		if n := pages.Load() - before; n < 2 {
			t.Errorf("%s: %d requests of 2 items", name, n)
		}
		return got
	}
	appID := func(a CreditApplication) string { return a.ID }
	if got := walk("applications", ids(buyer.AllCreditApplications(ctx, ""), appID)); !slices.Equal(got, apps) {
		t.Errorf("applications %v, want newest first %v", got, apps)
	}
	if got := walk("applications of the buyer", ids(admin.AllCreditApplications(ctx, e.ids["buyer"]), appID)); !slices.Equal(got, apps) {
		t.Errorf("the admin's applications %v, want %v", got, apps)
	}
	for a, err := range buyer.AllCreditApplications(ctx, "") {
		if err != nil || a.Decision == nil || (a.ID == apps[0]) != (a.Decision.Status == "approved") {
			t.Fatalf("application %+v %v: only the newest is approved", a, err)
		}
	}
	loanID := func(l Loan) string { return l.ID }
	if got := walk("loans", ids(buyer.AllLoans(ctx, ""), loanID)); !slices.Equal(got, loans) {
		t.Errorf("loans %v, want by ID %v", got, loans)
	}
	walk("loans of the buyer", ids(admin.AllLoans(ctx, e.ids["buyer"]), loanID))
	for l, err := range buyer.AllLoans(ctx, "") {
		if err != nil || l.State != "paid_off" || l.Agreement.Principal.Minor != 3_000_00 || len(l.Installments) != 3 ||
			l.BankDebit == nil || l.BankDebit.Kind != "payoff" {
			t.Fatalf("loan %+v %v", l, err)
		}
	}
	period := func(s Statement) string { return s.Period + "/" + s.LineID }
	got := walk("statements", ids(buyer.AllStatements(ctx, ""), period))
	if len(got) != 3 || got[0][:7] != "2026-05" || got[2][:7] != "2026-03" {
		t.Errorf("statements %v, want May, April, March", got)
	}
	walk("statements of the buyer", ids(admin.AllStatements(ctx, e.ids["buyer"]), period))

	debitID := func(d BankDebit) string { return d.ID }
	if got := walk("bank debits", ids(admin.AllBankDebits(ctx, BankDebitFilter{Status: "succeeded"}), debitID)); len(got) != 3 {
		t.Errorf("succeeded debits %v, want 3", got)
	}
	for d, err := range admin.AllBankDebits(ctx, BankDebitFilter{LoanID: loans[1]}) {
		if err != nil || d.LoanID != loans[1] || d.Status != "succeeded" || !d.Sandbox {
			t.Fatalf("debit of loan %s: %+v %v", loans[1], d, err)
		}
	}
	requestID := func(r LenderRequest) string { return r.ID }
	if got := walk("lender requests", ids(admin.AllLenderRequests(ctx, LenderRequestFilter{}), requestID)); len(got) != 6 {
		t.Errorf("lender requests %v, want 3 decisions and 3 disbursements", got)
	}
	for r, err := range admin.AllLenderRequests(ctx, LenderRequestFilter{Kind: "disbursement"}) {
		if err != nil || r.Kind != "disbursement" || r.Status != "recorded" || r.Amount.Minor != 3_000_00 || !slices.Contains(loans, r.LoanID) ||
			r.PaymentReference == "" || !r.Sandbox || r.FundsID != "sandbox:"+r.ID {
			t.Fatalf("disbursement %+v %v", r, err)
		}
	}
	// A buyer may not read the outboxes: the error is yielded and ends the iteration.
	n := 0
	for _, err := range buyer.AllBankDebits(ctx, BankDebitFilter{}) {
		n++
		var p *Problem
		if !errors.As(err, &p) || p.Reason != "role_not_allowed" {
			t.Fatalf("a buyer's list of debits: %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("%d yields after an error", n)
	}
}
