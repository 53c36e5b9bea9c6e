package credit

import (
	"math/big"
	"time"

	"github.com/tradeassure/tradeassure/money"
)

// APRMax is the cap on every agreement's annual percentage rate: below 30% (rails.md §8.1 [S2]).
const APRMax money.Rate = 300_000

// The APR is searched in steps of aprStep (0.01%) up to aprSearchMax (1,000%: far above any rate
// the sourced fees can reach).
const (
	aprStep      money.Rate = 100
	aprSearchMax money.Rate = 10_000_000
	daysPerUnit             = 30 // a month's odd days count as days/30 of a month (Regulation Z, Appendix J)
	unitsPerYear            = 12
)

// APR returns the annual percentage rate of the agreement by the actuarial method of
// Regulation Z (Appendix J): the monthly rate i at which the installments, discounted to the
// day the money is lent, are worth the principal; the APR is 12 × i. Each installment's time is
// counted from the latest disbursement date (DisbursementLatest: the lender pays by then, and a
// shorter first month only raises the rate, so this is the highest the APR can be) to its real
// due date, in whole months counted back from the due date plus the odd days as days/30 of a
// month; an installment t months and f of a month away is discounted by (1 + f·i)(1 + i)^t.
//
// The arithmetic is exact (math/big rationals, no floats): the rate is bisected in steps of
// 0.01% and the result floored to 0.01%, so APR(a) < APRMax exactly when the true rate is below
// the cap.
func APR(a Agreement) money.Rate {
	start := calendarDay(a.DisbursementLatest)
	if a.DisbursementLatest.IsZero() {
		start = calendarDay(a.AgreedAt)
	}
	principal := new(big.Rat).SetInt64(a.Principal.Minor)
	flows := make([]aprFlow, 0, len(a.Installments))
	for _, in := range a.Installments {
		months, days := monthsAndDays(start, calendarDay(in.DueDate))
		flows = append(flows, aprFlow{amount: in.Total.Minor, months: months, days: days})
	}
	// The present value falls as the rate rises: find the highest step whose value still covers
	// the principal.
	lo, hi := int64(0), int64(aprSearchMax/aprStep)
	if presentValue(flows, hi).Cmp(principal) >= 0 {
		return aprSearchMax
	}
	for hi-lo > 1 { // invariant: PV(lo) ≥ principal > PV(hi)
		mid := (lo + hi) / 2
		if presentValue(flows, mid).Cmp(principal) >= 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return money.Rate(lo) * aprStep
}

// aprFlow is one installment: its amount and how far it is from the start.
type aprFlow struct {
	amount       int64
	months, days int
}

// presentValue is the installments' value at an APR of steps × 0.01%: a monthly rate of
// steps / (12 × 10,000).
func presentValue(flows []aprFlow, steps int64) *big.Rat {
	i := big.NewRat(steps, unitsPerYear*int64(money.RatePerMillion/aprStep))
	one := big.NewRat(1, 1)
	growth := new(big.Rat).Add(one, i)
	pv := new(big.Rat)
	for _, f := range flows {
		d := new(big.Rat).Mul(i, big.NewRat(int64(f.days), daysPerUnit))
		d.Add(d, one)
		for range f.months {
			d.Mul(d, growth)
		}
		pv.Add(pv, new(big.Rat).Quo(new(big.Rat).SetInt64(f.amount), d))
	}
	return pv
}

// calendarDay is t's date in its own location, at midnight UTC, for counting days.
func calendarDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// monthsAndDays counts from start to end (dates, end not before start) in whole months counted
// back from end — each month back clamped to the end of a shorter month — and the days left.
func monthsAndDays(start, end time.Time) (months, days int) {
	for {
		back := addMonthsClamped(end, -(months + 1))
		if back.Before(start) {
			break
		}
		months++
	}
	from := addMonthsClamped(end, -months)
	return months, int(from.Sub(start).Hours()) / 24
}

// addMonthsClamped moves a date by n months, keeping its day or the last day of a shorter month.
func addMonthsClamped(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	last := time.Date(y, m+time.Month(n)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, m+time.Month(n), min(d, last), 0, 0, 0, 0, time.UTC)
}
