package credit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/money"
)

// workedExample is rails.md §8.1's table: US$10,000 over 6 months at 2.00% (months 1–2) and
// 0.50% (months 3–6) with a US$100 first-month credit. docs/pay-later.md shows the same rows.
var workedExample = []struct{ principal, fee, credit, total int64 }{
	{1_666_67, 200_00, 100_00, 1_766_67},
	{1_666_67, 200_00, 0, 1_866_67},
	{1_666_67, 50_00, 0, 1_716_67},
	{1_666_67, 50_00, 0, 1_716_67},
	{1_666_67, 50_00, 0, 1_716_67},
	{1_666_65, 50_00, 0, 1_716_65},
}

// TestWorkedExample ensures a six-month schedule matches rails.md §8.1 to the cent: equal
// principal with the rounding in the last installment, fees on the original principal, the
// first-month credit, net fees of US$500.00. R11
func TestWorkedExample(t *testing.T) {
	a, err := credit.Offer(usd(10_000_00), 6, credit.DefaultFeeSchedule(), credit.DefaultFirstMonthCredit(), t0, fed)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Installments) != 6 {
		t.Fatalf("%d installments", len(a.Installments))
	}
	for i, want := range workedExample {
		in := a.Installments[i]
		got := [4]int64{in.Principal.Minor, in.Fee.Minor, in.Credit.Minor, in.Total.Minor}
		if got != [4]int64{want.principal, want.fee, want.credit, want.total} || in.N != i+1 {
			t.Errorf("installment %d: %v, want %+v", i+1, got, want)
		}
	}
	checks := []struct {
		name      string
		got, want money.Amount
	}{
		{"total fees", a.TotalFees, usd(600_00)},
		{"credit applied", a.CreditApplied, usd(100_00)},
		{"net fees", a.NetFees, usd(500_00)},
		{"total cost", a.TotalCost, usd(10_500_00)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
		}
	}
	if a.Installments[0].Rate.String() != "2%" || a.Installments[2].Rate.String() != "0.5%" {
		t.Errorf("rates %s, %s", a.Installments[0].Rate, a.Installments[2].Rate)
	}
}

// TestFirstMonthCredit ensures the credit lowers only installment 1's fee, never below zero,
// and that any excess is forfeited rather than carried to month 2 (rails.md §8.1 assumption).
// R11
func TestFirstMonthCredit(t *testing.T) {
	tests := []struct {
		name              string
		principal, credit int64
		fee1, credit1     int64
		fee2              int64
	}{
		{"credit below the fee", 10_000_00, 100_00, 200_00, 100_00, 200_00},
		{"credit equal to the fee", 5_000_00, 100_00, 100_00, 100_00, 100_00},
		{"credit above the fee: excess forfeited", 1_000_00, 100_00, 20_00, 20_00, 20_00},
		{"no credit", 10_000_00, 0, 200_00, 0, 200_00},
	}
	for _, tc := range tests {
		a, err := credit.Offer(usd(tc.principal), 3, credit.DefaultFeeSchedule(), usd(tc.credit), t0, fed)
		if err != nil {
			t.Fatal(err)
		}
		in1, in2 := a.Installments[0], a.Installments[1]
		if in1.Fee.Minor != tc.fee1 || in1.Credit.Minor != tc.credit1 || in2.Credit.Minor != 0 || in2.Fee.Minor != tc.fee2 {
			t.Errorf("%s: fee1 %s credit1 %s fee2 %s credit2 %s", tc.name, in1.Fee, in1.Credit, in2.Fee, in2.Credit)
		}
		if in1.Total != usd(in1.Principal.Minor+tc.fee1-tc.credit1) || a.CreditApplied.Minor != tc.credit1 {
			t.Errorf("%s: total %s applied %s", tc.name, in1.Total, a.CreditApplied)
		}
	}
}

// TestOfferTerms ensures terms of 1 to 6 months are offered — the Early rate in months 1–2 and
// Late from month 3, installments summing to the principal — and that a longer or shorter
// term, a too-small or too-large principal, and rates outside the sourced range are refused.
// R11
func TestOfferTerms(t *testing.T) {
	for term := credit.TermMonthsMin; term <= credit.TermMonthsMax; term++ {
		a, err := credit.Offer(usd(1_234_57), term, credit.DefaultFeeSchedule(), usd(100_00), t0, fed)
		if err != nil {
			t.Fatalf("term %d: %v", term, err)
		}
		principal := int64(0)
		for _, in := range a.Installments {
			principal += in.Principal.Minor
			if want := credit.DefaultFeeSchedule().RateFor(in.N); in.Rate != want || (in.N <= 2) != (in.Rate == 20_000) {
				t.Errorf("term %d installment %d: rate %s", term, in.N, in.Rate)
			}
		}
		if principal != 1_234_57 || len(a.Installments) != term {
			t.Errorf("term %d: principal %d over %d installments", term, principal, len(a.Installments))
		}
	}
	refused := []struct {
		name      string
		principal int64
		term      int
		rates     credit.FeeSchedule
		reason    string
	}{
		{"7 months", 10_000_00, 7, credit.DefaultFeeSchedule(), credit.ReasonInvalidTerm},
		{"0 months", 10_000_00, 0, credit.DefaultFeeSchedule(), credit.ReasonInvalidTerm},
		{"below the minimum", 99_99, 3, credit.DefaultFeeSchedule(), credit.ReasonInvalidAmount},
		{"above the line maximum", 150_000_01, 3, credit.DefaultFeeSchedule(), credit.ReasonInvalidAmount},
		{"rate above 2.75%", 10_000_00, 3, credit.FeeSchedule{Early: 27_501, Late: 5_000}, "invalid_fee_schedule"},
	}
	for _, tc := range refused {
		if _, err := credit.Offer(usd(tc.principal), tc.term, tc.rates, usd(0), t0, fed); !isReason(err, tc.reason) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.reason)
		}
	}
}

// TestDueDates ensures installments fall due monthly on the agreement's day of the month,
// clamped to shorter months and counted from the agreement (not the previous due date), moved
// to the next business day when the day is a weekend or a Federal Reserve holiday — or to the
// previous one when the next is in another month (modified following). R11
func TestDueDates(t *testing.T) {
	tests := []struct {
		agreed string
		want   []string
	}{
		// 2025-04-05 and 2025-07-05 are Saturdays.
		{"2025-03-05", []string{"2025-04-07", "2025-05-05", "2025-06-05", "2025-07-07", "2025-08-05", "2025-09-05"}},
		// The 31st: February clamps to the 28th, and March goes back to the 31st. May 31 is a
		// Saturday at the end of its month, so the due date moves back to Friday May 30.
		{"2025-01-31", []string{"2025-02-28", "2025-03-31", "2025-04-30", "2025-05-30", "2025-06-30", "2025-07-31"}},
		// 2025-10-11 is a Saturday before Columbus Day; 2025-11-11 is Veterans Day (a Tuesday);
		// 2026-01-11 is a Sunday.
		{"2025-09-11", []string{"2025-10-14", "2025-11-12", "2025-12-11", "2026-01-12", "2026-02-11", "2026-03-11"}},
	}
	for _, tc := range tests {
		a, err := credit.Offer(usd(6_000_00), 6, credit.DefaultFeeSchedule(), usd(0), date(tc.agreed).Add(9*time.Hour), fed)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range tc.want {
			if got := a.Installments[i].DueDate.Format(time.DateOnly); got != want {
				t.Errorf("agreed %s: installment %d due %s, want %s", tc.agreed, i+1, got, want)
			}
		}
	}
}

// TestDisbursementDay ensures the lender's money is expected 2 working days after the
// agreement and at the latest 3, on the US Federal Reserve calendar: across a weekend, across
// Thanksgiving, Christmas and Independence Day, keeping the time of day for the durable timer.
// R11 R21
func TestDisbursementDay(t *testing.T) {
	tests := []struct {
		name        string
		agreed      string
		due, latest string
	}{
		{"Wednesday", "2025-03-05", "2025-03-07", "2025-03-10"},
		{"Friday, across the weekend", "2025-03-07", "2025-03-11", "2025-03-12"},
		{"Saturday", "2025-03-08", "2025-03-11", "2025-03-12"},
		{"before Thanksgiving", "2025-11-26", "2025-12-01", "2025-12-02"},
		{"before Christmas", "2025-12-23", "2025-12-26", "2025-12-29"},
		{"before Independence Day", "2025-07-03", "2025-07-08", "2025-07-09"},
		{"before New Year's Day", "2025-12-30", "2026-01-02", "2026-01-05"},
	}
	for _, tc := range tests {
		at := date(tc.agreed).Add(14*time.Hour + 5*time.Minute)
		a, err := credit.Offer(usd(10_000_00), 6, credit.DefaultFeeSchedule(), usd(100_00), at, fed)
		if err != nil {
			t.Fatal(err)
		}
		if !a.DisbursementDue.Equal(date(tc.due).Add(14*time.Hour+5*time.Minute)) || a.DisbursementLatest.Format(time.DateOnly) != tc.latest {
			t.Errorf("%s: due %s latest %s, want %s and %s", tc.name, a.DisbursementDue.Format(time.DateTime),
				a.DisbursementLatest.Format(time.DateOnly), tc.due, tc.latest)
		}
	}
}

// TestFundsDeadline ensures the lender's money is overdue at the end of the 3rd US business day
// after the agreement, in New York, whatever the agreement's time of day, across a change of
// daylight saving time, and for an agreement read back from JSON (its zone then a fixed
// offset). R11 R21
func TestFundsDeadline(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		agreed time.Time
		want   time.Time // UTC
	}{
		{"before Thanksgiving, 10:00", time.Date(2025, 11, 26, 10, 0, 0, 0, ny), time.Date(2025, 12, 3, 5, 0, 0, 0, time.UTC)},
		{"before Thanksgiving, 23:30", time.Date(2025, 11, 26, 23, 30, 0, 0, ny), time.Date(2025, 12, 3, 5, 0, 0, 0, time.UTC)},
		{"Friday, across the weekend", time.Date(2025, 3, 7, 9, 0, 0, 0, ny), time.Date(2025, 3, 13, 4, 0, 0, 0, time.UTC)},
		// Daylight saving time begins on Sunday March 8, 2026: the deadline is midnight EDT.
		{"across daylight saving time", time.Date(2026, 3, 5, 10, 0, 0, 0, ny), time.Date(2026, 3, 11, 4, 0, 0, 0, time.UTC)},
		{"before Christmas", time.Date(2025, 12, 23, 16, 0, 0, 0, ny), time.Date(2025, 12, 30, 5, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		a, err := credit.Offer(usd(10_000_00), 6, credit.DefaultFeeSchedule(), usd(100_00), tc.agreed, fed)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.FundsDeadline(ny); !got.Equal(tc.want) {
			t.Errorf("%s: overdue at %s, want %s", tc.name, got.UTC(), tc.want)
		}
		body, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back credit.Agreement
		if err := json.Unmarshal(body, &back); err != nil {
			t.Fatal(err)
		}
		if got := back.FundsDeadline(ny); !got.Equal(tc.want) {
			t.Errorf("%s, read back: overdue at %s, want %s", tc.name, got.UTC(), tc.want)
		}
	}
}
