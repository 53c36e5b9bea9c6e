package quality

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/trade"
)

// LintContract lints a contract with the category and destination markets it names itself.
func LintContract(c trade.Contract) Report {
	ms := make([]Market, len(c.Markets))
	for i, m := range c.Markets {
		ms[i] = Market{Country: m.Country, Region: m.Region}
	}
	return Lint(LintInput{Contract: c, Category: Category(c.Category), Markets: ms})
}

// SpecCheck is the linter's result on a drafted contract in the form trade keeps it: frozen
// with the confirmed version, it is what the parties were shown before confirming, and its
// unclear attributes make a dispute about them fall under R19(a), unless the goods fail the
// industry standard (R5).
func SpecCheck(c trade.Contract) *trade.SpecCheck {
	rep := LintContract(c)
	findings, err := json.Marshal(rep.Findings)
	if err != nil {
		panic(fmt.Sprintf("quality: marshal findings: %v", err)) // plain data: cannot fail
	}
	unclear := []string{}
	seen := map[string]bool{}
	for _, r := range slices.Concat(c.Quality, c.Compliance) {
		key := attributeKey(r.Attribute)
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		if !rep.Clear(r.Attribute) {
			unclear = append(unclear, strings.TrimSpace(r.Attribute))
		}
	}
	return &trade.SpecCheck{Unclear: unclear, Findings: findings}
}

// Findings decodes the findings a SpecCheck holds; a nil check has none.
func Findings(s *trade.SpecCheck) ([]Finding, error) {
	out := []Finding{}
	if s == nil || len(s.Findings) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(s.Findings, &out); err != nil {
		return nil, fmt.Errorf("quality: decode spec check findings: %w", err)
	}
	return out, nil
}
