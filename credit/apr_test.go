package credit_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/money"
)

// TestAPRWorkedExample ensures the worked example's APR is computed by the actuarial method over
// its real dates: lent on Monday March 10, 2025 (the latest disbursement after the agreement on
// Wednesday March 5), repaid on April 7, May 5, June 5, July 7, August 5 and September 5. An
// independent float computation of the same equation — months counted back from each due date,
// odd days as days/30 — agrees to 0.01%. R11
func TestAPRWorkedExample(t *testing.T) {
	a, err := credit.Offer(usd(10_000_00), 6, credit.DefaultFeeSchedule(), credit.DefaultFirstMonthCredit(), t0, fed)
	if err != nil {
		t.Fatal(err)
	}
	if a.APR != 176_800 || a.APR.String() != "17.68%" {
		t.Fatalf("APR %s", a.APR)
	}
	// (whole months, odd days) from March 10 to each due date.
	times := [][2]float64{{0, 28}, {1, 26}, {2, 26}, {3, 28}, {4, 26}, {5, 26}}
	pv := func(apr float64) float64 {
		i, v := apr/12, 0.0
		for k, in := range a.Installments {
			v += float64(in.Total.Minor) / ((1 + times[k][1]/30*i) * math.Pow(1+i, times[k][0]))
		}
		return v
	}
	lo, hi := 0.0, 1.0
	for range 100 {
		if mid := (lo + hi) / 2; pv(mid) >= 10_000_00 {
			lo = mid
		} else {
			hi = mid
		}
	}
	if got := float64(a.APR) / 1e6; lo < got || lo >= got+0.0001 {
		t.Errorf("float APR %.6f, exact floor %.4f", lo, got)
	}
}

// TestAPRCap ensures every agreement stays below 30% APR (rails.md §8.1 [S2]) across terms of 1
// to 6 months, amounts from US$100 to US$150,000 and line rates from the bottom to the top of the
// sourced ranges: Offer refuses rates that reach the cap (2.00% over 2 months on US$150,000 is
// 34% APR with a short first month), and OfferUnderCap lowers the months 1–2 rate to the highest
// 0.05% step that stays below it, keeping the line's rates when they already do. R11
func TestAPRCap(t *testing.T) {
	if a, err := credit.Offer(usd(150_000_00), 2, credit.DefaultFeeSchedule(), usd(0), t0, fed); !isReason(err, credit.ReasonAPRAboveCap) || a.APR != 341_300 {
		t.Errorf("2.00%% over 2 months: APR %s, %v", a.APR, err)
	}
	lines := []credit.FeeSchedule{{Early: 12_500, Late: 2_500}, credit.DefaultFeeSchedule(), {Early: 27_500, Late: 7_500}}
	for _, rates := range lines {
		for _, principal := range []int64{100_00, 1_000_00, 10_000_00, 49_999_99, 150_000_00} {
			for term := credit.TermMonthsMin; term <= credit.TermMonthsMax; term++ {
				name := fmt.Sprintf("%s/%s %d over %d", rates.Early, rates.Late, principal, term)
				a, err := credit.OfferUnderCap(usd(principal), term, rates, credit.DefaultFirstMonthCredit(), t0, fed)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if a.APR >= credit.APRMax || a.APR != credit.APR(a) || a.Rates.Late != rates.Late || a.Rates.Validate() != nil {
					t.Errorf("%s: APR %s, rates %+v", name, a.APR, a.Rates)
				}
				if a.Rates.Early == rates.Early {
					continue
				}
				// Lowered: one step higher would reach the cap.
				up := a.Rates
				up.Early += credit.EarlyRateStep
				if _, err := credit.Offer(usd(principal), term, up, credit.DefaultFirstMonthCredit(), t0, fed); !isReason(err, credit.ReasonAPRAboveCap) {
					t.Errorf("%s: lowered to %s, but %s stays below the cap", name, a.Rates.Early, up.Early)
				}
			}
		}
	}
}

// TestFeeScheduleValidate ensures a line's rates are in the sourced ranges (rails.md §8.1 [S2]):
// 1.25–2.75% a month in months 1–2, 0.25–0.75% from month 3, and never higher later. R11
func TestFeeScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		early, late money.Rate
		ok          bool
	}{
		{12_500, 2_500, true}, {27_500, 7_500, true}, {20_000, 5_000, true},
		{12_499, 2_500, false}, {27_501, 5_000, false}, {20_000, 2_499, false}, {20_000, 7_501, false},
		{0, 0, false}, {-1, 5_000, false},
	} {
		err := credit.FeeSchedule{Early: tc.early, Late: tc.late}.Validate()
		if (err == nil) != tc.ok || (err != nil && !isReason(err, "invalid_fee_schedule")) {
			t.Errorf("%s/%s: %v", tc.early, tc.late, err)
		}
	}
}
