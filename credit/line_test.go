package credit_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tradeassure/tradeassure/credit"
)

// TestLimitNeverExceeded ensures no sequence of reservations takes a US$150,000 line beyond its
// limit: the boundary itself is reachable, one cent more is refused with
// credit_limit_exceeded, and restored credit can be reserved again. R11
func TestLimitNeverExceeded(t *testing.T) {
	line := openLine(t, 150_000_00)
	if line.Limit != credit.LimitMax || line.Available() != credit.LimitMax {
		t.Fatalf("limit %s available %s", line.Limit, line.Available())
	}
	for _, amount := range []int64{100_000_00, 49_999_99} {
		if err := line.Reserve(usd(amount)); err != nil {
			t.Fatal(err)
		}
	}
	if err := line.Reserve(usd(2)); !isReason(err, credit.ReasonLimitExceeded) {
		t.Fatalf("2 cents over: %v", err)
	}
	if err := line.Reserve(usd(1)); err != nil || !line.Available().IsZero() {
		t.Fatalf("the last cent: %v, available %s", err, line.Available())
	}
	if err := line.Reserve(usd(1)); !isReason(err, credit.ReasonLimitExceeded) {
		t.Fatalf("beyond a full line: %v", err)
	}
	if err := line.Draw(usd(100_000_00)); err != nil {
		t.Fatal(err)
	}
	if err := line.Restore(usd(40_000_00)); err != nil || line.Available() != usd(40_000_00) {
		t.Fatalf("restore: %v, available %s", err, line.Available())
	}
	if err := line.Reserve(usd(40_000_01)); !isReason(err, credit.ReasonLimitExceeded) {
		t.Fatalf("over the restored credit: %v", err)
	}

	// Random sequences of reservations, draws, releases and repayments never break the limit.
	r := rand.New(rand.NewPCG(11, 150_000))
	for run := 0; run < 200; run++ {
		l := openLine(t, 150_000_00)
		for i := 0; i < 50; i++ {
			amount := usd(r.Int64N(60_000_00) + 1)
			switch r.IntN(4) {
			case 0:
				before := l.Available()
				err := l.Reserve(amount)
				if (err == nil) != (amount.Minor <= before.Minor) {
					t.Fatalf("reserve %s of %s available: %v", amount, before, err)
				}
			case 1:
				_ = l.Draw(amount.Min(l.Reserved))
			case 2:
				_ = l.Release(amount.Min(l.Reserved))
			case 3:
				_ = l.Restore(amount.Min(l.Used))
			}
			if l.Used.Minor+l.Reserved.Minor > credit.LimitMax.Minor || l.Available().IsNegative() {
				t.Fatalf("line beyond its limit: %+v", l)
			}
		}
	}
}

// TestLineBounds ensures a line's own arithmetic refuses what only a bug could ask — drawing
// more than is reserved, restoring more than is used — and that a line cannot be opened above
// US$150,000 or reserve a non-positive amount. R11
func TestLineBounds(t *testing.T) {
	line := openLine(t, 10_000_00)
	if err := line.Draw(usd(1)); !isReason(err, "credit_line_inconsistent") {
		t.Errorf("draw without reservation: %v", err)
	}
	if err := line.Restore(usd(1)); !isReason(err, "credit_line_inconsistent") {
		t.Errorf("restore unused: %v", err)
	}
	if err := line.Reserve(usd(0)); !isReason(err, credit.ReasonInvalidAmount) {
		t.Errorf("reserve zero: %v", err)
	}
	app := application()
	d := lender.Policy.Underwrite(app, credit.History{}, t0)
	d.Limit = usd(150_000_01)
	if _, err := credit.OpenLine("line_x", app, d, t0); !isReason(err, credit.ReasonLimitExceeded) {
		t.Errorf("a line above US$150,000: %v", err)
	}
	line.Close()
	if err := line.Reserve(usd(1)); !isReason(err, credit.ReasonLineClosed) {
		t.Errorf("reserve on a closed line: %v", err)
	}
}
