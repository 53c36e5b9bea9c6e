package money

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Amount is a quantity of money: Minor units of Currency (cents of USD, yen
// of JPY, fils of KWD).
//
// Results of arithmetic and parsing stay within ±math.MaxInt64 minor units:
// anything that would reach math.MinInt64 reports ErrOverflow too, so Neg is
// always exact. The zero Amount has no currency and is not usable; start
// from Zero or New.
type Amount struct {
	Minor    int64
	Currency Currency
}

// New returns minor units of c. It panics if c is not in the table: a
// currency from outside the program goes through ParseCurrency first.
func New(minor int64, c Currency) Amount {
	mustValid(c)
	return Amount{Minor: minor, Currency: c}
}

// Zero returns no money in c. It panics if c is not in the table.
func Zero(c Currency) Amount {
	return New(0, c)
}

// mustValid panics for a currency that only a bug can produce.
func mustValid(c Currency) {
	if !c.Valid() {
		panic(fmt.Sprintf("money: unknown currency %s", quote(string(c))))
	}
}

// Add returns a + b. Different currencies give ErrCurrencyMismatch; a sum
// beyond ±math.MaxInt64 minor units gives ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	if err := sameCurrency("add", a, b); err != nil {
		return Amount{}, err
	}
	sum := a.Minor + b.Minor
	// Signed overflow happened iff both operands have the sign opposite to the sum.
	if (a.Minor^sum)&(b.Minor^sum) < 0 || sum == math.MinInt64 {
		return Amount{}, fmt.Errorf("add %s to %s: %w", b, a, ErrOverflow)
	}
	return Amount{Minor: sum, Currency: a.Currency}, nil
}

// Sub returns a − b, with the errors of Add.
func (a Amount) Sub(b Amount) (Amount, error) {
	if err := sameCurrency("subtract", a, b); err != nil {
		return Amount{}, err
	}
	diff := a.Minor - b.Minor
	// Signed overflow happened iff the operands differ in sign and the
	// difference does not have the sign of a.
	if (a.Minor^b.Minor)&(a.Minor^diff) < 0 || diff == math.MinInt64 {
		return Amount{}, fmt.Errorf("subtract %s from %s: %w", b, a, ErrOverflow)
	}
	return Amount{Minor: diff, Currency: a.Currency}, nil
}

// sameCurrency returns nil if a and b can be combined: one known currency.
func sameCurrency(op string, a, b Amount) error {
	if a.Currency != b.Currency {
		return fmt.Errorf("%s %s and %s: %w", op, quote(string(a.Currency)), quote(string(b.Currency)), ErrCurrencyMismatch)
	}
	if !a.Currency.Valid() {
		return fmt.Errorf("%s %s amounts: %w", op, quote(string(a.Currency)), ErrUnknownCurrency)
	}
	return nil
}

// Neg returns −a. It panics for math.MinInt64 minor units, which no
// operation of this package produces.
func (a Amount) Neg() Amount {
	if a.Minor == math.MinInt64 {
		panic("money: negating math.MinInt64 minor units")
	}
	return Amount{Minor: -a.Minor, Currency: a.Currency}
}

// IsZero reports whether a is no money.
func (a Amount) IsZero() bool { return a.Minor == 0 }

// IsNegative reports whether a is below zero, e.g. a balance owed.
func (a Amount) IsNegative() bool { return a.Minor < 0 }

// IsPositive reports whether a is above zero.
func (a Amount) IsPositive() bool { return a.Minor > 0 }

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
// Amounts of different currencies have no order: ErrCurrencyMismatch.
func (a Amount) Cmp(b Amount) (int, error) {
	if err := sameCurrency("compare", a, b); err != nil {
		return 0, err
	}
	return cmpMinor(a.Minor, b.Minor), nil
}

func cmpMinor(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// Min returns the smaller of a and b, e.g. to cap a refund at what is held.
// Both must have the same currency; anything else is a bug and panics.
func (a Amount) Min(b Amount) Amount {
	mustSameCurrency("min", a, b)
	if b.Minor < a.Minor {
		return b
	}
	return a
}

// Max returns the larger of a and b, e.g. to clamp a balance at zero.
// Both must have the same currency; anything else is a bug and panics.
func (a Amount) Max(b Amount) Amount {
	mustSameCurrency("max", a, b)
	if b.Minor > a.Minor {
		return b
	}
	return a
}

func mustSameCurrency(op string, a, b Amount) {
	if err := sameCurrency(op, a, b); err != nil {
		panic("money: " + err.Error())
	}
}

// MulRate returns a × r rounded to the nearest minor unit, halves away from
// zero (USD 0.295 becomes 0.30, USD −0.295 becomes −0.30). This is how fees
// and shares are taken from an amount. The product is formed in 128 bits, so
// only a result beyond ±math.MaxInt64 gives ErrOverflow; a negative r gives
// ErrInvalidRate.
func (a Amount) MulRate(r Rate) (Amount, error) {
	if !a.Currency.Valid() {
		return Amount{}, fmt.Errorf("multiply %s by %s: %w", a, r, ErrUnknownCurrency)
	}
	if r < 0 {
		return Amount{}, fmt.Errorf("multiply %s by %s: %w", a, r, ErrInvalidRate)
	}
	hi, lo := bits.Mul64(magnitude(a.Minor), uint64(r))
	var carry uint64
	lo, carry = bits.Add64(lo, uint64(RatePerMillion/2), 0)
	hi += carry // cannot wrap: both factors are at most 2^63, so hi < 2^62.
	if hi >= uint64(RatePerMillion) {
		// bits.Div64 would panic: the quotient does not fit 64 bits.
		return Amount{}, fmt.Errorf("multiply %s by %s: %w", a, r, ErrOverflow)
	}
	q, _ := bits.Div64(hi, lo, uint64(RatePerMillion))
	if q > math.MaxInt64 {
		return Amount{}, fmt.Errorf("multiply %s by %s: %w", a, r, ErrOverflow)
	}
	if a.Minor < 0 {
		return Amount{Minor: -int64(q), Currency: a.Currency}, nil
	}
	return Amount{Minor: int64(q), Currency: a.Currency}, nil
}

// Sum returns the total of xs in c, Zero(c) for none. Every x must be in c
// (ErrCurrencyMismatch otherwise); a running total beyond ±math.MaxInt64
// gives ErrOverflow, even if later terms would bring it back.
func Sum(c Currency, xs ...Amount) (Amount, error) {
	if !c.Valid() {
		return Amount{}, fmt.Errorf("sum %s amounts: %w", quote(string(c)), ErrUnknownCurrency)
	}
	total := Amount{Currency: c}
	for i, x := range xs {
		var err error
		if total, err = total.Add(x); err != nil {
			return Amount{}, fmt.Errorf("sum term %d: %w", i, err)
		}
	}
	return total, nil
}

// String returns the currency code and the decimal amount with exactly the
// currency's digits: "USD 1234.56", "JPY 500", "KWD -1.250". An Amount with
// an unknown currency, which only a bug makes, prints its minor units
// instead of panicking, so that it can still be logged.
func (a Amount) String() string {
	if !a.Currency.Valid() {
		return fmt.Sprintf("%d minor units of unknown currency %s", a.Minor, quote(string(a.Currency)))
	}
	return string(a.Currency) + " " + a.Decimal()
}

// Decimal returns the amount without its code, with exactly the currency's
// digits: "1234.56", "500", "-1.250". It is the text Parse reads back. It
// panics for an unknown currency.
func (a Amount) Decimal() string {
	return formatDecimal(magnitude(a.Minor), a.Minor < 0, a.Currency.Digits())
}

// Parse reads a plain decimal amount of c: "1234.56", "1234.5", "1234",
// "-0.01". More fraction digits than c has, exponents, spaces, group
// separators, "+", leading or trailing points, "NaN" and "Inf" are
// ErrInvalidAmount; values beyond ±math.MaxInt64 minor units are ErrOverflow.
func Parse(decimal string, c Currency) (Amount, error) {
	if !c.Valid() {
		return Amount{}, fmt.Errorf("parse amount %s: currency %s: %w", quote(decimal), quote(string(c)), ErrUnknownCurrency)
	}
	mag, neg, err := parseDecimal(decimal, c.Digits(), math.MaxInt64)
	if err == errRange {
		return Amount{}, fmt.Errorf("parse %s amount %s: %w", c, quote(decimal), ErrOverflow)
	}
	if err != nil {
		return Amount{}, fmt.Errorf("parse %s amount %s: %v: %w", c, quote(decimal), err, ErrInvalidAmount)
	}
	minor := int64(mag) // mag <= math.MaxInt64, so this is exact.
	if neg {
		minor = -minor
	}
	return Amount{Minor: minor, Currency: c}, nil
}

// Display returns the amount for people to read: its code and the decimal with thousands
// grouped, "USD 12,345.67", "JPY -1,500". Parse does not read it back; Decimal is for that.
func (a Amount) Display() string {
	if !a.Currency.Valid() {
		return a.String()
	}
	return string(a.Currency) + " " + GroupThousands(a.Decimal())
}

// GroupThousands puts commas between the thousands of a decimal's integer part:
// "-1234567.89" → "-1,234,567.89".
func GroupThousands(dec string) string {
	sign := ""
	if strings.HasPrefix(dec, "-") {
		sign, dec = "-", dec[1:]
	}
	whole, frac, hasFrac := strings.Cut(dec, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
