package quality

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// The defect classes of an inspection, most serious first.
const (
	ClassCritical = "critical"
	ClassMajor    = "major"
	ClassMinor    = "minor"
)

// The kinds of discrepancy a verdict lists.
const (
	// KindDefects: a defect class has more defects than its plan's acceptance number.
	KindDefects = "defects_over_limit"
	// KindRequirementFailed: the inspector measured a requirement and it does not meet the contract.
	KindRequirementFailed = "requirement_failed"
	// KindNotInspected: the report gives no result for a requirement of the contract, so it
	// has not been shown to pass.
	KindNotInspected = "requirement_not_inspected"
)

// Plans are the sampling plans an inspection is judged by, one per defect class.
type Plans struct {
	Critical, Major, Minor Plan
}

// byClass lists the plans with their class names, most serious first.
func (p Plans) byClass() []struct {
	class string
	plan  Plan
} {
	return []struct {
		class string
		plan  Plan
	}{{ClassCritical, p.Critical}, {ClassMajor, p.Major}, {ClassMinor, p.Minor}}
}

// SampleSize is how many units an inspection under p draws: the largest sample of its plans,
// which serves every class.
func (p Plans) SampleSize() int64 {
	return max(p.Critical.SampleSize, p.Major.SampleSize, p.Minor.SampleSize)
}

// LotSize is an order's lot: the sum of the contract's line-item quantities.
func LotSize(c trade.Contract) int64 {
	var n int64
	for _, li := range c.LineItems {
		n += li.Quantity // each at most trade.QuantityMax, at most trade.LineItemsMax of them
	}
	return n
}

// PlansFor returns the plans for a lot at a booking's AQLs, general inspection level II,
// normal inspection. A lot below LotMin is inspected in full and accepts no defect. Errors are
// fault.Invalid naming the AQL at fault ("aql.major").
func PlansFor(lot int64, aql trade.AQL) (Plans, error) {
	var out Plans
	for _, c := range []struct {
		field, label string
		dst          *Plan
	}{{"aql.critical", aql.Critical, &out.Critical}, {"aql.major", aql.Major, &out.Major}, {"aql.minor", aql.Minor, &out.Minor}} {
		a, err := ParseAQL(c.label)
		if e, ok := fault.As(err); ok {
			return Plans{}, fault.FieldErr(c.field, e.Reason, "%s", e.Message)
		} else if err != nil {
			return Plans{}, err
		}
		p, err := PlanFor(max(lot, LotMin), LevelII, a, Normal)
		if err != nil {
			return Plans{}, err
		}
		if lot < LotMin {
			p.Lot, p.SampleSize, p.FullInspection, p.Accept, p.Reject = lot, lot, true, 0, 1
		}
		*c.dst = p
	}
	return out, nil
}

// IndustryPlans are the plans of the industry standard that judges what a contract left
// unclear (R5): ISO 2859-1 general level II, AQL 0 critical, 2.5 major, 4.0 minor.
func IndustryPlans(lot int64) (Plans, error) { return PlansFor(lot, trade.DefaultAQL) }

// CheckSample refuses a report whose sample is smaller than the plans draw: its counts cannot
// be judged by the plans' acceptance numbers.
func CheckSample(p Plans, r trade.Report) error {
	if need := p.SampleSize(); int64(r.SampleSize) < need {
		return fault.FieldErr("sample_size", "sample_too_small",
			"the sampling plan for a lot of %d units inspects %d units; the report used %d", p.Major.Lot, need, r.SampleSize)
	}
	return nil
}

// ClassResult is one defect class judged by its plan.
type ClassResult struct {
	Class      string `json:"class"`
	Found      int    `json:"found"`
	Accept     int    `json:"accept"`
	Reject     int    `json:"reject"`
	AQL        string `json:"aql"`
	CodeLetter string `json:"code_letter"`
	SampleSize int64  `json:"sample_size"`
	Pass       bool   `json:"pass"`
}

// RequirementResult is one requirement of the contract beside what the inspector found.
type RequirementResult struct {
	Field       string `json:"field"` // "quality_requirements[0]", "compliance_requirements[1]"
	Attribute   string `json:"attribute"`
	Requirement string `json:"requirement"` // the contract's text: "200 g/m² ± 5% (ISO 3801)"
	Measured    string `json:"measured"`
	Note        string `json:"note,omitempty"`
	Inspected   bool   `json:"inspected"`
	Pass        bool   `json:"pass"`
}

// Discrepancy is one reason a batch is not accepted, in words the parties read.
type Discrepancy struct {
	Kind        string `json:"kind"`
	Class       string `json:"class,omitempty"`     // for defects_over_limit
	Field       string `json:"field,omitempty"`     // for requirements
	Attribute   string `json:"attribute,omitempty"` // for requirements
	Expected    string `json:"expected"`
	Found       string `json:"found"`
	Explanation string `json:"explanation"`
}

// VerdictResult is a verdict on an inspection report.
type VerdictResult struct {
	Accept        bool                `json:"accept"`
	Lot           int64               `json:"lot"`
	SampleSize    int                 `json:"sample_size"`
	Classes       []ClassResult       `json:"classes"`
	Requirements  []RequirementResult `json:"requirements"`
	Discrepancies []Discrepancy       `json:"discrepancies"`
	// Other lists what the inspector reported about attributes the contract does not name:
	// evidence for the arbiter, never a reason to reject.
	Other []trade.Finding `json:"other_findings,omitempty"`
}

// Verdict judges an inspection report against a contract (R16): the batch is accepted only if
// every defect class is within its plan's acceptance number and every requirement of the
// contract was inspected and passed. It lists every discrepancy, in a fixed order: the defect
// classes, most serious first, then the requirements as the contract lists them, quality before
// compliance. Findings match requirements by attribute, in any case and spacing; a requirement
// with several findings passes only if all pass.
func Verdict(p Plans, r trade.Report, c trade.Contract) VerdictResult {
	res := VerdictResult{Lot: p.Major.Lot, SampleSize: r.SampleSize, Classes: []ClassResult{},
		Requirements: []RequirementResult{}, Discrepancies: []Discrepancy{}}
	found := map[string]int{ClassCritical: r.Critical, ClassMajor: r.Major, ClassMinor: r.Minor}
	for _, pc := range p.byClass() {
		cr := ClassResult{Class: pc.class, Found: found[pc.class], Accept: pc.plan.Accept, Reject: pc.plan.Reject,
			AQL: pc.plan.AQL.String(), CodeLetter: pc.plan.CodeLetter, SampleSize: pc.plan.SampleSize}
		cr.Pass = cr.Found <= cr.Accept
		res.Classes = append(res.Classes, cr)
		if cr.Pass {
			continue
		}
		unit := "defective units"
		if pc.plan.AQL.PerHundredUnits() {
			unit = "defects"
		}
		res.Discrepancies = append(res.Discrepancies, Discrepancy{Kind: KindDefects, Class: pc.class,
			Expected: fmt.Sprintf("at most %d %s %s in %d units (AQL %s)", cr.Accept, pc.class, unit, cr.SampleSize, cr.AQL),
			Found:    fmt.Sprintf("%d", cr.Found),
			Explanation: fmt.Sprintf("The inspector found %d %s %s; the sampling plan (ISO 2859-1, code letter %s) "+
				"accepts the batch with at most %d and rejects it with %d or more.", cr.Found, pc.class, unit, cr.CodeLetter, cr.Accept, cr.Reject)})
	}
	byAttr := map[string][]trade.Finding{}
	for _, f := range r.Findings {
		byAttr[attributeKey(f.Attribute)] = append(byAttr[attributeKey(f.Attribute)], f)
	}
	matched := map[string]bool{}
	for _, l := range []struct {
		field string
		reqs  []trade.Requirement
	}{{"quality_requirements", c.Quality}, {"compliance_requirements", c.Compliance}} {
		for i, req := range l.reqs {
			key := attributeKey(req.Attribute)
			matched[key] = true
			rr := RequirementResult{Field: fmt.Sprintf("%s[%d]", l.field, i), Attribute: strings.TrimSpace(req.Attribute),
				Requirement: RequirementText(req), Inspected: len(byAttr[key]) > 0, Pass: len(byAttr[key]) > 0}
			var measured, notes []string
			for _, f := range byAttr[key] {
				rr.Pass = rr.Pass && f.Pass
				measured = appendText(measured, f.Measured)
				notes = appendText(notes, f.Note)
			}
			rr.Measured, rr.Note = strings.Join(measured, "; "), strings.Join(notes, "; ")
			res.Requirements = append(res.Requirements, rr)
			switch {
			case !rr.Inspected:
				res.Discrepancies = append(res.Discrepancies, Discrepancy{Kind: KindNotInspected, Field: rr.Field,
					Attribute: rr.Attribute, Expected: rr.Requirement, Found: "not inspected",
					Explanation: fmt.Sprintf("The report gives no result for %s, so the goods have not been shown to meet it.", rr.Attribute)})
			case !rr.Pass:
				shown := rr.Measured
				if shown == "" {
					shown = "fails"
				}
				res.Discrepancies = append(res.Discrepancies, Discrepancy{Kind: KindRequirementFailed, Field: rr.Field,
					Attribute: rr.Attribute, Expected: rr.Requirement, Found: shown,
					Explanation: fmt.Sprintf("%s: the contract requires %s; the inspector found %s.", rr.Attribute, rr.Requirement, shown)})
			}
		}
	}
	for _, f := range r.Findings {
		if !matched[attributeKey(f.Attribute)] {
			res.Other = append(res.Other, f)
		}
	}
	res.Accept = len(res.Discrepancies) == 0
	return res
}

// IndustryVerdict judges a report's defect counts alone against the industry standard's plans
// (R5): what decides a dispute about a requirement the contract did not state clearly.
func IndustryVerdict(p Plans, r trade.Report) VerdictResult {
	res := Verdict(p, r, trade.Contract{})
	res.Other = nil
	return res
}

// RequirementText writes a requirement as one line: "200 g/m² ± 5% (ISO 3801)".
func RequirementText(r trade.Requirement) string {
	parts := []string{strings.TrimSpace(r.Requirement)}
	if u := strings.TrimSpace(r.Unit); u != "" && !strings.Contains(strings.ToLower(parts[0]), strings.ToLower(u)) {
		parts = append(parts, u)
	}
	if t := strings.TrimSpace(r.Tolerance); t != "" {
		parts = append(parts, t)
	}
	s := strings.Join(parts, " ")
	if m := strings.TrimSpace(r.Method); m != "" {
		s += " (" + m + ")"
	}
	return s
}

func appendText(list []string, s string) []string {
	if s = strings.TrimSpace(s); s != "" && !slices.Contains(list, s) {
		return append(list, s)
	}
	return list
}
