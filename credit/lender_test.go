package credit_test

import (
	"context"
	"testing"

	"github.com/tradeassure/tradeassure/credit"
)

// TestBuiltInLender ensures the built-in lender answers each request from the request alone, so
// asking again with the same reference gets the same answer: a decision is the policy's as of the
// request's time; a disbursement is accepted for the amount and the payment reference asked for,
// naming no transfer of its own (the built-in lender has no money: it makes none). Draws and collections are the domain's: a draw beyond
// the available credit is refused with credit_limit_exceeded, a collection is what is due —
// nothing before the first due date. R11
func TestBuiltInLender(t *testing.T) {
	ctx := context.Background()
	line := openLine(t, 10_000_00)
	if _, err := credit.Draw(line, credit.DrawRequest{OrderID: "ord_1", Amount: usd(10_000_01), TermMonths: 6}, t0, fed); !isReason(err, credit.ReasonLimitExceeded) {
		t.Errorf("draw over the line: %v", err)
	}
	if _, err := credit.Draw(line, credit.DrawRequest{Amount: usd(1_000_00), TermMonths: 6}, t0, fed); !isReason(err, "order_required") {
		t.Errorf("draw without an order: %v", err)
	}
	req := credit.DecisionRequest{Reference: "plr_1", Application: application(), At: t0}
	first, err := lender.Decide(ctx, req)
	again, err2 := lender.Decide(ctx, req)
	if err != nil || err2 != nil || first.Status != credit.DecisionApproved || first.Limit != again.Limit ||
		!first.DecidedAt.Equal(t0) || !again.DecidedAt.Equal(t0) {
		t.Fatalf("decision %+v %v, again %+v %v", first, err, again, err2)
	}
	k := newKit(t, 10_000_00, 6)
	k.accept(t0)
	dr := credit.DisbursementRequest{Reference: "plr_2", LoanID: k.loan.ID, OrderID: "ord_1", Amount: usd(10_000_00),
		PaymentReference: "TA-ORD1-1", At: k.loan.Agreement.DisbursementDue}
	d, err := lender.Disburse(ctx, dr)
	if err != nil || d.Amount != usd(10_000_00) || d.PaymentReference != "TA-ORD1-1" || d.LenderReference != "" {
		t.Fatalf("disbursement %+v %v", d, err)
	}
	if d2, _ := lender.Disburse(ctx, dr); d2 != d {
		t.Errorf("asked again: %+v, first %+v", d2, d)
	}
	if err := d.Check(dr, k.loan); err != nil {
		t.Errorf("check: %v", err)
	}
	k.disburse(d.At)
	if _, err := credit.Collect(*k.loan, k.due(1).AddDate(0, 0, -1)); !isReason(err, credit.ReasonNothingDue) {
		t.Errorf("collect before the due date: %v", err)
	}
	c, err := credit.Collect(*k.loan, k.due(1))
	if err != nil || c.Amount != usd(1_766_67) {
		t.Fatalf("collection %+v %v", c, err)
	}
	if lender.ID() != "builtin" || (credit.BuiltIn{}).ID() != "builtin" {
		t.Errorf("lender ID %q", lender.ID())
	}
	// A zero BuiltIn falls back to the default policy.
	if d, err := (credit.BuiltIn{}).Apply(application(), credit.History{}, t0); err != nil || d.Limit != usd(80_000_00) {
		t.Errorf("zero BuiltIn: %+v %v", d, err)
	}
}

// TestDisbursementCheck ensures a lender's acceptance of a disbursement is recorded only when it
// matches the loan: the agreement's principal, quoting the order payment's reference; the
// lender's own reference is optional (the built-in lender gives none). R11
func TestDisbursementCheck(t *testing.T) {
	k := newKit(t, 10_000_00, 6)
	req := credit.DisbursementRequest{Reference: "plr_1", LoanID: k.loan.ID, OrderID: "ord_1", Amount: usd(10_000_00),
		PaymentReference: "TA-1"}
	good := credit.Disbursement{Amount: usd(10_000_00), PaymentReference: "TA-1", LenderReference: "L-1"}
	for name, d := range map[string]credit.Disbursement{
		"less":      {Amount: usd(9_999_99), PaymentReference: "TA-1", LenderReference: "L-1"},
		"more":      {Amount: usd(10_000_01), PaymentReference: "TA-1", LenderReference: "L-1"},
		"other ref": {Amount: usd(10_000_00), PaymentReference: "TA-2", LenderReference: "L-1"},
	} {
		if err := d.Check(req, k.loan); !isReason(err, credit.ReasonDisbursementMismatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := good.Check(req, k.loan); err != nil {
		t.Errorf("a matching acceptance: %v", err)
	}
	good.LenderReference = ""
	if err := good.Check(req, k.loan); err != nil {
		t.Errorf("an acceptance without the lender's reference: %v", err)
	}
}

// TestUnderwriteHistory ensures a buyer with a charged-off loan, or a loan past due now, is
// declined with every reason, whatever its revenue. R11
func TestUnderwriteHistory(t *testing.T) {
	for name, tc := range map[string]struct {
		h    credit.History
		want []string
	}{
		"charged off": {credit.History{ChargedOffLoans: 1}, []string{credit.ReasonChargedOffLoan}},
		"past due":    {credit.History{PastDueLoans: 2}, []string{credit.ReasonLoanPastDue}},
		"both":        {credit.History{ChargedOffLoans: 1, PastDueLoans: 1}, []string{credit.ReasonChargedOffLoan, credit.ReasonLoanPastDue}},
	} {
		d := lender.Policy.Underwrite(application(), tc.h, t0)
		var got []string
		for _, r := range d.Reasons {
			got = append(got, r.Code)
		}
		if d.Status != credit.DecisionDeclined || !d.Limit.IsZero() || len(got) != len(tc.want) || got[0] != tc.want[0] ||
			got[len(got)-1] != tc.want[len(tc.want)-1] {
			t.Errorf("%s: %s %v", name, d.Status, got)
		}
	}
	if d := lender.Policy.Underwrite(application(), credit.History{}, t0); d.Status != credit.DecisionApproved {
		t.Errorf("a clean history: %s", d.Status)
	}
}
