package money

import (
	"fmt"
	"maps"
	"slices"
)

// Currency is an ISO 4217 alphabetic code known to the built-in table, e.g.
// "USD". Obtain one from ParseCurrency when the code comes from outside the
// program; a constant such as "EUR" may be converted directly.
type Currency string

// ParseCurrency returns the currency for s, which must be an upper-case
// three-letter code present in the table. Anything else, including
// lower-case codes and surrounding spaces, is rejected with an error wrapping
// ErrUnknownCurrency that names the input.
func ParseCurrency(s string) (Currency, error) {
	c := Currency(s)
	if !c.Valid() {
		return "", fmt.Errorf("parse currency %s: %w", quote(s), ErrUnknownCurrency)
	}
	return c, nil
}

// Valid reports whether c is in the ISO 4217 table.
func (c Currency) Valid() bool {
	_, ok := iso4217[c]
	return ok
}

// Digits returns the minor-unit exponent of c from ISO 4217: 0 for JPY, 2 for
// USD, 3 for KWD, 4 for CLF. It panics for an unknown currency, which only a
// bug can pass: codes from outside go through ParseCurrency.
func (c Currency) Digits() int {
	d, ok := iso4217[c]
	if !ok {
		panic(fmt.Sprintf("money: digits of unknown currency %s", quote(string(c))))
	}
	return d
}

// Currencies returns all known codes, sorted. The slice is the caller's.
func Currencies() []Currency {
	return slices.Sorted(maps.Keys(iso4217))
}

// UnmarshalText parses a currency code as ParseCurrency does, so that a
// Currency field in JSON or any other text encoding is as strict as Amount.
// The empty string decodes to the zero Currency ("not set"), so optional fields round-trip;
// whoever requires a currency checks Valid.
func (c *Currency) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*c = ""
		return nil
	}
	parsed, err := ParseCurrency(string(text))
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}
