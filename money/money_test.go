package money

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestCurrencyTable ensures the ISO 4217 table has every active code with
// the minor units ISO gives, and none of the codes without a minor unit.
func TestCurrencyTable(t *testing.T) {
	want := map[int][]Currency{
		0: {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"},
		3: {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"},
		4: {"CLF", "UYW"},
	}
	for digits, codes := range want {
		for _, c := range codes {
			if got := c.Digits(); got != digits {
				t.Errorf("%s.Digits() = %d, want %d", c, got, digits)
			}
		}
	}
	for _, c := range []Currency{"USD", "EUR", "GBP", "CNY", "INR", "CHF", "USN", "BOV", "CHE", "CHW", "COU", "MXV", "XCD", "XCG", "ZWG", "VES", "VED", "SLE", "STN", "MRU", "XAD"} {
		if got := c.Digits(); got != 2 {
			t.Errorf("%s.Digits() = %d, want 2", c, got)
		}
	}
	// Codes without a minor unit ("N.A."), and codes ISO has withdrawn.
	for _, c := range []Currency{"XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX", "ANG", "BGN", "CUC", "HRK", "SLL", "ZWL", "VEF", "MRO", "STD"} {
		if c.Valid() {
			t.Errorf("%s.Valid() = true, want false", c)
		}
	}
	if got := len(iso4217); got != 165 {
		t.Errorf("table has %d codes, want the 165 of ISO 4217 list one with a minor unit", got)
	}
	for c, d := range iso4217 {
		if len(c) != 3 || strings.ToUpper(string(c)) != string(c) || d < 0 || d > 4 {
			t.Errorf("bad table entry %q: %d", c, d)
		}
	}
}

// TestCurrencies ensures Currencies lists the whole table, sorted, and that
// callers cannot alter the table through the returned slice.
func TestCurrencies(t *testing.T) {
	cs := Currencies()
	if len(cs) != len(iso4217) || !slices.IsSorted(cs) {
		t.Fatalf("Currencies() = %d codes, sorted=%v; want %d sorted", len(cs), slices.IsSorted(cs), len(iso4217))
	}
	cs[0] = "ZZZ"
	if Currencies()[0] != "AED" {
		t.Errorf("Currencies() shares its slice between calls")
	}
}

// TestParseCurrency ensures only exact upper-case known codes parse, and that
// the error names the input and wraps ErrUnknownCurrency.
func TestParseCurrency(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"usd", "USD", true},
		{"fund code", "CLF", true},
		{"lower case", "usd", false},
		{"mixed case", "Usd", false},
		{"leading space", " USD", false},
		{"trailing space", "USD ", false},
		{"unknown", "ABC", false},
		{"no minor unit", "XDR", false},
		{"withdrawn", "ANG", false},
		{"empty", "", false},
		{"too long", "USDX", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCurrency(tt.in)
			if tt.ok {
				if err != nil || string(c) != tt.in {
					t.Fatalf("ParseCurrency(%q) = %q, %v", tt.in, c, err)
				}
				return
			}
			if !errors.Is(err, ErrUnknownCurrency) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
				t.Fatalf("ParseCurrency(%q) error = %v, want ErrUnknownCurrency naming the input", tt.in, err)
			}
		})
	}
}

// TestPanicsOnBugs ensures the calls that only a bug can make with bad
// arguments fail loudly instead of computing with them.
func TestPanicsOnBugs(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"digits of unknown", func() { Currency("usd").Digits() }},
		{"new with unknown", func() { New(1, "usd") }},
		{"zero with unknown", func() { Zero("") }},
		{"min across currencies", func() { New(1, "USD").Min(New(1, "EUR")) }},
		{"max across currencies", func() { New(1, "USD").Max(New(1, "EUR")) }},
		{"neg of MinInt64", func() { New(math.MinInt64, "USD").Neg() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("did not panic")
				}
			}()
			tt.f()
		})
	}
}

// TestParseFormatRoundTrip ensures Parse reads the decimal forms of 0-, 2-, 3-
// and 4-digit currencies to the right minor units, and that Decimal writes
// them back in canonical form that Parse reads again.
func TestParseFormatRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		c        Currency
		in       string
		minor    int64
		canon    string
		wantText string
	}{
		{"jpy", "JPY", "500", 500, "500", "JPY 500"},
		{"jpy negative", "JPY", "-500", -500, "-500", "JPY -500"},
		{"jpy max", "JPY", "9223372036854775807", math.MaxInt64, "9223372036854775807", "JPY 9223372036854775807"},
		{"usd", "USD", "1234.56", 123456, "1234.56", "USD 1234.56"},
		{"usd one fraction digit", "USD", "1234.5", 123450, "1234.50", "USD 1234.50"},
		{"usd whole", "USD", "1234", 123400, "1234.00", "USD 1234.00"},
		{"usd cent", "USD", "-0.01", -1, "-0.01", "USD -0.01"},
		{"usd zero", "USD", "0", 0, "0.00", "USD 0.00"},
		{"usd negative zero", "USD", "-0.00", 0, "0.00", "USD 0.00"},
		{"usd leading zeros", "USD", "007.50", 750, "7.50", "USD 7.50"},
		{"usd max", "USD", "92233720368547758.07", math.MaxInt64, "92233720368547758.07", "USD 92233720368547758.07"},
		{"usd min", "USD", "-92233720368547758.07", -math.MaxInt64, "-92233720368547758.07", "USD -92233720368547758.07"},
		{"kwd", "KWD", "-1.25", -1250, "-1.250", "KWD -1.250"},
		{"kwd fils", "KWD", "0.001", 1, "0.001", "KWD 0.001"},
		{"clf", "CLF", "1.2345", 12345, "1.2345", "CLF 1.2345"},
		{"clf smallest", "CLF", "0.0001", 1, "0.0001", "CLF 0.0001"},
		{"uyw", "UYW", "-12.3", -123000, "-12.3000", "UYW -12.3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(tt.in, tt.c)
			if err != nil || a != New(tt.minor, tt.c) {
				t.Fatalf("Parse(%q, %s) = %+v, %v; want %d", tt.in, tt.c, a, err, tt.minor)
			}
			if got := a.Decimal(); got != tt.canon {
				t.Errorf("Decimal() = %q, want %q", got, tt.canon)
			}
			if got := a.String(); got != tt.wantText {
				t.Errorf("String() = %q, want %q", got, tt.wantText)
			}
			if b, err := Parse(a.Decimal(), tt.c); err != nil || b != a {
				t.Errorf("Parse(Decimal()) = %+v, %v; want %+v", b, err, a)
			}
		})
	}
}

// TestParseRejects ensures Parse refuses every text that is not one plain
// decimal within range, with the sentinel a caller can map to a response.
func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		c    Currency
		in   string
		want error
	}{
		{"usd three fraction digits", "USD", "1.234", ErrInvalidAmount},
		{"jpy any fraction", "JPY", "1.0", ErrInvalidAmount},
		{"kwd four fraction digits", "KWD", "1.2345", ErrInvalidAmount},
		{"clf five fraction digits", "CLF", "1.23456", ErrInvalidAmount},
		{"exponent", "USD", "1e3", ErrInvalidAmount},
		{"upper exponent", "USD", "1E3", ErrInvalidAmount},
		{"leading space", "USD", " 1.00", ErrInvalidAmount},
		{"trailing space", "USD", "1.00 ", ErrInvalidAmount},
		{"inner space", "USD", "- 1.00", ErrInvalidAmount},
		{"comma group", "USD", "1,000.00", ErrInvalidAmount},
		{"decimal comma", "USD", "1,00", ErrInvalidAmount},
		{"underscore", "USD", "1_000", ErrInvalidAmount},
		{"plus", "USD", "+1.00", ErrInvalidAmount},
		{"double minus", "USD", "--1", ErrInvalidAmount},
		{"leading dot", "USD", ".50", ErrInvalidAmount},
		{"negative leading dot", "USD", "-.50", ErrInvalidAmount},
		{"trailing dot", "USD", "5.", ErrInvalidAmount},
		{"trailing dot jpy", "JPY", "5.", ErrInvalidAmount},
		{"two dots", "USD", "1.2.3", ErrInvalidAmount},
		{"empty", "USD", "", ErrInvalidAmount},
		{"minus only", "USD", "-", ErrInvalidAmount},
		{"nan", "USD", "NaN", ErrInvalidAmount},
		{"inf", "USD", "Inf", ErrInvalidAmount},
		{"negative inf", "USD", "-Inf", ErrInvalidAmount},
		{"hex", "USD", "0x10", ErrInvalidAmount},
		{"fullwidth digit", "USD", "１", ErrInvalidAmount},
		{"arabic-indic digit", "USD", "١", ErrInvalidAmount},
		{"with code", "USD", "USD 1.00", ErrInvalidAmount},
		{"usd above max", "USD", "92233720368547758.08", ErrOverflow},
		{"jpy above max", "JPY", "9223372036854775808", ErrOverflow},
		{"jpy MinInt64", "JPY", "-9223372036854775808", ErrOverflow},
		{"huge", "KWD", "99999999999999999999999999", ErrOverflow},
		{"unknown currency", "usd", "1.00", ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(tt.in, tt.c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q, %s) = %+v, %v; want %v", tt.in, tt.c, a, err, tt.want)
			}
			if !strings.Contains(err.Error(), quote(tt.in)) {
				t.Errorf("error %q does not name the input", err)
			}
		})
	}
}

// TestAddSub ensures Add and Sub are exact inside the int64 range and report
// ErrOverflow at both edges instead of wrapping, including the one value
// (math.MinInt64) that Neg could not undo.
func TestAddSub(t *testing.T) {
	const maxI, minI = math.MaxInt64, math.MinInt64
	tests := []struct {
		name     string
		op       string
		a, b     int64
		want     int64
		overflow bool
	}{
		{"add", "+", 123456, -6, 123450, false},
		{"add to max", "+", maxI - 1, 1, maxI, false},
		{"add past max", "+", maxI, 1, 0, true},
		{"add max and max", "+", maxI, maxI, 0, true},
		{"add opposite extremes", "+", maxI, -maxI, 0, false},
		{"add to -max", "+", -maxI + 1, -1, -maxI, false},
		{"add reaching MinInt64", "+", -maxI, -1, 0, true},
		{"add past min", "+", -maxI, -maxI, 0, true},
		{"add zero to MinInt64", "+", minI, 0, 0, true},
		{"sub", "-", 100, 250, -150, false},
		{"sub max from zero", "-", 0, maxI, -maxI, false},
		{"sub reaching MinInt64", "-", -1, maxI, 0, true},
		{"sub past max", "-", maxI, -1, 0, true},
		{"sub past min", "-", -maxI, maxI, 0, true},
		{"sub MinInt64", "-", 0, minI, 0, true},
		{"sub equal extremes", "-", maxI, maxI, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := New(tt.a, "USD"), New(tt.b, "USD")
			var got Amount
			var err error
			if tt.op == "+" {
				got, err = a.Add(b)
			} else {
				got, err = a.Sub(b)
			}
			if tt.overflow {
				if !errors.Is(err, ErrOverflow) {
					t.Fatalf("%d %s %d = %+v, %v; want ErrOverflow", tt.a, tt.op, tt.b, got, err)
				}
				return
			}
			if err != nil || got != New(tt.want, "USD") {
				t.Fatalf("%d %s %d = %+v, %v; want %d", tt.a, tt.op, tt.b, got, err, tt.want)
			}
		})
	}
}

// TestCurrencyMismatch ensures no operation combines amounts of different or
// unknown currencies.
func TestCurrencyMismatch(t *testing.T) {
	usd, eur := New(100, "USD"), New(100, "EUR")
	tests := []struct {
		name string
		f    func() error
		want error
	}{
		{"add", func() error { _, err := usd.Add(eur); return err }, ErrCurrencyMismatch},
		{"sub", func() error { _, err := usd.Sub(eur); return err }, ErrCurrencyMismatch},
		{"cmp", func() error { _, err := usd.Cmp(eur); return err }, ErrCurrencyMismatch},
		{"sum", func() error { _, err := Sum("USD", usd, eur); return err }, ErrCurrencyMismatch},
		{"add zero values", func() error { _, err := Amount{}.Add(Amount{}); return err }, ErrUnknownCurrency},
		{"cmp unknown", func() error { _, err := Amount{Currency: "usd"}.Cmp(Amount{Currency: "usd"}); return err }, ErrUnknownCurrency},
		{"sum unknown", func() error { _, err := Sum("usd"); return err }, ErrUnknownCurrency},
		{"mulrate unknown", func() error { _, err := Amount{Minor: 1}.MulRate(RatePerMillion); return err }, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f(); !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCompare ensures Cmp, Min, Max, Neg and the sign predicates agree on
// order and sign.
func TestCompare(t *testing.T) {
	tests := []struct {
		name                      string
		a, b                      int64
		cmp                       int
		min, max                  int64
		zero, negative, positiveA bool
	}{
		{"less", -5, 3, -1, -5, 3, false, true, false},
		{"equal", 7, 7, 0, 7, 7, false, false, true},
		{"greater", 0, -1, 1, -1, 0, true, false, false},
		{"extremes", math.MaxInt64, -math.MaxInt64, 1, -math.MaxInt64, math.MaxInt64, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := New(tt.a, "EUR"), New(tt.b, "EUR")
			if got, err := a.Cmp(b); err != nil || got != tt.cmp {
				t.Errorf("Cmp = %d, %v; want %d", got, err, tt.cmp)
			}
			if got := a.Min(b); got != New(tt.min, "EUR") {
				t.Errorf("Min = %v, want %d", got, tt.min)
			}
			if got := a.Max(b); got != New(tt.max, "EUR") {
				t.Errorf("Max = %v, want %d", got, tt.max)
			}
			if a.IsZero() != tt.zero || a.IsNegative() != tt.negative || a.IsPositive() != tt.positiveA {
				t.Errorf("IsZero/IsNegative/IsPositive = %v/%v/%v", a.IsZero(), a.IsNegative(), a.IsPositive())
			}
			if n := a.Neg(); n.Minor != -tt.a || n.Currency != "EUR" || n.Neg() != a {
				t.Errorf("Neg = %v", n)
			}
		})
	}
}

// TestMulRate ensures a × r rounds half away from zero to the minor unit,
// keeps full precision at the int64 edges and reports ErrOverflow only when
// the result itself does not fit.
func TestMulRate(t *testing.T) {
	tests := []struct {
		name  string
		c     Currency
		minor int64
		rate  Rate
		want  int64
		err   error
	}{
		{"fee 0.295 rounds up", "USD", 1000, 29_500, 30, nil},
		{"fee negative rounds away from zero", "USD", -1000, 29_500, -30, nil},
		{"half a cent rounds up", "USD", 1, 500_000, 1, nil},
		{"minus half a cent rounds down", "USD", -1, 500_000, -1, nil},
		{"just below half rounds down", "USD", 1, 499_999, 0, nil},
		{"just below minus half rounds to zero", "USD", -1, 499_999, 0, nil},
		{"just above half", "USD", 1, 500_001, 1, nil},
		{"jpy", "JPY", 100, 29_500, 3, nil},
		{"kwd half fils", "KWD", 1000, 500, 1, nil},
		{"clf", "CLF", 12345, 250_000, 3086, nil}, // 3086.25
		{"zero rate", "USD", 123456, 0, 0, nil},
		{"zero amount", "USD", 0, RatePerMillion, 0, nil},
		{"whole", "USD", 123456, RatePerMillion, 123456, nil},
		{"max whole", "USD", math.MaxInt64, RatePerMillion, math.MaxInt64, nil},
		{"-max whole", "USD", -math.MaxInt64, RatePerMillion, -math.MaxInt64, nil},
		{"max half", "USD", math.MaxInt64, 500_000, 4611686018427387904, nil},             // …903.5
		{"huge rate", "USD", 1, Rate(math.MaxInt64), 9223372036855, nil},                  // 9223372036854.775807
		{"max times max rate", "USD", math.MaxInt64, Rate(math.MaxInt64), 0, ErrOverflow}, // quotient beyond 64 bits
		{"max past whole", "USD", math.MaxInt64, RatePerMillion + 1, 0, ErrOverflow},
		{"-max past whole", "USD", -math.MaxInt64, RatePerMillion + 1, 0, ErrOverflow},
		{"MinInt64 whole", "USD", math.MinInt64, RatePerMillion, 0, ErrOverflow},
		{"twice max", "USD", math.MaxInt64/2 + 1, 2 * RatePerMillion, 0, ErrOverflow},
		{"negative rate", "USD", 100, -1, 0, ErrInvalidRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.minor, tt.c).MulRate(tt.rate)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("MulRate = %+v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got != New(tt.want, tt.c) {
				t.Fatalf("%d × %d ppm = %+v, %v; want %d", tt.minor, tt.rate, got, err, tt.want)
			}
		})
	}
}

// TestSum ensures Sum totals amounts of one currency, starts from zero and
// stops at the first overflow.
func TestSum(t *testing.T) {
	tests := []struct {
		name string
		xs   []int64
		want int64
		err  error
	}{
		{"none", nil, 0, nil},
		{"some", []int64{100, -30, 5}, 75, nil},
		{"to max", []int64{math.MaxInt64 - 1, 1}, math.MaxInt64, nil},
		{"past max", []int64{math.MaxInt64, 1, -1}, 0, ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var xs []Amount
			for _, m := range tt.xs {
				xs = append(xs, New(m, "GBP"))
			}
			got, err := Sum("GBP", xs...)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Sum = %+v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got != New(tt.want, "GBP") {
				t.Fatalf("Sum = %+v, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestStringUnknownCurrency ensures an Amount a bug left without a currency
// still prints, rather than panicking inside a log call.
func TestStringUnknownCurrency(t *testing.T) {
	if got := (Amount{Minor: 5}).String(); !strings.Contains(got, "5 minor units") {
		t.Errorf("String() = %q", got)
	}
}

// TestParseRate ensures both spellings of a rate parse to parts per million
// and that String writes the percent form ParseRate reads back.
func TestParseRate(t *testing.T) {
	tests := []struct {
		name, in string
		want     Rate
		text     string
	}{
		{"percent", "2.95%", 29_500, "2.95%"},
		{"fraction", "0.0295", 29_500, "2.95%"},
		{"quarter percent", "0.25%", 2_500, "0.25%"},
		{"quarter percent fraction", "0.0025", 2_500, "0.25%"},
		{"whole percent", "100%", RatePerMillion, "100%"},
		{"whole fraction", "1", RatePerMillion, "100%"},
		{"whole fraction with zeros", "1.000000", RatePerMillion, "100%"},
		{"whole percent with zeros", "100.0000%", RatePerMillion, "100%"},
		{"zero percent", "0%", 0, "0%"},
		{"zero fraction", "0", 0, "0%"},
		{"smallest percent", "0.0001%", 1, "0.0001%"},
		{"smallest fraction", "0.000001", 1, "0.0001%"},
		{"half", "50%", 500_000, "50%"},
		{"half fraction", "0.5", 500_000, "50%"},
		{"ten percent", "10%", 100_000, "10%"},
		{"all digits", "12.3456%", 123_456, "12.3456%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRate(tt.in)
			if err != nil || r != tt.want {
				t.Fatalf("ParseRate(%q) = %d, %v; want %d", tt.in, r, err, tt.want)
			}
			if got := r.String(); got != tt.text {
				t.Errorf("String() = %q, want %q", got, tt.text)
			}
			if got := r.Percent(); got != tt.text {
				t.Errorf("Percent() = %q, want %q", got, tt.text)
			}
			if back, err := ParseRate(r.String()); err != nil || back != r {
				t.Errorf("ParseRate(String()) = %d, %v", back, err)
			}
		})
	}
}

// TestParseRateRejects ensures negative, above-100%, over-precise and
// malformed rates are refused with ErrInvalidRate.
func TestParseRateRejects(t *testing.T) {
	for _, in := range []string{
		"-1%", "-0.01", "-0%", "100.0001%", "101%", "1.000001", "2",
		"0.12345%", "0.1234567", "", "%", "2.95 %", " 2.95%", "2.95% ",
		"+2%", "2.95%%", "%2.95", "2e-2", ".5", "5.%", "5.", "NaN", "1,5%", "0x1",
		"99999999999999999999999%",
	} {
		t.Run(in, func(t *testing.T) {
			r, err := ParseRate(in)
			if !errors.Is(err, ErrInvalidRate) {
				t.Fatalf("ParseRate(%q) = %d, %v; want ErrInvalidRate", in, r, err)
			}
		})
	}
}

// TestJSONRoundTrip ensures an Amount travels as integer minor units and a
// code, alone and inside a struct, and comes back equal.
func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		a    Amount
		want string
	}{
		{"usd", New(123456, "USD"), `{"minor":123456,"currency":"USD"}`},
		{"negative kwd", New(-1250, "KWD"), `{"minor":-1250,"currency":"KWD"}`},
		{"zero jpy", Zero("JPY"), `{"minor":0,"currency":"JPY"}`},
		{"max", New(math.MaxInt64, "CLF"), `{"minor":9223372036854775807,"currency":"CLF"}`},
		{"-max", New(-math.MaxInt64, "EUR"), `{"minor":-9223372036854775807,"currency":"EUR"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.a)
			if err != nil || string(b) != tt.want {
				t.Fatalf("Marshal = %s, %v; want %s", b, err, tt.want)
			}
			var got Amount
			if err := json.Unmarshal(b, &got); err != nil || got != tt.a {
				t.Fatalf("Unmarshal = %+v, %v; want %+v", got, err, tt.a)
			}
			type order struct {
				Price    Amount  `json:"price"`
				Discount *Amount `json:"discount"`
			}
			in := order{Price: tt.a, Discount: &tt.a}
			b, err = json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var out order
			if err := json.Unmarshal(b, &out); err != nil || out.Price != tt.a || out.Discount == nil || *out.Discount != tt.a {
				t.Fatalf("struct round trip of %s = %+v, %v", b, out, err)
			}
			out = order{}
			if err := json.Unmarshal([]byte(`{"price":`+tt.want+`,"discount":null}`), &out); err != nil || out.Discount != nil {
				t.Fatalf("null optional amount = %+v, %v", out, err)
			}
		})
	}
}

// TestMarshalJSONUnknownCurrency ensures nothing is written that
// UnmarshalJSON would refuse.
func TestMarshalJSONUnknownCurrency(t *testing.T) {
	if b, err := json.Marshal(Amount{Minor: 1}); !errors.Is(err, ErrUnknownCurrency) {
		t.Fatalf("Marshal(Amount{}) = %s, %v; want ErrUnknownCurrency", b, err)
	}
}

// TestUnmarshalJSONStrict ensures every JSON that is not exactly one integer
// "minor" and one known "currency" is refused, and leaves the target alone.
func TestUnmarshalJSONStrict(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"null", `null`, ErrInvalidAmount},
		{"array", `[]`, ErrInvalidAmount},
		{"string", `"USD 1.00"`, ErrInvalidAmount},
		{"number", `100`, ErrInvalidAmount},
		{"empty object", `{}`, ErrInvalidAmount},
		{"no currency", `{"minor":1}`, ErrInvalidAmount},
		{"no minor", `{"currency":"USD"}`, ErrInvalidAmount},
		{"lower-case code", `{"minor":1,"currency":"usd"}`, ErrUnknownCurrency},
		{"no minor unit code", `{"minor":1,"currency":"XXX"}`, ErrUnknownCurrency},
		{"empty code", `{"minor":1,"currency":""}`, ErrUnknownCurrency},
		{"fraction", `{"minor":1.5,"currency":"USD"}`, ErrInvalidAmount},
		{"integral float", `{"minor":1.0,"currency":"USD"}`, ErrInvalidAmount},
		{"exponent", `{"minor":1e2,"currency":"USD"}`, ErrInvalidAmount},
		{"string minor", `{"minor":"100","currency":"USD"}`, ErrInvalidAmount},
		{"null minor", `{"minor":null,"currency":"USD"}`, ErrInvalidAmount},
		{"bool minor", `{"minor":true,"currency":"USD"}`, ErrInvalidAmount},
		{"object minor", `{"minor":{},"currency":"USD"}`, ErrInvalidAmount},
		{"null currency", `{"minor":1,"currency":null}`, ErrInvalidAmount},
		{"numeric currency", `{"minor":1,"currency":840}`, ErrInvalidAmount},
		{"above max", `{"minor":9223372036854775808,"currency":"USD"}`, ErrOverflow},
		{"MinInt64", `{"minor":-9223372036854775808,"currency":"USD"}`, ErrOverflow},
		{"capitalised key", `{"Minor":1,"currency":"USD"}`, ErrInvalidAmount},
		{"capitalised currency key", `{"minor":1,"Currency":"USD"}`, ErrInvalidAmount},
		{"duplicate minor", `{"minor":1,"minor":2,"currency":"USD"}`, ErrInvalidAmount},
		{"duplicate currency", `{"minor":1,"currency":"USD","currency":"EUR"}`, ErrInvalidAmount},
		{"extra key", `{"minor":1,"currency":"USD","decimal":"0.01"}`, ErrInvalidAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(42, "CHF")
			err := json.Unmarshal([]byte(tt.in), &a)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmarshal(%s) error = %v, want %v", tt.in, err, tt.want)
			}
			if a != New(42, "CHF") {
				t.Errorf("failed Unmarshal changed the target to %+v", a)
			}
		})
	}
}

// TestCurrencyUnmarshalText ensures a bare Currency in JSON, as a value or a
// map key, is as strict as ParseCurrency.
func TestCurrencyUnmarshalText(t *testing.T) {
	var c Currency
	if err := json.Unmarshal([]byte(`"EUR"`), &c); err != nil || c != "EUR" {
		t.Errorf(`Unmarshal("EUR") = %q, %v`, c, err)
	}
	if err := json.Unmarshal([]byte(`"eur"`), &c); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf(`Unmarshal("eur") error = %v, want ErrUnknownCurrency`, err)
	}
	var m map[Currency]int
	if err := json.Unmarshal([]byte(`{"USD":1,"usd":2}`), &m); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf("map key error = %v, want ErrUnknownCurrency", err)
	}
}

// FuzzParse ensures Parse never panics, fails only with its documented
// sentinels, and that whatever it accepts, and every int64 amount, survives
// Decimal → Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1234.56", "-0.01", "0", "1.234", "1e3", ".5", "5.", "", "-", "92233720368547758.07", "9223372036854775808", "NaN", "+1", "007.50"} {
		f.Add(s, int64(123456), uint8(0))
	}
	f.Add("500", int64(math.MaxInt64), uint8(80))
	f.Add("-1.250", int64(-math.MaxInt64), uint8(90))
	f.Add("1.2345", int64(math.MinInt64), uint8(33))
	cs := Currencies()
	f.Fuzz(func(t *testing.T, s string, minor int64, ci uint8) {
		c := cs[int(ci)%len(cs)]
		a, err := Parse(s, c)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) && !errors.Is(err, ErrOverflow) {
				t.Fatalf("Parse(%q, %s) error %v wraps no sentinel", s, c, err)
			}
		} else {
			if a.Currency != c || a.Minor == math.MinInt64 {
				t.Fatalf("Parse(%q, %s) = %+v", s, c, a)
			}
			if b, err := Parse(a.Decimal(), c); err != nil || b != a {
				t.Fatalf("Parse(%q).Decimal() = %q re-parses to %+v, %v", s, a.Decimal(), b, err)
			}
		}
		if minor == math.MinInt64 {
			return // outside the range an Amount keeps
		}
		x := New(minor, c)
		if y, err := Parse(x.Decimal(), c); err != nil || y != x {
			t.Fatalf("Parse(%q) = %+v, %v; want %+v", x.Decimal(), y, err, x)
		}
	})
}
