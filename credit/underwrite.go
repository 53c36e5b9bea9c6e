package credit

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/tradeassure/tradeassure/money"
)

// DecisionStatus is the outcome of underwriting.
type DecisionStatus string

// The outcomes. Each maps to the application status of the same name.
const (
	DecisionApproved DecisionStatus = "approved"
	DecisionDeclined DecisionStatus = "declined"
	DecisionMoreInfo DecisionStatus = "more_information_needed"
)

// Reasons of a decline for the buyer's history on the platform.
const (
	ReasonChargedOffLoan = "charged_off_loan" // a loan of the buyer was charged off
	ReasonLoanPastDue    = "loan_past_due"    // a loan of the buyer is past due now
)

// Reason explains one part of a decision. Code is stable; Message is for people.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Decision is the lender's answer to an application. Every decision carries its reasons: an
// approval says why and how the limit was set, a decline lists every rule that failed at once,
// a request for more information lists everything missing.
type Decision struct {
	Status           DecisionStatus `json:"status"`
	Limit            money.Amount   `json:"limit"` // USD; zero unless approved
	Reasons          []Reason       `json:"reasons"`
	Rates            FeeSchedule    `json:"rates"`              // the line's fee rates, if approved
	FirstMonthCredit money.Amount   `json:"first_month_credit"` // per loan, if approved
	DecidedAt        time.Time      `json:"decided_at"`
}

// Policy is the built-in lender's underwriting rules. Every number is a default (SPEC: numbers
// marked default are configuration).
type Policy struct {
	YearsInBusinessMin int          // at least 1 year in business (rails.md §8.1 [S4])
	RevenueMin         money.Amount // at least US$50,000 a year (rails.md §8.1 [S4])
	// The limit is LimitShare of annual revenue, rounded down to a multiple of LimitStep,
	// capped at LimitCap (never above LimitMax, R11).
	LimitShare       money.Rate
	LimitStep        money.Amount
	LimitCap         money.Amount
	Rates            FeeSchedule
	FirstMonthCredit money.Amount
}

// DefaultPolicy returns the built-in lender's rules: a US business, at least 1 year in business,
// at least US$50,000 annual revenue; a limit of 20% of annual revenue rounded down to US$500,
// at most US$150,000; 2.00%/0.50% monthly fees and a US$100 first-month credit.
//
// Why 20%: about ten weeks of revenue, so the smallest eligible business (US$50,000) gets a
// US$10,000 line and the cap is reached at US$750,000. Why US$500: the general Kabbage product
// drew in US$500 increments (rails.md §8.1, a T source). Both are assumptions of this model —
// the real lender's formula is not public.
func DefaultPolicy() Policy {
	return Policy{
		YearsInBusinessMin: 1,
		RevenueMin:         usd(50_000_00),
		LimitShare:         200_000, // 20%
		LimitStep:          usd(500_00),
		LimitCap:           LimitMax,
		Rates:              DefaultFeeSchedule(),
		FirstMonthCredit:   DefaultFirstMonthCredit(),
	}
}

// Limit returns the credit limit for an annual revenue: LimitShare of it rounded down to a
// multiple of LimitStep, at most LimitCap and LimitMax.
func (p Policy) Limit(revenue money.Amount) money.Amount {
	limit, _ := p.limit(revenue)
	return limit
}

// limit returns the limit and whether a cap lowered it. The share is floored to the step
// exactly, in 128 bits: rounding it to the cent first would lift US$749,999.99 of revenue
// (a share of 149,999.998) to a US$150,000 line.
func (p Policy) limit(revenue money.Amount) (money.Amount, bool) {
	if p.LimitStep.Minor <= 0 || p.LimitShare < 0 || revenue.IsNegative() {
		panic("credit: limit of a negative revenue, or a policy without a positive step")
	}
	capped := p.LimitCap.Min(LimitMax)
	divisor := uint64(money.RatePerMillion) * uint64(p.LimitStep.Minor)
	hi, lo := bits.Mul64(uint64(revenue.Minor), uint64(p.LimitShare))
	if hi >= divisor { // the quotient does not fit 64 bits: far above any cap
		return capped, true
	}
	steps, _ := bits.Div64(hi, lo, divisor)
	if steps > uint64(capped.Minor/p.LimitStep.Minor) {
		return capped, true
	}
	stepped := usd(int64(steps) * p.LimitStep.Minor)
	return stepped.Min(capped), stepped.Minor > capped.Minor
}

// Underwrite decides an application by the policy's rules as of now, with the buyer's history
// on the platform. The application must have passed Validate. Decisive failures decline, all
// listed at once: a non-US business (pay_later_us_only), less than the minimum time in
// business, revenue below the minimum, a charged-off Pay Later loan (charged_off_loan) or one
// past due now (loan_past_due).
// Without a decisive failure, anything the rules need but the application lacks — the date the
// business started, the revenue, a US business's EIN — asks for more information. Otherwise
// it approves, with the limit and the line's rates.
func (p Policy) Underwrite(app Application, h History, now time.Time) Decision {
	b := app.Business
	d := Decision{DecidedAt: now, Limit: usd(0), FirstMonthCredit: usd(0)}
	var declined, missing []Reason
	if b.Country != Country {
		declined = append(declined, Reason{ReasonUSOnly, "Pay Later is available to US businesses only"})
	}
	if h.ChargedOffLoans > 0 {
		declined = append(declined, Reason{ReasonChargedOffLoan,
			fmt.Sprintf("%d earlier Pay Later loan(s) of this business were charged off unpaid", h.ChargedOffLoans)})
	}
	if h.PastDueLoans > 0 {
		declined = append(declined, Reason{ReasonLoanPastDue,
			fmt.Sprintf("%d Pay Later loan(s) of this business are past due: repay them first", h.PastDueLoans)})
	}
	switch {
	case b.Established.IsZero():
		missing = append(missing, Reason{"years_in_business_missing", "tell us when the business started"})
	case b.Established.AddDate(p.YearsInBusinessMin, 0, 0).After(now):
		declined = append(declined, Reason{"years_in_business_below_minimum",
			fmt.Sprintf("the business must have been operating for at least %d year(s)", p.YearsInBusinessMin)})
	}
	switch {
	case b.Revenue == nil:
		missing = append(missing, Reason{"annual_revenue_missing", "tell us the business's annual revenue"})
	case b.Revenue.Minor < p.RevenueMin.Minor:
		declined = append(declined, Reason{"revenue_below_minimum",
			fmt.Sprintf("annual revenue must be at least %s", p.RevenueMin)})
	}
	if b.Country == Country && b.EINLast4 == "" {
		missing = append(missing, Reason{"ein_missing", "give the business's EIN"})
	}
	switch {
	case len(declined) > 0:
		d.Status, d.Reasons = DecisionDeclined, declined
	case len(missing) > 0:
		d.Status, d.Reasons = DecisionMoreInfo, missing
	default:
		d.Status, d.Rates, d.FirstMonthCredit = DecisionApproved, p.Rates, p.FirstMonthCredit
		limit, capped := p.limit(*b.Revenue)
		d.Limit, d.Reasons = limit, p.approvalReasons(app, now, limit, capped)
	}
	return d
}

func (p Policy) approvalReasons(app Application, now time.Time, limit money.Amount, capped bool) []Reason {
	b := app.Business
	years := yearsBetween(b.Established, now)
	rs := []Reason{
		{"us_business", "a US business (" + b.State + ")"},
		{"years_in_business", fmt.Sprintf("%d full year(s) in business, at least %d required", years, p.YearsInBusinessMin)},
		{"revenue", fmt.Sprintf("annual revenue %s, at least %s required", *b.Revenue, p.RevenueMin)},
		{"limit_from_revenue", fmt.Sprintf("limit %s: %s of annual revenue, rounded down to a multiple of %s",
			limit, p.LimitShare, p.LimitStep)},
	}
	if capped {
		rs = append(rs, Reason{"limit_capped", fmt.Sprintf("capped at %s (R11: lines go up to %s)", limit, LimitMax)})
	}
	return rs
}

// yearsBetween counts the full years from start to now.
func yearsBetween(start, now time.Time) int {
	y := now.Year() - start.Year()
	if start.AddDate(y, 0, 0).After(now) {
		y--
	}
	return y
}

// Decide records the decision on the application.
func (a *Application) Decide(d Decision) {
	a.Decision = &d
	switch d.Status {
	case DecisionApproved:
		a.Status = Approved
	case DecisionDeclined:
		a.Status = Declined
	case DecisionMoreInfo:
		a.Status = MoreInformationNeeded
	}
}
