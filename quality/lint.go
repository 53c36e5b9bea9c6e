package quality

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/trade"
)

// Severity says what a finding means for a later dispute.
type Severity string

// The severities, most serious first.
const (
	// SeverityError marks an unenforceable requirement: a dispute about it cannot be judged
	// against the contract, so a quality refund on it would be refused (R19a).
	SeverityError Severity = "error"
	// SeverityWarning marks a requirement that can be judged but leaves a gap the inspector
	// fills with the industry standard (R5): a missing unit, tolerance or compliance line.
	SeverityWarning Severity = "warning"
	// SeveritySuggestion marks a requirement that is clear enough but could be sharper.
	SeveritySuggestion Severity = "suggestion"
)

// The finding codes: stable identifiers that clients and tests assert on.
const (
	CodeVagueRequirement   = "vague_requirement"   // praise or an unnamed norm instead of a measure
	CodeSampleUnreferenced = "sample_unreferenced" // "as sample" without saying which sample
	CodeUnitMissing        = "unit_missing"        // a number without a unit
	CodeToleranceMissing   = "tolerance_missing"   // a measure without a tolerance or a limit
	CodeAttachmentMissing  = "attachment_missing"  // a file named in the text is not attached
	CodeComplianceMissing  = "compliance_missing"  // a regulation of the market is not required
)

// Finding is one problem the linter found in a drafted contract, with a plain-language
// explanation and a concrete rewrite, shown before the contract is confirmed.
type Finding struct {
	Severity    Severity `json:"severity"`
	Code        string   `json:"code"`
	Field       string   `json:"field"`               // "quality_requirements[2]", "notes", "compliance_requirements"
	Attribute   string   `json:"attribute,omitempty"` // the requirement's attribute, or the regulation missing
	Explanation string   `json:"explanation"`
	Suggestion  string   `json:"suggestion"`
}

// Market is a destination the goods are sold in.
type Market struct {
	Country string `json:"country"`          // ISO 3166-1 alpha-2; "EU" for the Union as a whole
	Region  string `json:"region,omitempty"` // ISO 3166-2, e.g. "US-CA"; optional
}

// Category is the product category the compliance rules are chosen by.
type Category string

// The categories the compliance rules know. Any other category gets only the rules that apply
// to every product.
const (
	CategoryChildrensApparel Category = "childrens_apparel"
	CategoryToys             Category = "toys"
	CategoryElectronics      Category = "electronics"
	CategoryApparel          Category = "apparel"
	CategoryCosmetics        Category = "cosmetics"
	CategoryFoodContact      Category = "food_contact"
	CategoryGeneral          Category = "general"
)

// LintInput is a drafted contract with what the compliance rules need to know about it.
type LintInput struct {
	Contract trade.Contract
	Category Category
	Markets  []Market
}

// Report is the linter's result. It is frozen with the confirmed contract, so the arbiter later
// sees what both parties were shown, and which requirements were clear enough to judge (R19a).
type Report struct {
	Findings []Finding `json:"findings"`
	// Enforceable maps each requirement's attribute (lower-cased, trimmed) to whether it is clear
	// enough to judge a dispute on: false when any requirement of that name has an error.
	Enforceable map[string]bool `json:"enforceable"`
}

// Clear says whether the contract specifies attribute clearly enough to judge a dispute on it.
// An attribute the contract does not mention is not clear: there is no specification (R19a).
func (r Report) Clear(attribute string) bool {
	return r.Enforceable[attributeKey(attribute)]
}

// Lint checks a drafted contract's quality and compliance requirements, attachments and notes
// (R5). It never fails: every problem is a finding, in a deterministic order (the field, then
// its index, then the code).
func Lint(in LintInput) Report {
	c := in.Contract
	attached := attachmentNames(c.Attachments)
	rep := Report{Findings: []Finding{}, Enforceable: map[string]bool{}}
	var all []rankedFinding
	lists := []struct {
		field      string
		reqs       []trade.Requirement
		compliance bool
	}{
		{"quality_requirements", c.Quality, false},
		{"compliance_requirements", c.Compliance, true},
	}
	for rank, l := range lists {
		for i, r := range l.reqs {
			found := lintRequirement(r, l.compliance, attached)
			clear := true
			for _, f := range found {
				f.Finding.Field = fmt.Sprintf("%s[%d]", l.field, i)
				f.Finding.Attribute = strings.TrimSpace(r.Attribute)
				f.rank, f.index = rank, i
				all = append(all, f)
				clear = clear && f.Finding.Severity != SeverityError
			}
			if key := attributeKey(r.Attribute); key != "" {
				prev, seen := rep.Enforceable[key]
				rep.Enforceable[key] = clear && (prev || !seen)
			}
		}
	}
	for _, f := range missingAttachments(c.Notes, attached, "the notes") {
		f.Finding.Field, f.rank = "notes", len(lists)
		all = append(all, f)
	}
	for _, f := range missingCompliance(in, c) {
		f.rank = len(lists) + 1
		all = append(all, f)
	}
	slices.SortStableFunc(all, func(a, b rankedFinding) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.index, b.index),
			cmp.Compare(a.Finding.Code, b.Finding.Code), cmp.Compare(a.detail, b.detail))
	})
	for _, f := range all {
		rep.Findings = append(rep.Findings, f.Finding)
	}
	return rep
}

// rankedFinding carries a finding with its sort key: the field's rank (quality, compliance,
// notes, missing compliance), the index in the field, and a detail that orders findings of
// one code within one field (a file name, a rule).
type rankedFinding struct {
	Finding
	rank, index int
	detail      string
}

// lintRequirement returns the findings for one requirement; Lint fills in field and attribute.
func lintRequirement(r trade.Requirement, compliance bool, attached map[string]bool) []rankedFinding {
	attr := strings.TrimSpace(r.Attribute)
	var out []rankedFinding
	for _, part := range []struct{ text, where string }{
		{r.Requirement, "the requirement"}, {r.Tolerance, "the tolerance"}, {r.Method, "the method"},
	} {
		out = append(out, missingAttachments(part.text, attached, part.where)...)
	}
	if f, ok := unreferencedSample(r, attr, attached); ok {
		out = append(out, f)
	}
	if f, ok := vagueRequirement(r, attr, compliance, attached); ok {
		out = append(out, f)
	}
	return append(out, measureFindings(r, attr)...)
}

// missingAttachments flags each file named in text that is not attached to the contract. A
// requirement that points to a drawing nobody can open cannot be judged.
func missingAttachments(text string, attached map[string]bool, where string) []rankedFinding {
	var out []rankedFinding
	seen := map[string]bool{}
	for _, name := range fileRefs(text) {
		key := strings.ToLower(name)
		if attached[key] || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, rankedFinding{detail: key, Finding: Finding{
			Severity: SeverityError,
			Code:     CodeAttachmentMissing,
			Explanation: fmt.Sprintf("%s refers to %s, but no attachment of that name is on the contract. "+
				"Without the file, neither the supplier nor an inspector can check the goods against it.",
				capitalize(where), name),
			Suggestion: fmt.Sprintf("Attach %s to the contract (the attachment's name must match), "+
				"or replace the reference with the values it holds, e.g. \"50 cm ± 1 cm, Pantone 1935 C\".", name),
		}})
	}
	return out
}

// attachmentNames indexes the attachments by lower-cased name, and by base name when the name
// carries a path.
func attachmentNames(as []trade.Attachment) map[string]bool {
	names := make(map[string]bool, len(as))
	for _, a := range as {
		n := strings.ToLower(strings.TrimSpace(a.Name))
		names[n] = true
		if i := strings.LastIndexAny(n, `/\`); i >= 0 {
			names[n[i+1:]] = true
		}
	}
	return names
}

// attributeKey is the key of Report.Enforceable: lower-cased, trimmed, inner spaces collapsed.
func attributeKey(attribute string) string {
	return strings.ToLower(strings.Join(strings.Fields(attribute), " "))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
