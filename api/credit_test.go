package api_test

import (
	"context"
	"os/exec"
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
	ID        string
	State     string
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	Agreement struct {
		Principal amount
		APR       int64 `json:"apr"`
	}
	Installment  []struct{ Total amount } `json:"installments"`
	Balance      amount
	PayoffQuote  amount `json:"payoff_quote"`
	Disbursement *struct {
		ID, Status string
	} `json:"disbursement_request"`
	BankDebit *struct {
		ID, Kind, Status string
		Amount           amount
		AccountLast4     string `json:"account_last4"`
	} `json:"bank_debit"`
}

// lenderWorker runs the Pay Later lender worker until it finds nothing to ask the lender (R11).
func (w *world) lenderWorker() {
	w.t.Helper()
	for {
		n, err := w.svc.RunLenderRequests(context.Background(), "test-lender-worker")
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// bankWorker runs the Pay Later bank worker until it finds nothing to ask the bank (R11).
func (w *world) bankWorker() {
	w.t.Helper()
	for {
		n, err := w.svc.RunBankDebits(context.Background(), "test-bank-worker")
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// TestPayLaterThroughHTTP drives Pay Later through the API only: a US buyer applies without its
// revenue and start date, the application waits as submitted until the lender worker records the
// lender's request for more information, the buyer supplies it to the same application and gets
// a line; a German buyer, and a US buyer naming another country, are refused; the buyer pays an
// installment with pay_later, gets a three-month agreement and accepts it; the order stays
// unpaid until the disbursement timer requests the lender's payment 2 business days later and
// the lender worker records it; the loan, the line and the statement CSV are readable, and the
// buyer pays off early. Identifiers are kept masked. R11
func TestPayLaterThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		type application struct {
			ID       string
			Status   string
			Decision *struct {
				Status  string
				Reasons []struct{ Code string }
			}
			EarlierDecisions []struct{ Status string } `json:"earlier_decisions"`
			Business         struct {
				EINLast4 string `json:"ein_last4"`
			}
		}
		var applied struct {
			Application application
			Line        *struct{ ID string }
		}
		// The first application lacks the revenue and the start date: the lender asks for them.
		body := creditApplication("US", 500_000_00)
		business := body["business"].(map[string]any)
		delete(business, "annual_revenue")
		delete(business, "established")
		r := w.ok(w.call("buyer", "POST", "/v1/credit/applications", body, &applied), 202)
		if applied.Application.Status != "submitted" || applied.Line != nil || applied.Application.Decision != nil ||
			applied.Application.Business.EINLast4 != "6789" {
			t.Fatalf("application: %s", r.body)
		}
		if s := string(r.body); strings.Contains(s, "3456789") || strings.Contains(s, "45-6789") || strings.Contains(s, "123454321") {
			t.Fatalf("a full identifier came back: %s", s)
		}
		w.refused(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("US", 500_000_00), nil), 409, "credit_application_pending")
		w.lenderWorker()
		var app application
		w.ok(w.call("buyer", "GET", "/v1/credit/applications/"+applied.Application.ID, nil, &app), 200)
		if app.Status != "more_information_needed" || len(app.Decision.Reasons) != 2 {
			t.Fatalf("decided: %+v", app)
		}
		w.refused(w.call("buyer2", "GET", "/v1/credit/applications/"+app.ID, nil, nil), 404, "application_not_found")
		info := "/v1/credit/applications/" + app.ID + "/information"
		w.refused(w.call("buyer", "POST", info, map[string]any{}, nil), 422, "nothing_supplied")
		w.refused(w.call("buyer2", "POST", info, map[string]any{"established": "2019-04-01"}, nil), 404, "application_not_found")
		w.ok(w.call("buyer", "POST", info, map[string]any{"established": "2019-04-01",
			"annual_revenue": map[string]any{"minor": 500_000_00, "currency": "USD"}}, &app), 202)
		if app.Status != "submitted" || len(app.EarlierDecisions) != 1 || app.ID != applied.Application.ID {
			t.Fatalf("supplied: %+v", app)
		}
		w.lenderWorker()
		w.ok(w.call("buyer", "GET", "/v1/credit/applications/"+app.ID, nil, &app), 200)
		var line0 struct{ Limit amount }
		w.ok(w.call("buyer", "GET", "/v1/credit/line", nil, &line0), 200)
		if app.Status != "approved" || line0.Limit.Minor != 100_000_00 {
			t.Fatalf("completed: %s, limit %d", app.Status, line0.Limit.Minor)
		}
		w.refused(w.call("buyer", "POST", info, map[string]any{"established": "2019-04-01"}, nil), 409, "credit_line_exists")
		// The country is the buyer's registered one: a German buyer is refused; a US buyer
		// naming another country too.
		w.refused(w.call("buyer2", "POST", "/v1/credit/applications", creditApplication("DE", 500_000_00), nil), 422, "pay_later_us_only")
		w.refused(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("CA", 500_000_00), nil), 422, "country_mismatch")
		w.refused(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("US", 500_000_00), nil), 409, "credit_line_exists")

		o := w.confirmed()
		o = w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "pay_later"})
		w.refused(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 7}, nil), 422, "validation_failed")
		var offer loanView
		w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 3}, &offer), 201)
		if offer.State != "agreement_pending" || offer.Agreement.Principal.Minor != 3_000_00 || len(offer.Installment) != 3 ||
			offer.Agreement.APR <= 0 || offer.Agreement.APR >= 300_000 || offer.Agreement.APR%100 != 0 ||
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
		w.tick(24 * time.Hour) // Wednesday: the disbursement is requested, and the lender worker records the lender's payment
		var requested loanView
		w.ok(w.call("buyer", "GET", "/v1/loans/"+l.ID, nil, &requested), 200)
		if requested.State != "agreed" || requested.Disbursement == nil || requested.Disbursement.Status != "requested" {
			t.Fatalf("before the lender answered: %+v", requested)
		}
		w.lenderWorker()
		if got := w.get("buyer", o.ID); got.State != "in_production" || got.EscrowHeld != 3_000_00 {
			t.Fatalf("after the disbursement: %s, escrow %d", got.State, got.EscrowHeld)
		}
		w.ok(w.call("buyer", "GET", "/v1/loans/"+l.ID, nil, &l), 200)
		if l.State != "disbursed" || l.Balance.Minor != 3_000_00 || l.PayoffQuote.Minor != 3_000_00 {
			t.Fatalf("loan %+v", l) // month 1's fee (60.00) is covered by the first-month credit
		}
		var loans struct{ Items []loanView }
		w.ok(w.call("buyer", "GET", "/v1/credit/loans", nil, &loans), 200)
		if len(loans.Items) != 1 || loans.Items[0].ID != l.ID {
			t.Fatalf("loans %+v", loans)
		}
		r = w.ok(w.call("buyer", "GET", "/v1/credit/statements/2026-03", nil, nil), 200)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
			!strings.HasPrefix(string(r.body), "date,type,loan_id,order_id,installment,description,amount,balance\n") ||
			!strings.Contains(string(r.body), "2026-03-04,draw,"+l.ID+","+o.ID+",,") {
			t.Fatalf("statement %s:\n%s", ct, r.body)
		}
		w.refused(w.call("buyer", "GET", "/v1/credit/statements/2026-13", nil, nil), 422, "invalid_period")
		// The payoff is requested (202): the bank worker records the bank's answer later.
		w.ok(w.call("buyer", "POST", "/v1/loans/"+l.ID+"/pay-off", map[string]any{}, &l), 202)
		if d := l.BankDebit; l.State != "disbursed" || d == nil || d.Kind != "payoff" || d.Status != "requested" ||
			d.Amount.Minor != 3_000_00 || d.AccountLast4 == "" {
			t.Fatalf("payoff requested: %s, debit %+v", l.State, l.BankDebit)
		}
		var pending struct{ Items []struct{ ID, Status string } }
		w.ok(w.call("admin", "GET", "/v1/credit/bank-debits?loan_id="+l.ID, nil, &pending), 200)
		if len(pending.Items) != 1 || pending.Items[0].ID != l.BankDebit.ID || pending.Items[0].Status != "requested" {
			t.Fatalf("admin's list of debits %+v", pending)
		}
		w.bankWorker()
		w.ok(w.call("buyer", "GET", "/v1/loans/"+l.ID, nil, &l), 200)
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

// TestPayLaterStatementsThroughHTTP drives the monthly statements through the API: March 2026
// closes at 00:00 UTC on April 1 and is listed and served as stored (closed) in CSV, JSON and a
// PDF whose text shows the closing balance and the due date; April is in progress; a supplier
// and another buyer are told there is no such statement, an admin names the buyer. Then every
// debit is refused and an admin charges the past-due loan off: the line closes and the ledger
// check holds. R11
func TestPayLaterStatementsThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		w.ok(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("US", 500_000_00), nil), 202)
		w.lenderWorker()
		o := w.confirmed()
		o = w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "pay_later"})
		var l loanView
		w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 3}, &l), 201)
		w.ok(w.call("buyer", "POST", "/v1/loans/"+l.ID+"/accept", map[string]any{}, &l), 200)
		w.tick(48 * time.Hour) // the lender pays on Wednesday March 4
		w.lenderWorker()
		w.clock.Set(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
		w.tick(0) // March closes
		var page struct {
			Items []struct {
				Period         string
				Status         string
				ClosingBalance amount `json:"closing_balance"`
				NextDueDate    string `json:"next_due_date"`
			}
		}
		w.ok(w.call("buyer", "GET", "/v1/credit/statements", nil, &page), 200)
		list := page.Items
		if len(list) != 1 || list[0].Period != "2026-03" || list[0].Status != "closed" || list[0].ClosingBalance.Minor != 3_000_00 ||
			!strings.HasPrefix(list[0].NextDueDate, "2026-04-02") {
			t.Fatalf("statements %+v", list)
		}
		var st struct {
			Period, Status string
			Draws          amount
		}
		w.ok(w.call("buyer", "GET", "/v1/credit/statements/2026-03?format=json", nil, &st), 200)
		if st.Period != "2026-03" || st.Status != "closed" || st.Draws.Minor != 3_000_00 {
			t.Fatalf("March as JSON %+v", st)
		}
		r := w.ok(w.call("buyer", "GET", "/v1/credit/statements/2026-03?format=pdf", nil, nil), 200)
		if r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.body), "%PDF-") ||
			r.header.Get("Content-Disposition") != `attachment; filename="statement-2026-03.pdf"` {
			t.Fatalf("PDF %s %q", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
		}
		again := w.ok(w.call("admin", "GET", "/v1/credit/statements/2026-03?format=pdf&buyer_id="+w.ids["buyer"], nil, nil), 200)
		if string(again.body) != string(r.body) {
			t.Fatal("the same stored statement gave another PDF")
		}
		cmd := exec.Command("pdftotext", "-", "-")
		cmd.Stdin = strings.NewReader(string(r.body))
		text, err := cmd.Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		flat := strings.Join(strings.Fields(string(text)), " ")
		for _, want := range []string{"March 2026", "Closing balance", "USD 3,000.00", "Next payment due on 2 April 2026", "USD 1,000.00"} {
			if !strings.Contains(flat, want) {
				t.Errorf("the PDF's text lacks %q:\n%s", want, text)
			}
		}
		var apr struct{ Status string }
		w.ok(w.call("buyer", "GET", "/v1/credit/statements/2026-04?format=json", nil, &apr), 200)
		if apr.Status != "in_progress" {
			t.Fatalf("April is %s", apr.Status)
		}
		w.refused(w.call("buyer", "GET", "/v1/credit/statements/2026-05", nil, nil), 404, "credit_statement_not_found")
		w.refused(w.call("supplier", "GET", "/v1/credit/statements/2026-03?buyer_id="+w.ids["buyer"], nil, nil), 404, "credit_statement_not_found")
		w.refused(w.call("buyer2", "GET", "/v1/credit/statements/2026-03?buyer_id="+w.ids["buyer"], nil, nil), 404, "credit_line_not_found")
		w.refused(w.call("buyer", "GET", "/v1/credit/statements/2026-03?format=xml", nil, nil), 422, "validation_failed")

		// Every debit refused: past due on April 2, then an admin charges the loan off.
		var sb struct {
			BuyerID       string `json:"buyer_id"`
			Fail, Sandbox bool
		}
		w.ok(w.call("admin", "POST", "/v1/credit/sandbox-bank", map[string]any{"buyer_id": w.ids["buyer"], "fail": true}, &sb), 200)
		if sb.BuyerID != w.ids["buyer"] || !sb.Fail || !sb.Sandbox {
			t.Fatalf("sandbox bank %+v", sb)
		}
		// The buyer named is one of the platform's buyers: not a made-up one, not a supplier.
		w.refused(w.call("admin", "POST", "/v1/credit/sandbox-bank", map[string]any{"buyer_id": "buy_none", "fail": true}, nil),
			404, "organization_not_found")
		w.refused(w.call("admin", "POST", "/v1/credit/sandbox-bank", map[string]any{"buyer_id": w.ids["supplier"], "fail": true}, nil),
			409, "not_a_buyer")
		w.refused(w.call("admin", "POST", "/v1/loans/"+l.ID+"/charge-off", map[string]any{}, nil), 409, "transition_not_allowed")
		w.clock.Set(time.Date(2026, 4, 2, 4, 0, 0, 0, time.UTC))
		w.tick(0)
		w.bankWorker() // the bank refuses the debit the due date requested
		var page2 struct {
			Items []struct {
				Status  string
				Sandbox bool
			}
		}
		w.ok(w.call("admin", "GET", "/v1/credit/bank-debits?loan_id="+l.ID, nil, &page2), 200)
		debits := page2.Items
		if len(debits) != 1 || debits[0].Status != "refused" || !debits[0].Sandbox {
			t.Fatalf("debits %+v: the sandbox's answer is labelled sandbox", debits)
		}
		w.ok(w.call("buyer", "GET", "/v1/loans/"+l.ID, nil, &l), 200)
		if l.State != "past_due" {
			t.Fatalf("loan %s after a refused debit", l.State)
		}
		w.refused(w.call("buyer", "POST", "/v1/loans/"+l.ID+"/charge-off", map[string]any{}, nil), 403, "role_not_allowed")
		w.ok(w.call("admin", "POST", "/v1/loans/"+l.ID+"/charge-off", map[string]any{}, &l), 200)
		if l.State != "charged_off" || l.Balance.Minor != 0 {
			t.Fatalf("after the charge-off: %s, balance %d", l.State, l.Balance.Minor)
		}
		w.refused(w.call("buyer", "GET", "/v1/credit/line", nil, nil), 404, "credit_line_not_found")
		var check struct{ Violations []any }
		w.ok(w.call("admin", "GET", "/v1/ledger/check", nil, &check), 200)
		if len(check.Violations) != 0 {
			t.Fatalf("ledger: %+v", check.Violations)
		}
	})
}
