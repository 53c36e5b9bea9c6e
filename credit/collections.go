package credit

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/calendar"
)

// Collections (R11): what happens after an automatic debit is refused. Neither the lender's
// retry schedule nor its charge-off policy is published (rails.md §8.1 "Not found", §8.3), so
// both are named here and documented in docs/pay-later.md. No late or NSF fee is charged: none
// is sourced for the lender (rails.md §8.3, §10.6), and the platform does not invent charges.
const (
	// DebitRetry1BusinessDays is when a refused automatic debit is first tried again: 3 US
	// business days after the refusal, the usual time for an ACH return to be known and for a
	// business to move money into its checking account.
	DebitRetry1BusinessDays = 3
	// DebitRetry2BusinessDays is the second and last retry: 7 US business days after the refusal.
	DebitRetry2BusinessDays = 7
	// ChargeOffDaysPastDue is how long a loan stays past due before it is charged off: 120 days
	// after its oldest missed due date, the US regulators' charge-off point for closed-end
	// installment credit (FFIEC Uniform Retail Credit Classification policy, 2000).
	ChargeOffDaysPastDue = 120
)

// DebitRetryBusinessDays lists the retries of a refused automatic debit, in US business days
// after the refusal.
var DebitRetryBusinessDays = [...]int{DebitRetry1BusinessDays, DebitRetry2BusinessDays}

// PastDueSince is the oldest due date of an installment that is billed and still unpaid after
// it, or the zero time when nothing is overdue.
func (l *Loan) PastDueSince() time.Time {
	for _, in := range l.Installments { // in due-date order
		if in.Status == Billed && in.remaining().IsPositive() {
			return in.DueDate
		}
	}
	return time.Time{}
}

// ChargeOffAt is when a past-due loan is charged off: ChargeOffDaysPastDue calendar days after
// PastDueSince, at the same clock time in loc (the rail's zone, so a due date at midnight in New
// York gives a charge-off at midnight in New York across a change of daylight saving time). It is
// the zero time when nothing is overdue.
func (l *Loan) ChargeOffAt(loc *time.Location) time.Time {
	since := l.PastDueSince()
	if since.IsZero() {
		return time.Time{}
	}
	return since.In(loc).AddDate(0, 0, ChargeOffDaysPastDue).UTC()
}

// RetryTimers are the timers a refused automatic debit at failedAt sets (R11, R21): one retry
// per DebitRetryBusinessDays, counted on cal in failedAt's location and keeping its clock time.
// Their keys name the installment whose debit was refused (the latest one due at failedAt), so a
// replayed debit sets the same timers and another installment's refusal sets its own.
func (l *Loan) RetryTimers(cal calendar.Calendar, failedAt time.Time) []Timer {
	n := 0
	for _, in := range l.Installments {
		if !failedAt.Before(in.DueDate) {
			n = in.N
		}
	}
	out := make([]Timer, 0, len(DebitRetryBusinessDays))
	for i, days := range DebitRetryBusinessDays {
		out = append(out, Timer{Key: fmt.Sprintf("%s/debit_retry/%d/%d", l.ID, n, i+1), Kind: TimerDebitRetry, LoanID: l.ID,
			DueAt: calendar.AddBusinessDays(cal, failedAt, days).UTC()})
	}
	return out
}

// ChargeOffTimer is the timer that charges the loan off ChargeOffDaysPastDue days after its
// oldest missed due date (see ChargeOffAt). One per loan: a loan cured and past due again later
// gets a new one in its place.
func (l *Loan) ChargeOffTimer(loc *time.Location) (Timer, bool) {
	at := l.ChargeOffAt(loc)
	if at.IsZero() {
		return Timer{}, false
	}
	return Timer{Key: l.ID + "/charge_off", Kind: TimerChargeOff, LoanID: l.ID, DueAt: at}, true
}
