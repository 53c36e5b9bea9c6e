// Package calendar says which days are business days on a payment rail, and counts business
// days forward and backward from a moment. Rails settle only on their business days, so every
// "arrives in 1–3 working days" and every due date is computed here, never with time.Add.
//
// The package is pure: it imports only the standard library, does no I/O and never reads the
// clock. A day is the calendar date of a time.Time in that value's own location: the caller
// converts a moment to the calendar's zone (US rails: America/New_York) before asking, because
// loading a time zone database is I/O.
package calendar

import (
	"fmt"
	"time"
)

// Calendar tells business days from the others.
type Calendar interface {
	// IsBusinessDay reports whether the date of d (in d's location) is a business day.
	IsBusinessDay(d time.Time) bool
}

// BusinessDaysMax bounds n in AddBusinessDays: no rail timing is longer than a few weeks, so a
// larger count is a bug, not a request.
const BusinessDaysMax = 366

// gapDaysMax bounds the search for the next business day. A calendar with a longer run of
// closed days is broken; a loop that never ends would be worse than the panic.
const gapDaysMax = 31

// AddBusinessDays returns t moved by n business days of c, keeping the clock time: for n > 0 the
// n-th business day after t's date, for n < 0 the |n|-th business day before it, and t itself
// for n = 0 (even when t's date is not a business day). Days are stepped with AddDate, so the
// wall-clock time survives a daylight-saving change. It panics when |n| exceeds BusinessDaysMax
// or c has no business day within gapDaysMax days, both bugs.
func AddBusinessDays(c Calendar, t time.Time, n int) time.Time {
	if n > BusinessDaysMax || n < -BusinessDaysMax {
		panic(fmt.Sprintf("calendar: %d business days is beyond BusinessDaysMax", n))
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for ; n > 0; n-- {
		t = nextOpen(c, t.AddDate(0, 0, step), step)
	}
	return t
}

// NextBusinessDay returns t if its date is a business day of c, else the first business day
// after it, at the same clock time: the "following" convention for a date that falls on a
// weekend or holiday.
func NextBusinessDay(c Calendar, t time.Time) time.Time {
	return nextOpen(c, t, 1)
}

// ModifiedFollowing returns NextBusinessDay(c, t) unless that is in another month than t;
// then the last business day before t. It keeps a monthly date, such as a due date on the
// 31st, within its month.
func ModifiedFollowing(c Calendar, t time.Time) time.Time {
	next := nextOpen(c, t, 1)
	if next.Month() == t.Month() {
		return next
	}
	return nextOpen(c, t, -1)
}

// nextOpen returns the first business day from t (inclusive) in the direction of step.
func nextOpen(c Calendar, t time.Time, step int) time.Time {
	for range gapDaysMax {
		if c.IsBusinessDay(t) {
			return t
		}
		t = t.AddDate(0, 0, step)
	}
	panic(fmt.Sprintf("calendar: no business day within %d days of %s", gapDaysMax, t.Format(time.DateOnly)))
}

// IsWeekend reports whether d falls on a Saturday or a Sunday.
func IsWeekend(d time.Time) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// Weekdays is the calendar of a rail that closes only at weekends.
type Weekdays struct{}

// IsBusinessDay reports whether d is Monday to Friday.
func (Weekdays) IsBusinessDay(d time.Time) bool { return !IsWeekend(d) }

// Date returns midnight of the date of t in t's location: the day a business-day question is
// about, with the clock time dropped.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
