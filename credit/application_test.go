package credit_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/money"
)

// TestApplicationValidate ensures an application is refused, naming the field, when it lacks
// what any decision needs — a legal name, a country, the owner, consent, and a business
// checking account — or holds anything unmasked or beyond its named limits. Missing facts the
// rules weigh (revenue, founding date) are not refused here. R11
func TestApplicationValidate(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(a *credit.Application)
		field  string
		reason string
	}{
		{"complete", func(a *credit.Application) {}, "", ""},
		{"no revenue yet", func(a *credit.Application) { a.Business.Revenue = nil }, "", ""},
		{"no founding date yet", func(a *credit.Application) { a.Business.Established = time.Time{} }, "", ""},
		{"a non-US business is decided, not refused", func(a *credit.Application) { a.Business.Country, a.Business.State = "DE", "" }, "", ""},
		{"at checkout names the order", func(a *credit.Application) { a.Channel = credit.AtCheckout }, "order_id", "order_required"},
		{"at checkout", func(a *credit.Application) { a.Channel, a.OrderID = credit.AtCheckout, "ord_1" }, "", ""},
		{"unknown channel", func(a *credit.Application) { a.Channel = "phone" }, "channel", "invalid_channel"},
		{"no legal name", func(a *credit.Application) { a.Business.LegalName = " " }, "business.legal_name", "invalid_name"},
		{"name too long", func(a *credit.Application) { a.Business.LegalName = strings.Repeat("a", credit.NameMax+1) }, "business.legal_name", "invalid_name"},
		{"full EIN", func(a *credit.Application) { a.Business.EINLast4 = "123456789" }, "business.ein_last4", "invalid_identifier"},
		{"lower-case country", func(a *credit.Application) { a.Business.Country = "us" }, "business.country", "invalid_country"},
		{"unknown US state", func(a *credit.Application) { a.Business.State = "XX" }, "business.state", "invalid_state"},
		{"founded in the future", func(a *credit.Application) { a.Business.Established = t0.AddDate(0, 0, 1) }, "business.established", "invalid_date"},
		{"revenue in EUR", func(a *credit.Application) { r := money.New(100_000_00, "EUR"); a.Business.Revenue = &r }, "business.revenue", credit.ReasonUSDOnly},
		{"negative revenue", func(a *credit.Application) { a.Business.Revenue = revenue(-1) }, "business.revenue", credit.ReasonInvalidAmount},
		{"no owner", func(a *credit.Application) { a.Owner.Name = "" }, "owner.name", "invalid_name"},
		{"owner under 18", func(a *credit.Application) { a.Owner.BirthYear = t0.Year() - 17 }, "owner.birth_year", "invalid_birth_year"},
		{"full SSN", func(a *credit.Application) { a.Owner.SSNLast4 = "123-45-6789" }, "owner.ssn_last4", "invalid_identifier"},
		{"no business checking", func(a *credit.Application) { a.Accounts = a.Accounts[1:] }, "accounts", "business_checking_required"},
		{"checking without mask", func(a *credit.Application) { a.Accounts[0].Mask = "" }, "accounts[0].mask", "invalid_identifier"},
		{"unknown account kind", func(a *credit.Application) { a.Accounts[1].Kind = "crypto" }, "accounts[1].kind", "invalid_account_kind"},
		{"too many accounts", func(a *credit.Application) {
			for len(a.Accounts) <= credit.LinkedAccountsMax {
				a.Accounts = append(a.Accounts, credit.LinkedAccount{Kind: credit.PSP, Institution: "Pay Co"})
			}
		}, "accounts", "too_many_accounts"},
		{"no consent", func(a *credit.Application) { a.Consent.Given = false }, "consent.given", "consent_required"},
		{"consent in the future", func(a *credit.Application) { a.Consent.At = t0.Add(time.Hour) }, "consent.at", "invalid_date"},
		{"consent text unknown", func(a *credit.Application) { a.Consent.TextVersion = "" }, "consent.text_version", "invalid_consent_version"},
	}
	for _, tc := range tests {
		a := application()
		tc.mod(&a)
		err := a.Validate(t0)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !isReason(err, tc.reason) || !strings.Contains(err.Error(), "("+tc.field+")") {
			t.Errorf("%s: got %v, want %s on %s", tc.name, err, tc.reason, tc.field)
		}
	}
}

// TestMaskDigits ensures only the last four digits of an identifier are kept, and that
// malformed identifiers are refused before anything is stored. R11
func TestMaskDigits(t *testing.T) {
	if m, err := credit.MaskDigits("ein", "12-3456789", 9, 9); err != nil || m != "6789" || m.String() != "••••6789" {
		t.Errorf("EIN: %q %v", m, err)
	}
	if m, err := credit.MaskDigits("account", "0001 2345 6789 01", 4, 17); err != nil || m != "8901" {
		t.Errorf("account: %q %v", m, err)
	}
	for _, bad := range []string{"12-345678", "12-34567890", "12-34567a9", ""} {
		if _, err := credit.MaskDigits("ein", bad, 9, 9); !isReason(err, "invalid_identifier") {
			t.Errorf("MaskDigits(%q): %v", bad, err)
		}
	}
}

// TestUnderwriteApproves ensures a qualifying US business is approved with a limit of 20% of
// its revenue rounded down to US$500, never above US$150,000, at the default rates and
// first-month credit, and that the approval carries its reasons. R11
func TestUnderwriteApproves(t *testing.T) {
	tests := []struct {
		revenue int64
		limit   int64
		capped  bool
	}{
		{50_000_00, 10_000_00, false},   // the smallest eligible revenue
		{400_000_00, 80_000_00, false},  // the application() business
		{123_456_78, 24_500_00, false},  // 24,691.36 rounded down to 500
		{749_999_99, 149_500_00, false}, // just below the cap
		{750_000_00, 150_000_00, false}, // exactly the cap
		{5_000_000_00, 150_000_00, true},
	}
	for _, tc := range tests {
		app := application()
		app.Business.Revenue = revenue(tc.revenue)
		d, err := lender.Apply(app, credit.History{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != credit.DecisionApproved || d.Limit != usd(tc.limit) {
			t.Errorf("revenue %d: %s limit %s, want approved %d", tc.revenue, d.Status, d.Limit, tc.limit)
		}
		if d.Rates != credit.DefaultFeeSchedule() || d.FirstMonthCredit != usd(100_00) {
			t.Errorf("revenue %d: rates %+v credit %s", tc.revenue, d.Rates, d.FirstMonthCredit)
		}
		codes := reasonCodes(d)
		for _, want := range []string{"us_business", "years_in_business", "revenue", "limit_from_revenue"} {
			if !slices.Contains(codes, want) {
				t.Errorf("revenue %d: reasons %v lack %s", tc.revenue, codes, want)
			}
		}
		if slices.Contains(codes, "limit_capped") != tc.capped {
			t.Errorf("revenue %d: reasons %v, capped %v", tc.revenue, codes, tc.capped)
		}
		if d.Limit.Minor > credit.LimitMax.Minor {
			t.Errorf("limit %s above LimitMax", d.Limit)
		}
	}
	app := application()
	app.Decide(lender.Policy.Underwrite(app, credit.History{}, t0))
	if app.Status != credit.Approved || app.Decision == nil {
		t.Errorf("application status %s", app.Status)
	}
}

// TestUnderwriteDeclines ensures every failed rule is listed at once — a non-US business
// (pay_later_us_only), less than a year in business, revenue under US$50,000 — and that a
// decline outranks missing information. R11
func TestUnderwriteDeclines(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(a *credit.Application)
		status credit.DecisionStatus
		codes  []string
	}{
		{"non-US", func(a *credit.Application) { a.Business.Country, a.Business.State = "CA", "" },
			credit.DecisionDeclined, []string{credit.ReasonUSOnly}},
		{"eleven months in business", func(a *credit.Application) { a.Business.Established = t0.AddDate(0, -11, 0) },
			credit.DecisionDeclined, []string{"years_in_business_below_minimum"}},
		{"exactly one year", func(a *credit.Application) { a.Business.Established = t0.AddDate(-1, 0, 0) },
			credit.DecisionApproved, nil},
		{"revenue one cent short", func(a *credit.Application) { a.Business.Revenue = revenue(49_999_99) },
			credit.DecisionDeclined, []string{"revenue_below_minimum"}},
		{"all three at once", func(a *credit.Application) {
			a.Business.Country, a.Business.State = "GB", ""
			a.Business.Established = t0.AddDate(0, -2, 0)
			a.Business.Revenue = revenue(10_000_00)
		}, credit.DecisionDeclined, []string{credit.ReasonUSOnly, "years_in_business_below_minimum", "revenue_below_minimum"}},
		{"non-US without revenue is declined, not asked", func(a *credit.Application) {
			a.Business.Country, a.Business.State, a.Business.Revenue = "MX", "", nil
		}, credit.DecisionDeclined, []string{credit.ReasonUSOnly}},
		{"no revenue figure", func(a *credit.Application) { a.Business.Revenue = nil },
			credit.DecisionMoreInfo, []string{"annual_revenue_missing"}},
		{"nothing but the basics", func(a *credit.Application) {
			a.Business.Revenue, a.Business.Established, a.Business.EINLast4 = nil, time.Time{}, ""
		}, credit.DecisionMoreInfo, []string{"years_in_business_missing", "annual_revenue_missing", "ein_missing"}},
	}
	for _, tc := range tests {
		app := application()
		tc.mod(&app)
		d, err := lender.Apply(app, credit.History{}, t0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if d.Status != tc.status || (tc.codes != nil && !slices.Equal(reasonCodes(d), tc.codes)) {
			t.Errorf("%s: %s %v, want %s %v", tc.name, d.Status, reasonCodes(d), tc.status, tc.codes)
		}
		if d.Status != credit.DecisionApproved && !d.Limit.IsZero() {
			t.Errorf("%s: limit %s without approval", tc.name, d.Limit)
		}
		for _, r := range d.Reasons {
			if r.Message == "" {
				t.Errorf("%s: reason %s has no message", tc.name, r.Code)
			}
		}
		if _, err := credit.OpenLine("line_x", app, d, t0); d.Status != credit.DecisionApproved && !isReason(err, "application_not_approved") {
			t.Errorf("%s: a line opened without approval: %v", tc.name, err)
		}
	}
}

// TestNonUSRefused ensures a non-US buyer or a non-USD payment is refused with a clear error:
// at checkout, when a line would be opened, when credit is reserved and when an agreement is
// offered. R11
func TestNonUSRefused(t *testing.T) {
	if err := credit.CheckEligible("US", "USD"); err != nil {
		t.Errorf("US/USD: %v", err)
	}
	if err := credit.CheckEligible("CA", "USD"); !isReason(err, credit.ReasonUSOnly) {
		t.Errorf("CA: %v", err)
	}
	if err := credit.CheckEligible("US", "EUR"); !isReason(err, credit.ReasonUSDOnly) || !strings.Contains(err.Error(), "USD only") {
		t.Errorf("EUR: %v", err)
	}
	// A decision forged for a non-US business cannot open a line.
	app := application()
	d := lender.Policy.Underwrite(app, credit.History{}, t0)
	app.Business.Country = "FR"
	if _, err := credit.OpenLine("line_x", app, d, t0); !isReason(err, credit.ReasonUSOnly) {
		t.Errorf("open a line for FR: %v", err)
	}
	line := openLine(t, 0)
	eur := money.New(1_000_00, "EUR")
	if err := line.Reserve(eur); !isReason(err, credit.ReasonUSDOnly) {
		t.Errorf("reserve EUR: %v", err)
	}
	if _, err := credit.Draw(line, credit.DrawRequest{OrderID: "ord_1", Amount: eur, TermMonths: 3}, t0, fed); !isReason(err, credit.ReasonUSDOnly) {
		t.Errorf("draw EUR: %v", err)
	}
	if _, err := credit.Offer(eur, 3, credit.DefaultFeeSchedule(), usd(0), t0, fed); !isReason(err, credit.ReasonUSDOnly) {
		t.Errorf("offer EUR: %v", err)
	}
}

func reasonCodes(d credit.Decision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}
