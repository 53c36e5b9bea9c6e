package money

import "testing"

// TestDisplay ensures amounts read as people write them: thousands grouped, the currency's own
// digits, the sign in front.
func TestDisplay(t *testing.T) {
	for in, want := range map[string]string{"0.50": "0.50", "1234.56": "1,234.56", "-1234567": "-1,234,567",
		"999": "999", "1000": "1,000", "-0.25": "-0.25", "123456789.123": "123,456,789.123"} {
		if got := GroupThousands(in); got != want {
			t.Errorf("GroupThousands(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		a    Amount
		want string
	}{{New(1_160_000, "USD"), "USD 11,600.00"}, {New(500, "JPY"), "JPY 500"}, {New(-1_234_567, "KWD"), "KWD -1,234.567"}} {
		if got := c.a.Display(); got != c.want {
			t.Errorf("%v.Display() = %q, want %q", c.a, got, c.want)
		}
	}
}
