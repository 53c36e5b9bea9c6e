package quality

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/tradeassure/tradeassure/trade"
)

// measuredUnits are the units a measure is written in; a measure in one needs a tolerance.
var measuredUnits = []string{
	"mm", "cm", "m", "km", "in", "inch", "inches", "ft", "feet", "mil", "µm", "um", "micron", "microns",
	"mg", "g", "kg", "lb", "lbs", "oz", "gram", "grams", "gsm", "g/m²", "g/m2", "denier", "dtex", "tex", "spi",
	"ml", "l", "litre", "litres", "liter", "liters", "%", "ppm", "°c", "°f",
	"n", "kn", "newton", "newtons", "psi", "bar", "kpa", "mpa",
	"v", "mv", "kv", "w", "kw", "ma", "mah", "hz", "khz", "mhz", "ghz", "db",
}

// countUnits are counts: a count is exact and needs no tolerance.
var countUnits = []string{
	"pc", "pcs", "piece", "pieces", "unit", "units", "pair", "pairs", "set", "sets", "ply",
	"layer", "layers", "dozen", "carton", "cartons", "ctn", "ctns", "color", "colors", "colour", "colours",
}

// measureRe matches a number (or a range, or a product such as 50 x 40) followed by a unit:
// group 1 is the number, group 2 a range's upper end, group 3 the unit.
var measureRe = func() *regexp.Regexp {
	units := slices.Concat(measuredUnits, countUnits)
	slices.SortFunc(units, func(a, b string) int { return len(b) - len(a) }) // longest first: "gsm" before "g"
	for i, u := range units {
		units[i] = regexp.QuoteMeta(u)
	}
	const num = `\d+(?:[.,]\d+)?`
	return regexp.MustCompile(`(?i)(` + num + `)((?:\s*(?:-|–|~|to)\s*` + num + `)?)(?:\s*[x×*]\s*` + num + `)*\s*(` +
		strings.Join(units, "|") + `)(?:$|[^\p{L}\p{N}²])`)
}()

var (
	bareNumberRe = regexp.MustCompile(`(?i)^\s*(?:max\.?|min\.?|≤|≥|<=|>=|<|>)?\s*\d+(?:[.,]\d+)?` +
		`(?:\s*(?:-|–|~|to|±|\+/-)\s*\d+(?:[.,]\d+)?)?\s*$`)
	rangeRe = regexp.MustCompile(`\d\s*(?:-|–|~|to)\s*\d`)
	limitRe = regexp.MustCompile(`(?i)±|\+/-|[<>≤≥]|\b(?:max|min|maximum|minimum|at least|at most|up to|` +
		`no more than|not more than|no less than|not less than|or less|or more|between|within|below|above|` +
		`under|over|less than|more than|greater than|tolerance)\b`)
)

// measure is one measure found in a text.
type measure struct {
	unit   string // lower case
	count  bool   // a count or "100%" (a composition), which need no tolerance
	ranged bool   // "48-52 cm": a range is its own tolerance
	end    int    // byte offset just after the unit
}

func measures(s string) []measure {
	var out []measure
	for _, m := range measureRe.FindAllStringSubmatchIndex(s, -1) {
		u := strings.ToLower(s[m[6]:m[7]])
		count := slices.Contains(countUnits, u) || (u == "%" && s[m[2]:m[3]] == "100") // "100% cotton"
		out = append(out, measure{unit: u, count: count, ranged: m[5] > m[4], end: m[7]})
	}
	return out
}

// bareNumber says whether s is only a number, a range or a limit, with no unit in it.
func bareNumber(s string) bool { return bareNumberRe.MatchString(s) }

// measureFindings checks a measurable requirement's unit and tolerance. A bare number needs a
// unit; a measure needs a tolerance or a limit ("≤ 3%", "48-52 cm"). A measure inside a
// description ("Organic cotton, 200 gsm") gets only a suggestion: the guide holds it up as clear,
// and the inspector applies the usual tolerance.
func measureFindings(r trade.Requirement, attr string) []rankedFinding {
	req := strings.TrimSpace(r.Requirement)
	unit := strings.TrimSpace(r.Unit)
	bounded := strings.TrimSpace(r.Tolerance) != "" || limitRe.MatchString(req)
	if bareNumber(req) {
		bounded = bounded || rangeRe.MatchString(req)
		var out []rankedFinding
		shown := unit
		if unit == "" {
			shown = guessUnit(attr)
			out = append(out, rankedFinding{Finding: Finding{
				Severity: SeverityWarning,
				Code:     CodeUnitMissing,
				Explanation: fmt.Sprintf("%q is a number without a unit: 200 g and 200 kg are different goods. "+
					"Give the unit so the inspector knows what to measure and how.", req),
				Suggestion: fmt.Sprintf("%s%s %s %s (Unit: %s)", attrLabel(attr), req, shown, toleranceFor(shown), shown),
			}})
		}
		if !bounded && !slices.Contains(countUnits, strings.ToLower(unit)) {
			out = append(out, toleranceMissing(SeverityWarning, attr, strings.TrimSpace(req+" "+unit),
				fmt.Sprintf("%s%s %s %s", attrLabel(attr), req, shown, toleranceFor(shown))))
		}
		return out
	}
	ms := measures(req)
	i := slices.IndexFunc(ms, func(m measure) bool { return !m.count })
	if i < 0 || bounded {
		return nil
	}
	for _, m := range ms {
		if m.ranged {
			return nil
		}
	}
	rest := measureRe.ReplaceAllString(req, " ")
	severity := SeveritySuggestion
	if !strings.ContainsFunc(rest, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		severity = SeverityWarning // "50 cm": the whole requirement is the measure
	}
	m := ms[i]
	rewrite := attrLabel(attr) + req[:m.end] + " " + toleranceFor(m.unit) + req[m.end:]
	return []rankedFinding{toleranceMissing(severity, attr, req, rewrite)}
}

func toleranceMissing(severity Severity, attr, req, rewrite string) rankedFinding {
	why := "No two pieces measure exactly the same; without an agreed tolerance the inspector applies " +
		"the industry's usual one, which may not be the one you want."
	if severity == SeveritySuggestion {
		why = "The inspector will apply the industry's usual tolerance; stating your own removes the doubt."
	}
	return rankedFinding{Finding: Finding{
		Severity:    severity,
		Code:        CodeToleranceMissing,
		Explanation: fmt.Sprintf("%q gives a measure for %s without a tolerance or a limit. %s", req, attrName(attr), why),
		Suggestion:  rewrite + " (or the tolerance you will accept)",
	}}
}

// toleranceFor proposes a tolerance phrase for a unit.
func toleranceFor(unit string) string {
	if unit == "%" {
		return "± 1 percentage point"
	}
	return "± 5%"
}

// guessUnit proposes a unit from the attribute's name, for the suggested rewrite only.
func guessUnit(attr string) string {
	a := strings.ToLower(attr)
	for _, g := range []struct{ keys, unit string }{
		{"gsm density fabric", "gsm"},
		{"weight mass", "g"},
		{"thickness diameter", "mm"},
		{"length width height depth size dimension", "cm"},
		{"volume capacity", "ml"},
		{"voltage", "V"},
		{"power", "W"},
		{"temperature", "°C"},
	} {
		for _, k := range strings.Fields(g.keys) {
			if strings.Contains(a, k) {
				return g.unit
			}
		}
	}
	return "<unit>"
}
