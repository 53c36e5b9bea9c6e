package credit

import (
	"time"

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Terms and amounts of a draw.
const (
	TermMonthsMin = 1
	TermMonthsMax = 6 // R11: each purchase financed for up to six months
	// EarlyMonths is how many months the higher Early rate applies: months 1–2 (rails.md §8.1
	// [S2]); months 3 and later pay the Late rate.
	EarlyMonths = 2
)

// Bounds on money, in USD minor units.
var (
	// LimitMax is the largest credit line (R11: up to US$150,000).
	LimitMax = usd(150_000_00)
	// PrincipalMin is the smallest draw. Assumed: the lender's minimum draw was not found
	// (rails.md §8.1, §10.6); US$100 keeps every installment of a six-month schedule positive.
	PrincipalMin = usd(100_00)
	// FirstMonthCreditMax bounds a promotional fee credit, so a typo cannot pay a loan.
	FirstMonthCreditMax = usd(1_000_00)
)

// The sourced monthly fee rates (rails.md §8.1 [S2]): 1.25%–2.75% a month in months 1–2 and
// 0.25%–0.75% from month 3, set by creditworthiness.
const (
	EarlyRateMin money.Rate = 12_500
	EarlyRateMax money.Rate = 27_500
	LateRateMin  money.Rate = 2_500
	LateRateMax  money.Rate = 7_500
	// MonthlyRateMax is the highest monthly fee rate accepted.
	MonthlyRateMax = EarlyRateMax
)

// Disbursement timing in business days after the agreement (R11: funds arrive 1–3 working
// days after the loan agreement is completed).
const (
	DisbursementDaysMin      = 1
	DisbursementDaysExpected = 2 // when the built-in lender pays (the disbursement timer)
	DisbursementDaysMax      = 3 // the latest the funds may arrive
)

// FeeSchedule is a line's monthly fee rates, each applied to the loan's original principal
// (rails.md §8.1 [S2]: monthly fee = principal × monthly fee rate).
type FeeSchedule struct {
	Early money.Rate `json:"early"` // months 1–2
	Late  money.Rate `json:"late"`  // months 3 and later
}

// DefaultFeeSchedule returns the built-in lender's rates: 2.00% in months 1–2 and 0.50% from
// month 3, inside the sourced ranges (1.25–2.75% and 0.25–0.75%, rails.md §8.1 [S2]) and the
// rates of the worked example there.
func DefaultFeeSchedule() FeeSchedule { return FeeSchedule{Early: 20_000, Late: 5_000} }

// DefaultFirstMonthCredit is the credit applied to the first month's fee of each loan (R11).
// Assumed: the amount was not found (rails.md §8.1 "Not found", §10.6); US$100 is the value of
// the worked example there.
func DefaultFirstMonthCredit() money.Amount { return usd(100_00) }

// RateFor returns the monthly rate of month n (1-based).
func (f FeeSchedule) RateFor(n int) money.Rate {
	if n <= EarlyMonths {
		return f.Early
	}
	return f.Late
}

// Validate checks the rates are in the sourced ranges — months 1–2 at EarlyRateMin..EarlyRateMax,
// later months at LateRateMin..LateRateMax — and that the fee drops, never rises, after month 2.
func (f FeeSchedule) Validate() error {
	switch {
	case f.Early < EarlyRateMin || f.Early > EarlyRateMax:
		return fault.FieldErr("rates.early", "invalid_fee_schedule", "the monthly fee rate of months 1–2 is between %s and %s",
			EarlyRateMin, EarlyRateMax)
	case f.Late < LateRateMin || f.Late > LateRateMax:
		return fault.FieldErr("rates.late", "invalid_fee_schedule", "the monthly fee rate from month 3 is between %s and %s",
			LateRateMin, LateRateMax)
	case f.Early < f.Late: // implied by the ranges today; kept so that widening one cannot invert the schedule
		return fault.FieldErr("rates.late", "invalid_fee_schedule", "the fee rate from month 3 is not above the rate of months 1–2")
	}
	return nil
}

// InstallmentStatus is where one installment is.
type InstallmentStatus string

// The installment statuses.
const (
	Scheduled InstallmentStatus = "scheduled" // not yet billed
	Billed    InstallmentStatus = "billed"    // its fee is charged; payment is due (past due if a debit failed)
	Paid      InstallmentStatus = "paid"
	Cancelled InstallmentStatus = "cancelled" // not owed: the loan was repaid before its month began
)

// Installment is one monthly repayment: a share of the principal, the month's fee on the
// original principal, the first-month credit (installment 1 only) and what is debited.
type Installment struct {
	N         int          `json:"n"`
	DueDate   time.Time    `json:"due_date"`
	Principal money.Amount `json:"principal"`
	Rate      money.Rate   `json:"rate"`
	Fee       money.Amount `json:"fee"`
	Credit    money.Amount `json:"credit"` // subtracted from Fee, never below zero
	Total     money.Amount `json:"total"`  // Principal + Fee − Credit: the debit
	// Live state, on a Loan's copy of the schedule.
	Status InstallmentStatus `json:"status"`
	Paid   money.Amount      `json:"paid"` // received so far; it pays the net fee first
}

// Agreement is the loan agreement the buyer accepts: what is borrowed, at which rates, the
// whole schedule, what it costs in total, and when the money will arrive.
type Agreement struct {
	Principal    money.Amount  `json:"principal"`
	TermMonths   int           `json:"term_months"`
	Rates        FeeSchedule   `json:"rates"`
	Installments []Installment `json:"installments"`
	// TotalFees is every month's fee before the credit; CreditApplied the part of the
	// first-month credit used (the rest is forfeited); NetFees their difference, the cost of
	// the credit; TotalCost what the buyer repays in all: Principal + NetFees, the sum of the
	// installments.
	TotalFees     money.Amount `json:"total_fees"`
	CreditOffered money.Amount `json:"credit_offered"`
	CreditApplied money.Amount `json:"credit_applied"`
	NetFees       money.Amount `json:"net_fees"`
	TotalCost     money.Amount `json:"total_cost"`
	// APR is the annual percentage rate of the agreement by the actuarial method over its real
	// dates (see APR), floored to 0.01%; always below APRMax.
	APR      money.Rate `json:"apr"`
	AgreedAt time.Time  `json:"agreed_at"`
	// DisbursementDue is when the lender is expected to pay into the order's escrow
	// (DisbursementDaysExpected business days); DisbursementLatest the latest (R11: 1–3).
	DisbursementDue    time.Time `json:"disbursement_due"`
	DisbursementLatest time.Time `json:"disbursement_latest"`
}

// FundsDeadline is when the lender's money is overdue (R11: funds arrive 1–3 working days after
// the agreement): the end of the latest disbursement day (DisbursementLatest, the 3rd business
// day after the agreement on the calendar it was offered on), that is midnight at the start of
// the next calendar day in loc, the rail's zone (America/New_York for US lenders). Its clock time
// does not matter: the lender has that whole day.
func (a Agreement) FundsDeadline(loc *time.Location) time.Time {
	d := a.DisbursementLatest.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
}

// Offer computes the agreement for financing principal over term months at the given rates,
// with a first-month fee credit, as of agreedAt, on the business-day calendar cal (US Federal
// Reserve for US lenders).
//
// Installments have equal principal, principal ÷ term rounded half-up to the cent, and the last
// absorbs the rounding (rails.md §8.1 [S3]). Each month's fee is the original principal × that
// month's rate, rounded half-up (R10's rule for fees). The credit reduces installment 1's fee
// down to zero at most; any excess is forfeited, not carried over (assumed, rails.md §8.1).
//
// Due dates fall monthly on the agreement's day of the month, clamped to the end of shorter
// months (January 31 → February 28), each counted from the agreement, not from the previous
// due date. A due date on a weekend or Federal Reserve holiday moves to the next business day,
// because the automatic debit settles only on one — or to the previous business day when the
// next is in another month (the "modified following" convention), so each month keeps exactly
// one due date and one statement shows it.
func Offer(principal money.Amount, term int, rates FeeSchedule, credit money.Amount, agreedAt time.Time, cal calendar.Calendar) (Agreement, error) {
	if err := validOffer(principal, term, rates, credit, agreedAt); err != nil {
		return Agreement{}, err
	}
	a := Agreement{Principal: principal, TermMonths: term, Rates: rates, AgreedAt: agreedAt,
		TotalFees: usd(0), CreditOffered: credit, CreditApplied: usd(0), TotalCost: usd(0),
		DisbursementDue:    calendar.AddBusinessDays(cal, agreedAt, DisbursementDaysExpected),
		DisbursementLatest: calendar.AddBusinessDays(cal, agreedAt, DisbursementDaysMax)}
	share := divHalfUp(principal.Minor, int64(term))
	for n := 1; n <= term; n++ {
		p := share
		if n == term {
			p = principal.Minor - share*int64(term-1)
		}
		rate := rates.RateFor(n)
		fee := mustMulRate(principal, rate)
		cr := usd(0)
		if n == 1 {
			cr = credit.Min(fee)
		}
		in := Installment{N: n, DueDate: dueDate(agreedAt, n, cal), Principal: usd(p), Rate: rate,
			Fee: fee, Credit: cr, Total: sum(usd(p), fee, cr.Neg()), Status: Scheduled, Paid: usd(0)}
		a.Installments = append(a.Installments, in)
		a.TotalFees = sum(a.TotalFees, fee)
		a.CreditApplied = sum(a.CreditApplied, cr)
		a.TotalCost = sum(a.TotalCost, in.Total)
	}
	a.NetFees = sum(a.TotalFees, a.CreditApplied.Neg())
	if sum(principal, a.NetFees) != a.TotalCost {
		panic("credit: installments do not add up to principal plus net fees")
	}
	a.APR = APR(a)
	if a.APR >= APRMax {
		return a, fault.FieldErr("rates", ReasonAPRAboveCap, "these rates come to an APR of %s over %d month(s); Pay Later stays below %s",
			a.APR, term, APRMax)
	}
	return a, nil
}

// ReasonAPRAboveCap: an agreement's APR would reach APRMax.
const ReasonAPRAboveCap = "apr_above_cap"

// EarlyRateStep is how far OfferUnderCap lowers the months 1–2 rate at a time.
const EarlyRateStep money.Rate = 500 // 0.05%

// OfferUnderCap is Offer at the line's rates, except that when they would bring the agreement
// to APRMax or above — short terms do: the months 1–2 fee is charged on the whole principal
// while half of it or more is already repaid, so 2.00% over 2 months is about 34% APR — the
// months 1–2 rate is lowered in steps of EarlyRateStep to the highest one that keeps the APR
// below the cap (never below EarlyRateMin, nor below the late rate). The agreement shows the
// rates it uses. This is the platform's rule for every lender (rails.md §8.1 [S2]: APR < 30%).
func OfferUnderCap(principal money.Amount, term int, rates FeeSchedule, credit money.Amount, agreedAt time.Time, cal calendar.Calendar) (Agreement, error) {
	for {
		a, err := Offer(principal, term, rates, credit, agreedAt, cal)
		next := rates.Early - EarlyRateStep
		if fault.ReasonOf(err) != ReasonAPRAboveCap || next < EarlyRateMin || next < rates.Late {
			return a, err
		}
		rates.Early = next
	}
}

func validOffer(principal money.Amount, term int, rates FeeSchedule, credit money.Amount, agreedAt time.Time) error {
	if err := requireUSD("principal", principal); err != nil {
		return err
	}
	if err := requireUSD("first_month_credit", credit); err != nil {
		return err
	}
	switch {
	case principal.Minor < PrincipalMin.Minor || principal.Minor > LimitMax.Minor:
		return fault.FieldErr("principal", ReasonInvalidAmount, "finance between %s and %s", PrincipalMin, LimitMax)
	case term < TermMonthsMin || term > TermMonthsMax:
		return fault.FieldErr("term_months", ReasonInvalidTerm, "choose a term of %d to %d months", TermMonthsMin, TermMonthsMax)
	case credit.IsNegative() || credit.Minor > FirstMonthCreditMax.Minor:
		return fault.FieldErr("first_month_credit", ReasonInvalidAmount, "the first-month credit is between 0 and %s", FirstMonthCreditMax)
	case agreedAt.IsZero():
		return fault.FieldErr("agreed_at", "invalid_date", "the agreement needs a time")
	}
	return rates.Validate()
}

// dueDate is installment n's due date: n months after the agreement's date, clamped to the
// month's end, moved to a business day by the modified following convention.
func dueDate(agreedAt time.Time, n int, cal calendar.Calendar) time.Time {
	y, m, d := agreedAt.Date()
	last := time.Date(y, m+time.Month(n)+1, 0, 0, 0, 0, 0, agreedAt.Location()).Day()
	date := time.Date(y, m+time.Month(n), min(d, last), 0, 0, 0, 0, agreedAt.Location())
	return calendar.ModifiedFollowing(cal, date)
}

// divHalfUp returns a ÷ b rounded half-up, for a ≥ 0 and b > 0.
func divHalfUp(a, b int64) int64 { return (2*a + b) / (2 * b) }

// sum adds USD amounts. Every amount here is bounded by LimitMax, so an error is a bug.
func sum(xs ...money.Amount) money.Amount {
	total, err := money.Sum(USD, xs...)
	if err != nil {
		panic("credit: " + err.Error())
	}
	return total
}

// mustMulRate applies a validated rate to a bounded amount.
func mustMulRate(a money.Amount, r money.Rate) money.Amount {
	x, err := a.MulRate(r)
	if err != nil {
		panic("credit: " + err.Error())
	}
	return x
}
