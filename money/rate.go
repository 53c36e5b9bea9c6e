package money

import (
	"fmt"
	"strings"
)

// Rate is a non-negative proportion in parts per million: 2.95% is 29_500,
// 100% is RatePerMillion. Fees, shares and coverage limits are Rates, applied
// with Amount.MulRate. Parts per million keep every rate down to 0.0001%
// exact without floats.
type Rate int64

// RatePerMillion is the Rate of 100%: the whole amount.
const RatePerMillion Rate = 1_000_000

const (
	percentFracMax  = 4 // 0.0001% is one part per million
	fractionFracMax = 6 // 0.000001 is one part per million
)

// ParseRate reads a rate as a percentage ("2.95%" → 29_500, "0.25%" → 2_500,
// at most 4 decimals) or as a fraction of one ("0.0295" → 29_500, at most 6
// decimals). Negative rates, rates above 100%, "+", spaces, exponents and
// dangling points are ErrInvalidRate.
func ParseRate(s string) (Rate, error) {
	text, frac := s, fractionFracMax
	if t, ok := strings.CutSuffix(s, "%"); ok {
		text, frac = t, percentFracMax
	}
	if strings.HasPrefix(text, "-") {
		return 0, fmt.Errorf("parse rate %s: negative: %w", quote(s), ErrInvalidRate)
	}
	mag, _, err := parseDecimal(text, frac, uint64(RatePerMillion))
	if err == errRange {
		return 0, fmt.Errorf("parse rate %s: above 100%%: %w", quote(s), ErrInvalidRate)
	}
	if err != nil {
		return 0, fmt.Errorf("parse rate %s: %v: %w", quote(s), err, ErrInvalidRate)
	}
	// With 4 percent decimals the scaled value is in ten-thousandths of a
	// percent, which is already parts per million; with 6 fraction decimals
	// it is millionths. Both limits were checked against RatePerMillion.
	return Rate(mag), nil
}

// String returns r as a percentage with trailing zeros trimmed: "2.95%",
// "0.0001%", "100%", "0%".
func (r Rate) String() string {
	s := formatDecimal(magnitude(int64(r)), r < 0, percentFracMax)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	return s + "%"
}

// Percent returns r as a percentage, the same text as String.
func (r Rate) Percent() string { return r.String() }
