package quality

import (
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
)

// LotMin is the smallest lot ISO 2859-1 Table 1 knows: a lot of one unit is not sampled.
const LotMin int64 = 2

// LotMax bounds the lot size so that a typo (or an overflow upstream) is refused rather than
// planned; Table 1's last row (500,001 and over) covers every lot up to it.
const LotMax int64 = 1_000_000_000_000

// AQLTextMax bounds the length of an AQL as text: no label needs more than a handful of
// characters, and a bound keeps the decimal parser from walking megabytes.
const AQLTextMax = 32

// Level is an inspection level of ISO 2859-1 Table 1: the special levels S-1 to S-4 and the
// general levels I, II and III. Level II is the usual default.
type Level string

// The inspection levels, in Table 1's column order.
const (
	LevelS1  Level = "S-1"
	LevelS2  Level = "S-2"
	LevelS3  Level = "S-3"
	LevelS4  Level = "S-4"
	LevelI   Level = "I"
	LevelII  Level = "II"
	LevelIII Level = "III"
)

// levels lists the inspection levels in Table 1's column order; levelIndex inverts it.
var levels = [...]Level{LevelS1, LevelS2, LevelS3, LevelS4, LevelI, LevelII, LevelIII}

// Levels returns every inspection level in Table 1's column order.
func Levels() []Level { return append([]Level(nil), levels[:]...) }

// levelIndex returns l's column in Table 1, or -1 when l is not a level.
func levelIndex(l Level) int {
	for i, x := range levels {
		if x == l {
			return i
		}
	}
	return -1
}

// ParseLevel reads an inspection level as the standard writes it ("S-1" … "S-4", "I", "II",
// "III"); letter case and surrounding spaces are forgiven, nothing else.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	if levelIndex(l) < 0 {
		return "", fault.FieldErr("level", "unknown_inspection_level",
			"unknown inspection level %q: use S-1, S-2, S-3, S-4, I, II or III", clipInput(s))
	}
	return l, nil
}

// Inspection is the severity of inspection: which master table gives the plan. Reduced
// inspection is not offered: ISO 2859-1:1999 and ANSI/ASQ Z1.4 disagree on it.
type Inspection string

// The severities of inspection offered.
const (
	Normal    Inspection = "normal"
	Tightened Inspection = "tightened"
)

// ParseInspection reads "normal" or "tightened" (any letter case).
func ParseInspection(s string) (Inspection, error) {
	switch in := Inspection(strings.ToLower(strings.TrimSpace(s))); in {
	case Normal, Tightened:
		return in, nil
	}
	return "", fault.FieldErr("inspection", "unknown_inspection",
		"unknown inspection %q: use normal or tightened", clipInput(s))
}

// AQL is an acceptance quality limit, held exactly as an integer count of thousandths: the
// standard's labels (0.010 … 1000) are decimals, and comparing them as floats is how 0.65
// fails to equal 0.65. The zero AQL is not in the standard: it names the critical-defect
// zero-tolerance convention (see ConventionZeroTolerance). ParseAQL makes every other value.
type AQL struct{ milli int64 }

// aqlMilli lists the standard's AQLs in thousandths, in the master tables' column order.
var aqlMilli = [...]int64{
	10, 15, 25, 40, 65, 100, 150, 250, 400, 650, 1000, 1500, 2500, 4000, 6500,
	10000, 15000, 25000, 40000, 65000, 100000, 150000, 250000, 400000, 650000, 1000000,
}

// aqlPerHundredMilli is AQL 10: above it, an AQL counts nonconformities per hundred units.
const aqlPerHundredMilli = 10000

// AQLs returns the standard's AQLs in the master tables' column order.
func AQLs() []AQL {
	out := make([]AQL, len(aqlMilli))
	for i, m := range aqlMilli {
		out[i] = AQL{m}
	}
	return out
}

// aqlColumn returns a's column in the master tables, or -1 when a is not one of the standard's.
func aqlColumn(a AQL) int {
	for i, m := range aqlMilli {
		if m == a.milli {
			return i
		}
	}
	return -1
}

// ParseAQL reads an AQL as a plain decimal and accepts it when it equals one of the standard's
// labels exactly ("0.65", "1", "1.0" and "10.000" all mean what the table prints), or when it
// is zero, the critical-defect convention. Signs, exponents and separators are refused.
func ParseAQL(s string) (AQL, error) {
	bad := func(why string) (AQL, error) {
		return AQL{}, fault.FieldErr("aql", "unknown_aql",
			"AQL %q %s: use 0 (critical, zero tolerance) or one of %s", clipInput(s), why, aqlLabels())
	}
	s = strings.TrimSpace(s)
	if len(s) > AQLTextMax {
		return bad("is too long")
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || !aqlDigits(whole) || !aqlDigits(frac) || (hasPoint && frac == "") {
		return bad("is not a decimal number")
	}
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	if len(whole) > 7 || len(frac) > 3 { // above 1000, or finer than a thousandth: no such AQL
		return bad("is not in the standard")
	}
	var milli int64
	for _, c := range whole + (frac + "000")[:3] {
		milli = milli*10 + int64(c-'0')
	}
	a := AQL{milli}
	if milli != 0 && aqlColumn(a) < 0 {
		return bad("is not in the standard")
	}
	return a, nil
}

// aqlLabels lists the standard's labels for error messages.
func aqlLabels() string {
	var b strings.Builder
	for i, a := range AQLs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// String returns the label the standard prints (0.010, 0.65, 1.0, 10, 1000) and "0" for the
// zero-tolerance convention: below 0.1 three decimals, below 1 two, below 10 one, then none.
func (a AQL) String() string {
	m := a.milli
	if m == 0 {
		return "0"
	}
	decimals := 0
	switch {
	case m < 100:
		decimals = 3
	case m < 1000:
		decimals = 2
	case m < 10000:
		decimals = 1
	}
	// Never round: show more decimals if the value needs them (only tests build such AQLs).
	for decimals < 3 && m%aqlPow10(3-decimals) != 0 {
		decimals++
	}
	s := strconv.FormatInt(m/1000, 10)
	if decimals > 0 {
		frac := strconv.FormatInt(1000+m%1000, 10)[1:] // three digits, leading zeros kept
		s += "." + frac[:decimals]
	}
	return s
}

// aqlPow10 returns 10^n for small n.
func aqlPow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// IsZero reports whether a is the critical-defect zero-tolerance convention (AQL 0).
func (a AQL) IsZero() bool { return a.milli == 0 }

// PerHundredUnits reports whether a counts nonconformities per hundred units rather than percent
// nonconforming: the standard's AQLs above 10.
func (a AQL) PerHundredUnits() bool { return a.milli > aqlPerHundredMilli }

// Milli returns a in thousandths: 2.5 is 2500. It lets callers compare AQLs exactly.
func (a AQL) Milli() int64 { return a.milli }

// aqlDigits reports whether s holds only ASCII digits ("" counts; callers check emptiness).
func aqlDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clipInput shortens user text quoted in an error message.
func clipInput(s string) string {
	if len(s) > AQLTextMax {
		return s[:AQLTextMax] + "…"
	}
	return s
}
