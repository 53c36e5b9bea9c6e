package api_test

import (
	"strings"
	"testing"
	"time"
)

// creditApplication is a complete application body for a business in country.
func creditApplication(country string, revenue int64) map[string]any {
	business := map[string]any{"legal_name": "Maple Kids Apparel Inc.", "ein": "12-3456789", "country": country,
		"established": "2019-04-01", "annual_revenue": map[string]any{"minor": revenue, "currency": "USD"}}
	if country == "US" {
		business["state"] = "NY"
	}
	return map[string]any{"channel": "in_advance", "business": business,
		"owner":    map[string]any{"name": "Pat Owner", "title": "CEO", "birth_year": 1980, "ssn": "123-45-6789"},
		"accounts": []any{map[string]any{"kind": "business_checking", "institution": "First Bank", "account_number": "000123454321"}},
		"consent":  map[string]any{"given": true, "text_version": "2025-01"}}
}

type amount struct {
	Minor    int64
	Currency string
}

type loanView struct {
	ID          string
	State       string
	OrderID     string `json:"order_id"`
	PaymentID   string `json:"payment_id"`
	Agreement   struct{ Principal amount }
	Installment []struct{ Total amount } `json:"installments"`
	Balance     amount
	PayoffQuote amount `json:"payoff_quote"`
}

// TestPayLaterThroughHTTP drives Pay Later through the API only: a US buyer applies and gets a
// line, a German business is declined with pay_later_us_only; the buyer pays an installment with
// pay_later, gets a three-month agreement and accepts it; the order stays unpaid until the
// disbursement timer fires 2 business days later; the loan, the line and the statement CSV are
// readable, and the buyer pays off early. Identifiers are kept masked. R11
func TestPayLaterThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		var applied struct {
			Application struct {
				Status   string
				Decision struct{ Reasons []struct{ Code string } }
				Business struct {
					EINLast4 string `json:"ein_last4"`
				}
			}
			Line *struct {
				ID        string
				Limit     amount
				Available amount
			}
		}
		r := w.ok(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("US", 500_000_00), &applied), 201)
		if applied.Application.Status != "approved" || applied.Line == nil || applied.Line.Limit.Minor != 100_000_00 ||
			applied.Application.Business.EINLast4 != "6789" {
			t.Fatalf("application: %s", r.body)
		}
		if s := string(r.body); strings.Contains(s, "3456789") || strings.Contains(s, "45-6789") || strings.Contains(s, "123454321") {
			t.Fatalf("a full identifier came back: %s", s)
		}
		var declined struct {
			Application struct {
				Status   string
				Decision struct{ Reasons []struct{ Code string } }
			}
		}
		w.ok(w.call("buyer2", "POST", "/v1/credit/applications", creditApplication("DE", 500_000_00), &declined), 201)
		if declined.Application.Status != "declined" || declined.Application.Decision.Reasons[0].Code != "pay_later_us_only" {
			t.Fatalf("a German business: %+v", declined.Application)
		}
		w.refused(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("US", 500_000_00), nil), 409, "credit_line_exists")

		o := w.confirmed()
		o = w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "pay_later"})
		w.refused(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 7}, nil), 422, "validation_failed")
		var offer loanView
		w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 3}, &offer), 201)
		if offer.State != "agreement_pending" || offer.Agreement.Principal.Minor != 3_000_00 || len(offer.Installment) != 3 ||
			offer.PaymentID != o.Payments[0].ID {
			t.Fatalf("offer %+v", offer)
		}
		w.refused(w.call("supplier", "POST", "/v1/loans/"+offer.ID+"/accept", map[string]any{}, nil), 403, "role_not_allowed")
		w.refused(w.call("buyer2", "GET", "/v1/loans/"+offer.ID, nil, nil), 404, "loan_not_found")
		var l loanView
		w.ok(w.call("buyer", "POST", "/v1/loans/"+offer.ID+"/accept", map[string]any{}, &l), 200)
		var line struct{ Reserved, Available amount }
		w.ok(w.call("buyer", "GET", "/v1/credit/line", nil, &line), 200)
		if l.State != "agreed" || line.Reserved.Minor != 3_000_00 || line.Available.Minor != 97_000_00 {
			t.Fatalf("after accepting: %s, line %+v", l.State, line)
		}
		w.tick(24 * time.Hour) // Tuesday: one business day
		if got := w.get("buyer", o.ID); got.State != "confirmed" || got.EscrowHeld != 0 {
			t.Fatalf("paid before the lender paid: %s, escrow %d", got.State, got.EscrowHeld)
		}
		w.tick(24 * time.Hour) // Wednesday: the lender pays
		if got := w.get("buyer", o.ID); got.State != "in_production" || got.EscrowHeld != 3_000_00 {
			t.Fatalf("after the disbursement: %s, escrow %d", got.State, got.EscrowHeld)
		}
		w.ok(w.call("buyer", "GET", "/v1/loans/"+l.ID, nil, &l), 200)
		if l.State != "disbursed" || l.Balance.Minor != 3_000_00 || l.PayoffQuote.Minor != 3_000_00 {
			t.Fatalf("loan %+v", l) // month 1's fee (60.00) is covered by the first-month credit
		}
		var loans []loanView
		w.ok(w.call("buyer", "GET", "/v1/credit/loans", nil, &loans), 200)
		if len(loans) != 1 || loans[0].ID != l.ID {
			t.Fatalf("loans %+v", loans)
		}
		r = w.ok(w.call("buyer", "GET", "/v1/credit/statements/2026-03", nil, nil), 200)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
			!strings.HasPrefix(string(r.body), "date,type,loan_id,order_id,installment,description,amount,balance\n") ||
			!strings.Contains(string(r.body), "2026-03-04,draw,"+l.ID+","+o.ID+",,") {
			t.Fatalf("statement %s:\n%s", ct, r.body)
		}
		w.refused(w.call("buyer", "GET", "/v1/credit/statements/2026-13", nil, nil), 422, "invalid_period")
		w.ok(w.call("buyer", "POST", "/v1/loans/"+l.ID+"/pay-off", map[string]any{}, &l), 200)
		w.ok(w.call("buyer", "GET", "/v1/credit/line", nil, &line), 200)
		if l.State != "paid_off" || line.Available.Minor != 100_000_00 {
			t.Fatalf("after payoff: %s, line %+v", l.State, line)
		}
		var check struct{ Violations []any }
		w.ok(w.call("admin", "GET", "/v1/ledger/check", nil, &check), 200)
		if len(check.Violations) != 0 {
			t.Fatalf("ledger: %+v", check.Violations)
		}
	})
}
