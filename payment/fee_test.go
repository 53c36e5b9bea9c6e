package payment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
)

var (
	usd = money.Currency("USD")
	now = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestQuote ensures every method's quote shows the fee and what the buyer sends: card 2.95%
// (half-up) and online bank US$15 are added and collected by the platform, Pay Later and Boleto
// as their rules say, T/T is an estimate charged by the banks (the upper figure shown, nothing
// added), and Western Union is tiered and charged by the remitter. R9 R10 R11
func TestQuote(t *testing.T) {
	tests := []struct {
		name      string
		m         payment.Method
		amt       money.Amount
		fee       int64
		collector payment.Collector
		total     int64
		estimate  [2]int64 // min, max; zero when not an estimate
	}{
		{"card", payment.Card, money.New(4_950_00, usd), 146_03, payment.CollectedByPlatform, 5_096_03, [2]int64{}},
		{"card rounds half up", payment.Card, money.New(10, usd), 0, payment.CollectedByPlatform, 10, [2]int64{}},
		{"card in GBP", payment.Card, money.New(100_00, "GBP"), 2_95, payment.CollectedByPlatform, 102_95, [2]int64{}},
		{"T/T wire", payment.TTWire, money.New(4_950_00, usd), 50_00, payment.CollectedByThirdParty, 4_950_00, [2]int64{30_00, 50_00}},
		{"T/T wire in EUR: no estimate shown", payment.TTWire, money.New(4_950_00, "EUR"), 0, payment.CollectedByThirdParty, 4_950_00, [2]int64{}},
		{"T/T local", payment.TTLocal, money.New(4_950_00, usd), 1_00, payment.CollectedByThirdParty, 4_950_00, [2]int64{0, 1_00}},
		{"Western Union", payment.WesternUnion, money.New(800_00, usd), 18_00, payment.CollectedByThirdParty, 800_00, [2]int64{}},
		{"online bank", payment.OnlineBank, money.New(4_950_00, usd), 15_00, payment.CollectedByPlatform, 4_965_00, [2]int64{}},
		{"pay later", payment.PayLater, money.New(4_950_00, usd), 0, payment.CollectedByPlatform, 4_950_00, [2]int64{}},
		{"boleto", payment.Boleto, money.New(4_950_00, "BRL"), 66_83, payment.CollectedByPlatform, 5_016_83, [2]int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := payment.DefaultSchedule().Quote(tc.m, tc.amt, now)
			if err != nil {
				t.Fatal(err)
			}
			if q.Fee.Minor != tc.fee || q.Collector != tc.collector || q.Total.Minor != tc.total || q.Amount != tc.amt ||
				q.Fee.Currency != tc.amt.Currency || q.Total.Currency != tc.amt.Currency || q.Method != tc.m || q.Description == "" {
				t.Errorf("quote %+v; want fee %d by %s, total %d", q, tc.fee, tc.collector, tc.total)
			}
			if (q.EstimateMin == nil) != (tc.estimate == [2]int64{}) {
				t.Fatalf("estimate %v / %v, want %v", q.EstimateMin, q.EstimateMax, tc.estimate)
			}
			if q.EstimateMin != nil && (q.EstimateMin.Minor != tc.estimate[0] || q.EstimateMax.Minor != tc.estimate[1]) {
				t.Errorf("estimate %s–%s, want %v", q.EstimateMin, q.EstimateMax, tc.estimate)
			}
		})
	}
}

// TestWesternUnionTiers ensures the Western Union fee is the first tier whose upper bound
// (inclusive) covers the amount, from US$4.90 to US$45, the top tier flagged as assumed. R10
func TestWesternUnionTiers(t *testing.T) {
	tests := []struct {
		amount, fee int64
	}{
		{1, 4_90}, {50_00, 4_90}, {50_01, 8_00}, {100_00, 8_00}, {100_01, 10_00}, {250_00, 10_00},
		{250_01, 12_00}, {500_00, 12_00}, {500_01, 15_00}, {750_00, 15_00}, {750_01, 18_00},
		{1_000_00, 18_00}, {1_000_01, 45_00}, {5_000_00, 45_00},
	}
	for _, tc := range tests {
		q, err := payment.DefaultSchedule().Quote(payment.WesternUnion, money.New(tc.amount, usd), now)
		if err != nil {
			t.Errorf("%d: %v", tc.amount, err)
			continue
		}
		if q.Fee.Minor != tc.fee || q.Total.Minor != tc.amount {
			t.Errorf("%d: fee %d total %d, want fee %d", tc.amount, q.Fee.Minor, q.Total.Minor, tc.fee)
		}
		if assumed := strings.Contains(q.Description, "assumed"); assumed != (tc.fee == 45_00) {
			t.Errorf("%d: description %q", tc.amount, q.Description)
		}
	}
}

// TestQuoteRefused ensures a quote is refused for a method that does not take the currency, an
// amount that is not positive, an unknown method, a date before any rule, and a payment above
// the method's cap — card US$12,000 including the fee, Western Union US$5,000, Pay Later
// US$150,000. R9 R10 R11
func TestQuoteRefused(t *testing.T) {
	tests := []struct {
		name string
		m    payment.Method
		amt  money.Amount
		at   time.Time
		want string
	}{
		{"card in EUR", payment.Card, money.New(100, "EUR"), now, "method_currency_unsupported"},
		{"Western Union in EUR", payment.WesternUnion, money.New(100, "EUR"), now, "method_currency_unsupported"},
		{"online bank in CAD", payment.OnlineBank, money.New(100, "CAD"), now, "method_currency_unsupported"},
		{"pay later in EUR", payment.PayLater, money.New(100, "EUR"), now, "method_currency_unsupported"},
		{"boleto in USD", payment.Boleto, money.New(100, usd), now, "method_currency_unsupported"},
		{"T/T local in JPY", payment.TTLocal, money.New(100, "JPY"), now, "method_currency_unsupported"},
		{"zero", payment.Card, money.New(0, usd), now, "amount_not_positive"},
		{"negative", payment.TTWire, money.New(-1, usd), now, "amount_not_positive"},
		{"unknown method", "cash", money.New(100, usd), now, "unknown_payment_method"},
		{"before any rule", payment.Card, money.New(100, usd), day(2014, 12, 31), "no_fee_rule"},
		{"card at the cap", payment.Card, money.New(11_656_14, usd), now, ""},
		{"card a cent above the cap with its fee", payment.Card, money.New(11_656_15, usd), now, "method_limit_exceeded"},
		{"Western Union at the cap", payment.WesternUnion, money.New(5_000_00, usd), now, ""},
		{"Western Union above the cap", payment.WesternUnion, money.New(5_000_01, usd), now, "method_limit_exceeded"},
		{"pay later at the cap", payment.PayLater, money.New(150_000_00, usd), now, ""},
		{"pay later above the cap", payment.PayLater, money.New(150_000_01, usd), now, "method_limit_exceeded"},
		{"boleto above the cap", payment.Boleto, money.New(250_000_01, "BRL"), now, "method_limit_exceeded"},
		{"T/T has no cap", payment.TTWire, money.New(10_000_000_00, usd), now, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := payment.DefaultSchedule().Quote(tc.m, tc.amt, tc.at)
			if got := fault.ReasonOf(err); got != tc.want {
				t.Fatalf("reason %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
	q, _ := payment.DefaultSchedule().Quote(payment.Card, money.New(11_656_14, usd), now)
	if q.Total.Minor != 12_000_00 {
		t.Errorf("card at the cap: total %s, want USD 12000.00", q.Total)
	}
}

// TestEffectiveDating ensures the rule in force is the latest one not after the payment date:
// card 2.4% before 2018-06-04 and 2.95% from it; online bank US$15, free from 2017-12-15 to
// 2019-03-31, US$15 again from 2019-04-01. R10
func TestEffectiveDating(t *testing.T) {
	tests := []struct {
		name string
		m    payment.Method
		at   time.Time
		fee  int64
	}{
		{"card before the change", payment.Card, day(2018, 6, 3).Add(23*time.Hour + 59*time.Minute), 2_40},
		{"card on the change", payment.Card, day(2018, 6, 4), 2_95},
		{"card today", payment.Card, now, 2_95},
		{"online bank before the free period", payment.OnlineBank, day(2017, 12, 14), 15_00},
		{"online bank free from", payment.OnlineBank, day(2017, 12, 15), 0},
		{"online bank free until", payment.OnlineBank, day(2019, 3, 31), 0},
		{"online bank charged again", payment.OnlineBank, day(2019, 4, 1), 15_00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := payment.DefaultSchedule().Quote(tc.m, money.New(100_00, usd), tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if q.Fee.Minor != tc.fee || q.Rule.EffectiveFrom.After(tc.at) {
				t.Errorf("fee %d under the rule from %s, want %d", q.Fee.Minor, q.Rule.EffectiveFrom, tc.fee)
			}
		})
	}
	t.Run("order of the rules does not matter", func(t *testing.T) {
		s := payment.DefaultSchedule()
		for i, j := 0, len(s.Rules)-1; i < j; i, j = i+1, j-1 {
			s.Rules[i], s.Rules[j] = s.Rules[j], s.Rules[i]
		}
		r, err := s.Rule(payment.OnlineBank, day(2018, 1, 1))
		if err != nil || r.Kind != payment.FeeFree {
			t.Errorf("rule %+v, %v", r, err)
		}
	})
}

// TestRuleValidate ensures an admin's fee rule is refused unless it is well formed: a known
// method and kind, a rate within 0–100%, a known currency for fixed figures, non-negative figures
// with min ≤ max, and tiers ascending and ending unbounded; every default rule is valid. R10
func TestRuleValidate(t *testing.T) {
	for _, r := range payment.DefaultSchedule().Rules {
		if err := r.Validate(); err != nil {
			t.Errorf("default rule %s from %s: %v", r.Method, r.EffectiveFrom.Format(time.DateOnly), err)
		}
	}
	tiers := []payment.Tier{{UpTo: 100, Fee: 1}, {UpTo: 0, Fee: 2}}
	tests := []struct {
		name string
		r    payment.FeeRule
		want string
	}{
		{"free", payment.FeeRule{Method: payment.PayLater, Kind: payment.FeeFree}, ""},
		{"unknown method", payment.FeeRule{Method: "cash", Kind: payment.FeeFree}, "unknown_payment_method"},
		{"unknown kind", payment.FeeRule{Method: payment.Card, Kind: "sliding"}, "invalid_fee_kind"},
		{"percent 100%", payment.FeeRule{Method: payment.Card, Kind: payment.FeePercent, Rate: money.RatePerMillion}, ""},
		{"percent above 100%", payment.FeeRule{Method: payment.Card, Kind: payment.FeePercent, Rate: money.RatePerMillion + 1}, "invalid_rate"},
		{"percent negative", payment.FeeRule{Method: payment.Card, Kind: payment.FeePercent, Rate: -1}, "invalid_rate"},
		{"flat", payment.FeeRule{Method: payment.OnlineBank, Kind: payment.FeeFlat, Currency: usd, Flat: 15_00}, ""},
		{"flat without currency", payment.FeeRule{Method: payment.OnlineBank, Kind: payment.FeeFlat, Flat: 15_00}, "unknown_currency"},
		{"flat negative", payment.FeeRule{Method: payment.OnlineBank, Kind: payment.FeeFlat, Currency: usd, Flat: -1}, "invalid_fee"},
		{"estimate min above max", payment.FeeRule{Method: payment.TTWire, Kind: payment.FeeEstimate, Currency: usd, EstimateMin: 50_00, EstimateMax: 30_00}, "invalid_fee"},
		{"estimate negative", payment.FeeRule{Method: payment.TTWire, Kind: payment.FeeEstimate, Currency: usd, EstimateMin: -1, EstimateMax: 30_00}, "invalid_fee"},
		{"tiered", payment.FeeRule{Method: payment.WesternUnion, Kind: payment.FeeTiered, Currency: usd, Tiers: tiers}, ""},
		{"tiered without tiers", payment.FeeRule{Method: payment.WesternUnion, Kind: payment.FeeTiered, Currency: usd}, "invalid_tiers"},
		{"tiered bounded at the top", payment.FeeRule{Method: payment.WesternUnion, Kind: payment.FeeTiered, Currency: usd, Tiers: tiers[:1]}, "invalid_tiers"},
		{"tiered out of order", payment.FeeRule{Method: payment.WesternUnion, Kind: payment.FeeTiered, Currency: usd,
			Tiers: []payment.Tier{{UpTo: 200, Fee: 1}, {UpTo: 100, Fee: 2}, {UpTo: 0, Fee: 3}}}, "invalid_tiers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if got := fault.ReasonOf(err); got != tc.want {
				t.Errorf("reason %q, want %q (%v)", got, tc.want, err)
			}
			if err != nil && fault.CodeOf(err) != fault.Invalid {
				t.Errorf("code %s, want invalid", fault.CodeOf(err))
			}
		})
	}
}

// TestRuleValidateTierFees ensures a tiered rule with a negative fee is refused like a
// negative flat fee: a platform-collected negative fee would make the buyer send less than the
// installment and the fee posting negative. R10
//
// Regression test; the bug was: payment/fee.go:108-115 (FeeRule.Validate) checks Flat and the estimates but not the
// tiers' Fee (nor UpTo > 0 below the top tier), so {UpTo: 100, Fee: -1} is accepted; Quote then
// returns a negative fee and, if the platform collects it, a Total below the amount. Fix: in the
// FeeTiered branch, refuse any tier with Fee < 0, and any bounded tier with UpTo <= 0, with
// "invalid_fee"/"invalid_tiers".
func TestRuleValidateTierFees(t *testing.T) {
	r := payment.FeeRule{Method: payment.WesternUnion, Kind: payment.FeeTiered, Currency: usd,
		Tiers: []payment.Tier{{UpTo: 100, Fee: -1}, {UpTo: 0, Fee: 2}}}
	if err := r.Validate(); err == nil {
		t.Errorf("a tier with a negative fee passes Validate")
	}
}

// TestCatalog ensures every method of R9 is in the catalog with its currencies and caps, and
// that callers cannot change the catalog through what Catalog returns. R9 R11
func TestCatalog(t *testing.T) {
	c := payment.Catalog()
	want := []payment.Method{payment.TTWire, payment.TTLocal, payment.Card, payment.WesternUnion, payment.PayLater, payment.OnlineBank, payment.Boleto}
	if len(c) != len(want) {
		t.Fatalf("%d methods, want %d", len(c), len(want))
	}
	for i, m := range want {
		if c[i].Method != m || c[i].Name == "" || c[i].Arrival == "" || len(c[i].Currencies) == 0 {
			t.Errorf("method %d: %+v", i, c[i])
		}
	}
	pl, _ := payment.Info(payment.PayLater)
	if !pl.Accepts(usd) || pl.Accepts("EUR") || pl.MaxMinor[usd] != 150_000_00 {
		t.Errorf("pay later %+v: USD only, up to US$150,000 (R11)", pl)
	}
	c[0].Method = "changed"
	if payment.Catalog()[0].Method != payment.TTWire {
		t.Error("Catalog() shares its slice")
	}
	if _, err := payment.Info("cash"); fault.ReasonOf(err) != "unknown_payment_method" {
		t.Errorf("Info(cash) = %v", err)
	}
}
