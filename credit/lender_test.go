package credit_test

import (
	"testing"

	"github.com/tradeassure/tradeassure/credit"
)

// TestBuiltInLender ensures the built-in lender answers each step from its inputs alone: a draw
// beyond the available credit is refused with credit_limit_exceeded, a disbursement is the
// accepted loan's principal for its order, and a collection is what is due — nothing before the
// first due date. R11
func TestBuiltInLender(t *testing.T) {
	line := openLine(t, 10_000_00)
	if _, err := lender.Draw(line, credit.DrawRequest{OrderID: "ord_1", Amount: usd(10_000_01), TermMonths: 6}, t0); !isReason(err, credit.ReasonLimitExceeded) {
		t.Errorf("draw over the line: %v", err)
	}
	if _, err := lender.Draw(line, credit.DrawRequest{Amount: usd(1_000_00), TermMonths: 6}, t0); !isReason(err, "order_required") {
		t.Errorf("draw without an order: %v", err)
	}
	k := newKit(t, 10_000_00, 6)
	if _, err := lender.Disburse(*k.loan, t0); !isReason(err, credit.ReasonNotAllowed) {
		t.Errorf("disburse before acceptance: %v", err)
	}
	k.accept(t0)
	d, err := lender.Disburse(*k.loan, k.loan.Agreement.DisbursementDue)
	if err != nil || d.Amount != usd(10_000_00) || d.OrderID != "ord_1" || d.Reference == "" {
		t.Fatalf("disbursement %+v %v", d, err)
	}
	k.disburse(d.At)
	if _, err := lender.Collect(*k.loan, k.due(1).AddDate(0, 0, -1)); !isReason(err, credit.ReasonNothingDue) {
		t.Errorf("collect before the due date: %v", err)
	}
	c, err := lender.Collect(*k.loan, k.due(1))
	if err != nil || c.Amount != usd(1_766_67) {
		t.Fatalf("collection %+v %v", c, err)
	}
	if lender.ID() != "builtin" || (credit.BuiltIn{}).ID() != "builtin" {
		t.Errorf("lender ID %q", lender.ID())
	}
	// A zero BuiltIn falls back to the default policy.
	if d, err := (credit.BuiltIn{Calendar: fed}).Apply(application(), t0); err != nil || d.Limit != usd(80_000_00) {
		t.Errorf("zero BuiltIn: %+v %v", d, err)
	}
}
