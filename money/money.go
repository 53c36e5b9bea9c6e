// Package money holds amounts of money as int64 minor units of an ISO 4217
// currency, and the proportions (rates) applied to them.
//
// Floats never appear: an amount is an exact count of minor units (cents,
// fils, yen), and every operation that could leave the int64 range reports
// ErrOverflow instead of wrapping. The package does no I/O and imports only
// the standard library.
package money

import (
	"errors"
	"strconv"
)

// Sentinel errors, wrapped with context by every function that returns them;
// match them with errors.Is.
var (
	// ErrUnknownCurrency means a code is not in the ISO 4217 table of this package.
	ErrUnknownCurrency = errors.New("unknown currency")
	// ErrCurrencyMismatch means two amounts of different currencies were combined.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrOverflow means a result does not fit the range of an Amount.
	ErrOverflow = errors.New("amount overflows int64 minor units")
	// ErrInvalidAmount means a text or JSON amount is malformed.
	ErrInvalidAmount = errors.New("invalid amount")
	// ErrInvalidRate means a text rate is malformed, negative or above 100%,
	// or a negative Rate was applied.
	ErrInvalidRate = errors.New("invalid rate")
)

// quoteMax bounds how much of a user's input an error message repeats, so a
// megabyte of garbage does not end up in a log line.
const quoteMax = 40

// quote returns s quoted for an error message, cut to quoteMax bytes.
func quote(s string) string {
	if len(s) > quoteMax {
		return strconv.Quote(s[:quoteMax]) + "…"
	}
	return strconv.Quote(s)
}
