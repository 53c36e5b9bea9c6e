package calendar

import (
	"fmt"
	"slices"
	"time"
)

// The years USFederal computes. The holiday rules below hold from 1971, when the Uniform Monday
// Holiday Act moved Washington's Birthday, Memorial Day and Columbus Day to Mondays; the upper
// bound only keeps a typo from allocating centuries of dates.
const (
	FederalYearMin = 1971
	FederalYearMax = 2199
)

// Holiday is one of the Federal Reserve's holidays in a year.
type Holiday struct {
	Name string
	// Date is the legal date of the holiday (e.g. July 4), at midnight UTC.
	Date time.Time
	// Observed is the weekday the Federal Reserve Banks are closed for it, at midnight UTC: Date
	// itself, or the Monday after a Sunday holiday. It is zero for a Saturday holiday, which
	// the Federal Reserve does not move (see USFederal).
	Observed time.Time
}

// FederalReserve is the business-day calendar of US bank rails (Fedwire, FedACH, so ACH debits
// and the lender's disbursements): Monday to Friday, except the days the Federal Reserve Banks
// are closed for a holiday. Build one with USFederal.
type FederalReserve struct {
	from, to int
	closed   map[civil]string // observed closures of the years from..to, by date
}

// civil is a date without a location: Fed holidays are dates, not instants.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// USFederal returns the Federal Reserve calendar with the holidays of the years from..to
// computed by rule:
//
//	New Year's Day               January 1
//	Birthday of Martin Luther King, Jr.   third Monday of January
//	Washington's Birthday        third Monday of February (Presidents Day)
//	Memorial Day                 last Monday of May
//	Juneteenth National Independence Day  June 19, from 2021
//	Independence Day             July 4
//	Labor Day                    first Monday of September
//	Columbus Day                 second Monday of October
//	Veterans Day                 November 11
//	Thanksgiving Day             fourth Thursday of November
//	Christmas Day                December 25
//
// Observance follows the Federal Reserve, which differs from the federal government's: a
// holiday on a Sunday is observed on the following Monday, but a holiday on a Saturday is not
// moved — the Reserve Banks and Branches stay open on the Friday before (only the Board of
// Governors closes), so Fedwire and FedACH settle that Friday. Hence July 3, 2026 and
// December 24, 2027 are business days here, though federal offices are closed. The same
// rule means New Year's Day on a Saturday closes nothing, not even December 31.
//
// Juneteenth first fell on a Saturday (June 19, 2021) after it became a holiday, so whether
// one counts it from 2021 or from 2022 changes no business day.
//
// Dates of years outside from..to are computed by the same rule when asked, so the range is
// only what Holidays lists and what is precomputed; no date is ever silently treated as a
// business day because its year was not listed. It panics when from > to or the range leaves
// FederalYearMin..FederalYearMax: configuration bugs.
func USFederal(from, to int) FederalReserve {
	if from > to || from < FederalYearMin || to > FederalYearMax {
		panic(fmt.Sprintf("calendar: US federal years %d..%d outside %d..%d", from, to, FederalYearMin, FederalYearMax))
	}
	c := FederalReserve{from: from, to: to, closed: map[civil]string{}}
	for y := from; y <= to; y++ {
		for _, h := range federalHolidays(y) {
			if !h.Observed.IsZero() {
				c.closed[civilOf(h.Observed)] = h.Name
			}
		}
	}
	return c
}

// IsBusinessDay reports whether the Federal Reserve Banks are open on d's date.
func (c FederalReserve) IsBusinessDay(d time.Time) bool {
	if IsWeekend(d) {
		return false
	}
	_, closed := c.Closed(d)
	return !closed
}

// Closed reports whether d's date is a Federal Reserve holiday closure, and which holiday.
func (c FederalReserve) Closed(d time.Time) (string, bool) {
	day := civilOf(d)
	if day.y >= c.from && day.y <= c.to {
		name, ok := c.closed[day]
		return name, ok
	}
	// Outside the precomputed range: the same rule, computed now. No observance moves a
	// closure across a year end (a Sunday January 1 is observed on January 2), so the year of
	// the date is the only one to look at.
	for _, h := range federalHolidays(day.y) {
		if !h.Observed.IsZero() && civilOf(h.Observed) == day {
			return h.Name, true
		}
	}
	return "", false
}

// Holidays lists the holidays of a year in the calendar's range, in date order, Saturday
// holidays included with a zero Observed. A year outside the range gives nil.
func (c FederalReserve) Holidays(year int) []Holiday {
	if year < c.from || year > c.to {
		return nil
	}
	return federalHolidays(year)
}

// federalHolidays computes the holidays of year y by rule.
func federalHolidays(y int) []Holiday {
	hs := []Holiday{
		fixed("New Year's Day", y, time.January, 1),
		nth("Birthday of Martin Luther King, Jr.", y, time.January, time.Monday, 3),
		nth("Washington's Birthday", y, time.February, time.Monday, 3),
		last("Memorial Day", y, time.May, time.Monday),
		fixed("Independence Day", y, time.July, 4),
		nth("Labor Day", y, time.September, time.Monday, 1),
		nth("Columbus Day", y, time.October, time.Monday, 2),
		fixed("Veterans Day", y, time.November, 11),
		nth("Thanksgiving Day", y, time.November, time.Thursday, 4),
		fixed("Christmas Day", y, time.December, 25),
	}
	if y >= 2021 {
		hs = append(hs, fixed("Juneteenth National Independence Day", y, time.June, 19))
	}
	slices.SortFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return hs
}

// fixed is a holiday on a fixed date, observed by the Federal Reserve rule.
func fixed(name string, y int, m time.Month, d int) Holiday {
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	h := Holiday{Name: name, Date: date, Observed: date}
	switch date.Weekday() {
	case time.Sunday:
		h.Observed = date.AddDate(0, 0, 1)
	case time.Saturday:
		h.Observed = time.Time{} // the Fed stays open on the Friday before
	}
	return h
}

// nth is the n-th weekday wd of month m, which is never on a weekend.
func nth(name string, y int, m time.Month, wd time.Weekday, n int) Holiday {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	offset := (int(wd) - int(first.Weekday()) + 7) % 7
	date := first.AddDate(0, 0, offset+7*(n-1))
	return Holiday{Name: name, Date: date, Observed: date}
}

// last is the last weekday wd of month m.
func last(name string, y int, m time.Month, wd time.Weekday) Holiday {
	end := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC)
	offset := (int(end.Weekday()) - int(wd) + 7) % 7
	date := end.AddDate(0, 0, -offset)
	return Holiday{Name: name, Date: date, Observed: date}
}
