package calendar_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/calendar"
)

var fed = calendar.USFederal(2025, 2027)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestUSFederalHolidays ensures the Federal Reserve closures of 2025–2027 are computed by rule
// exactly as the Fed publishes them: Sunday holidays move to Monday (July 5, 2027), Saturday
// holidays close nothing (July 4, 2026; June 19 and December 25, 2027). R11 R21
func TestUSFederalHolidays(t *testing.T) {
	want := map[int][]string{
		2025: {"2025-01-01", "2025-01-20", "2025-02-17", "2025-05-26", "2025-06-19", "2025-07-04",
			"2025-09-01", "2025-10-13", "2025-11-11", "2025-11-27", "2025-12-25"},
		2026: {"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19",
			"2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"},
		2027: {"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-07-05",
			"2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25"},
	}
	for year, dates := range want {
		var got []string
		for _, h := range fed.Holidays(year) {
			if !h.Observed.IsZero() {
				got = append(got, h.Observed.Format(time.DateOnly))
			}
		}
		if !slices.Equal(got, dates) {
			t.Errorf("%d closures:\n got %v\nwant %v", year, got, dates)
		}
		if n := len(fed.Holidays(year)); n != 11 {
			t.Errorf("%d: %d holidays, want 11", year, n)
		}
		for _, d := range dates {
			if fed.IsBusinessDay(day(d)) {
				t.Errorf("%s is a holiday closure but counts as a business day", d)
			}
		}
	}
}

// TestFederalReserveObservance ensures the Fed's observance rule, not the federal government's,
// decides business days: the Friday before a Saturday holiday is open, the Monday after a
// Sunday holiday is closed, weekends are closed, and years outside the precomputed range follow
// the same rule. R11
func TestFederalReserveObservance(t *testing.T) {
	tests := []struct {
		date string
		open bool
		why  string
	}{
		{"2026-07-03", true, "Friday before Independence Day on a Saturday"},
		{"2027-06-18", true, "Friday before Juneteenth on a Saturday"},
		{"2027-12-24", true, "Friday before Christmas on a Saturday"},
		{"2027-12-31", true, "Friday before New Year's Day 2028 on a Saturday"},
		{"2027-07-05", false, "Monday after Independence Day on a Sunday"},
		{"2025-11-28", true, "the day after Thanksgiving"},
		{"2025-12-24", true, "Christmas Eve"},
		{"2025-11-29", false, "a Saturday"},
		{"2025-11-30", false, "a Sunday"},
		{"2030-11-28", false, "Thanksgiving outside the precomputed range"},
		{"2028-01-17", false, "MLK Day outside the precomputed range"},
		{"2033-12-26", false, "Christmas 2033 on a Sunday, observed outside the range"},
		{"2028-07-03", true, "an ordinary Monday outside the range"},
	}
	for _, tc := range tests {
		if got := fed.IsBusinessDay(day(tc.date)); got != tc.open {
			t.Errorf("%s (%s): business day %v, want %v", tc.date, tc.why, got, tc.open)
		}
	}
	if name, ok := fed.Closed(day("2025-11-27")); !ok || name != "Thanksgiving Day" {
		t.Errorf("Closed(2025-11-27) = %q, %v", name, ok)
	}
	if fed.Holidays(2024) != nil {
		t.Error("Holidays lists a year outside the range")
	}
}

// TestAddBusinessDays ensures a count of working days skips weekends and US holidays
// (Independence Day, Thanksgiving, Christmas), keeps the clock time, goes backwards for a
// negative count, and returns the start itself for zero. R11 R21
func TestAddBusinessDays(t *testing.T) {
	at := func(d string) time.Time { return day(d).Add(15*time.Hour + 30*time.Minute) }
	tests := []struct {
		name  string
		start string
		n     int
		want  string
	}{
		{"within the week", "2025-03-04", 2, "2025-03-06"},
		{"across a weekend", "2025-03-07", 2, "2025-03-11"},
		{"from a Saturday", "2025-03-08", 1, "2025-03-10"},
		{"across Independence Day 2025", "2025-07-03", 2, "2025-07-08"},
		{"Independence Day 2026 on a Saturday: Friday July 3 is open", "2026-07-02", 2, "2026-07-06"},
		{"across Thanksgiving", "2025-11-26", 2, "2025-12-01"},
		{"across Christmas", "2025-12-23", 2, "2025-12-26"},
		{"across Christmas and New Year", "2025-12-24", 3, "2025-12-30"},
		{"New Year's Day", "2025-12-31", 1, "2026-01-02"},
		{"zero", "2025-03-08", 0, "2025-03-08"},
		{"backwards across a weekend", "2025-03-10", -1, "2025-03-07"},
		{"backwards across Thanksgiving", "2025-11-28", -1, "2025-11-26"},
	}
	for _, tc := range tests {
		got := calendar.AddBusinessDays(fed, at(tc.start), tc.n)
		if !got.Equal(at(tc.want)) {
			t.Errorf("%s: %s %+d business days = %s, want %s 15:30", tc.name, tc.start, tc.n, got.Format(time.DateTime), tc.want)
		}
	}
}

// TestNextBusinessDay ensures the "following" convention — a business day stays, a weekend or a
// holiday rolls to the next open day — and the "modified following" one, which rolls back
// instead when the next open day is in another month. R11
func TestNextBusinessDay(t *testing.T) {
	for start, want := range map[string]string{
		"2025-03-05": "2025-03-05",
		"2025-03-08": "2025-03-10",
		"2025-11-27": "2025-11-28",
		"2027-07-04": "2027-07-06",
	} {
		if got := calendar.NextBusinessDay(fed, day(start)); !got.Equal(day(want)) {
			t.Errorf("NextBusinessDay(%s) = %s, want %s", start, got.Format(time.DateOnly), want)
		}
	}
	for start, want := range map[string]string{
		"2025-03-08": "2025-03-10", // a Saturday mid-month rolls forward
		"2025-05-31": "2025-05-30", // a Saturday at the month's end rolls back
		"2025-08-31": "2025-08-29", // a Sunday before Labor Day rolls back to Friday
		"2027-12-25": "2027-12-27", // Saturday Christmas: Monday is open and in the month
	} {
		if got := calendar.ModifiedFollowing(fed, day(start)); !got.Equal(day(want)) {
			t.Errorf("ModifiedFollowing(%s) = %s, want %s", start, got.Format(time.DateOnly), want)
		}
	}
	if !calendar.Date(day("2025-03-05").Add(20 * time.Hour)).Equal(day("2025-03-05")) {
		t.Error("Date keeps the clock time")
	}
	if !(calendar.Weekdays{}).IsBusinessDay(day("2025-12-25")) {
		t.Error("Weekdays closes on a holiday")
	}
}

// TestLocationIsTheCallers ensures a day is read in the time's own location: 02:00 UTC on a
// Saturday is still Friday in New York, so the caller converts before asking. R11
func TestLocationIsTheCallers(t *testing.T) {
	ny := time.FixedZone("EST", -5*60*60)
	sat := time.Date(2025, 3, 8, 2, 0, 0, 0, time.UTC)
	if fed.IsBusinessDay(sat) {
		t.Error("Saturday 02:00 UTC counts as a business day")
	}
	if !fed.IsBusinessDay(sat.In(ny)) {
		t.Error("Friday 21:00 EST is not a business day")
	}
}

// TestBounds ensures the named limits hold: a count beyond BusinessDaysMax, an empty or
// out-of-range year span, and a calendar without business days are bugs that panic instead of
// looping or answering wrongly.
func TestBounds(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("too many days", func() { calendar.AddBusinessDays(fed, day("2025-01-02"), calendar.BusinessDaysMax+1) })
	mustPanic("reversed years", func() { calendar.USFederal(2027, 2025) })
	mustPanic("year before 1971", func() { calendar.USFederal(1960, 2025) })
	mustPanic("never open", func() { calendar.AddBusinessDays(closed{}, day("2025-01-02"), 1) })
	if got := calendar.AddBusinessDays(fed, day("2025-01-02"), calendar.BusinessDaysMax); got.Year() != 2026 {
		t.Errorf("BusinessDaysMax business days from 2025-01-02 = %s", got.Format(time.DateOnly))
	}
}

type closed struct{}

func (closed) IsBusinessDay(time.Time) bool { return false }
