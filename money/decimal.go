package money

import (
	"errors"
	"strconv"
	"strings"
)

// errRange marks a decimal that is well formed but too large; Parse turns it
// into ErrOverflow, everything else parseDecimal reports into ErrInvalidAmount.
var errRange = errors.New("out of range")

// parseDecimal reads s, which must be an optional "-", one or more ASCII
// digits and optionally "." and one to frac more digits, and returns its
// magnitude scaled by 10^frac and its sign. A magnitude above limit is
// errRange. Exponents, signs other than a leading "-", separators, spaces and
// bare or dangling points are all refused: money text has one spelling.
func parseDecimal(s string, frac int, limit uint64) (mag uint64, neg bool, err error) {
	if s == "" {
		return 0, false, errors.New("empty")
	}
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	whole, fraction, hasPoint := strings.Cut(s, ".")
	switch {
	case !isDigits(whole) || !isDigits(fraction):
		return 0, false, errors.New(`only digits, one "." and a leading "-" are allowed`)
	case whole == "":
		return 0, false, errors.New("missing integer digits")
	case hasPoint && fraction == "":
		return 0, false, errors.New(`missing digits after "."`)
	case len(fraction) > frac:
		return 0, false, errors.New("more than " + strconv.Itoa(frac) + " fraction digits")
	}
	for _, r := range []string{whole, fraction, strings.Repeat("0", frac-len(fraction))} {
		for i := 0; i < len(r); i++ {
			d := uint64(r[i] - '0')
			if mag > (limit-d)/10 {
				return 0, false, errRange
			}
			mag = mag*10 + d
		}
	}
	return mag, neg, nil
}

// isDigits reports whether s holds only ASCII digits; "" counts, the callers
// check emptiness where it matters.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatDecimal writes mag / 10^frac with exactly frac fraction digits.
func formatDecimal(mag uint64, neg bool, frac int) string {
	digits := strconv.FormatUint(mag, 10)
	if frac > 0 {
		if pad := frac + 1 - len(digits); pad > 0 {
			digits = strings.Repeat("0", pad) + digits
		}
		digits = digits[:len(digits)-frac] + "." + digits[len(digits)-frac:]
	}
	if neg && mag != 0 {
		return "-" + digits
	}
	return digits
}

// magnitude returns |m| without overflowing for math.MinInt64.
func magnitude(m int64) uint64 {
	if m < 0 {
		return uint64(-(m + 1)) + 1
	}
	return uint64(m)
}
