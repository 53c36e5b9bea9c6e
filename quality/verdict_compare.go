package quality

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Comparison is the arbiter's view of a dispute (R18), shown to the parties too: each
// requirement of the contract in force beside what the latest inspection found, the verdict
// against the contract, the industry standard's verdict on the defect counts (R5), and the R19
// grounds the platform computed, which the arbiter confirms or overrides in writing.
type Comparison struct {
	OrderID         string `json:"order_id"`
	DisputeID       string `json:"dispute_id"`
	ContractVersion int    `json:"contract_version"`
	ContractHash    string `json:"contract_hash"`
	// Disputed is what the buyer disputes; Unclear the part of it the contract does not
	// specify clearly (left out, or found unenforceable when drafted).
	Disputed []string    `json:"disputed"`
	Unclear  []string    `json:"unclear"`
	Basis    trade.Basis `json:"basis" doc:"What the dispute is judged against: contract, industry_standard or nothing_disputed (R5)."`
	// Requirements lists every requirement of the contract with the inspection's result.
	Requirements []ComparedRequirement `json:"requirements"`
	// OtherFindings are the inspector's results on attributes the contract does not name.
	OtherFindings []trade.Finding `json:"other_findings"`
	Report        *ComparedReport `json:"report,omitempty" doc:"The latest inspection report; absent when none was submitted."`
	// Verdict is the verdict against the contract and IndustryStandard the defect counts
	// against ISO 2859-1 level II at AQL 0/2.5/4.0: as frozen with the report, or computed now
	// for a report submitted before verdicts were (Computed).
	Verdict               *VerdictResult  `json:"verdict,omitempty"`
	IndustryStandard      *VerdictResult  `json:"industry_standard,omitempty"`
	Computed              bool            `json:"computed,omitempty" doc:"The verdicts were computed now, not frozen with the report."`
	Grounds               []trade.Refusal `json:"grounds" doc:"The R19 grounds that apply (unclear_specification, no_inspection_at_placement, found_after_arrival)."`
	InspectionAtPlacement bool            `json:"inspection_at_placement"`
	FoundAfterArrival     bool            `json:"found_after_arrival"`
	Decision              *trade.Decision `json:"decision,omitempty"`
}

// LintFinding is a Finding under a name of its own, for schemas that also show trade.Finding,
// an inspector's finding.
type LintFinding Finding

// ComparedRequirement is one requirement beside its inspection result.
type ComparedRequirement struct {
	RequirementResult
	Clear    bool          `json:"clear" doc:"Clear enough to judge a dispute on (R5, R19a)."`
	Disputed bool          `json:"disputed"`
	Lint     []LintFinding `json:"lint" doc:"What the linter said about it when the contract was drafted."`
}

// ComparedReport is the inspection report as the comparison shows it.
type ComparedReport struct {
	InspectorID     string             `json:"inspector_id"`
	SubmittedAt     time.Time          `json:"submitted_at"`
	SampleSize      int                `json:"sample_size"`
	Critical        int                `json:"critical"`
	Major           int                `json:"major"`
	Minor           int                `json:"minor"`
	Passed          bool               `json:"passed"`
	InspectorPassed *bool              `json:"inspector_passed,omitempty"`
	Summary         string             `json:"summary,omitempty"`
	Photos          []trade.Attachment `json:"photos"`
	AQL             trade.AQL          `json:"aql"`
}

// Compare builds the comparison for dispute x of order o.
func Compare(o *trade.Order, x *trade.Dispute) (Comparison, error) {
	v := o.Contract()
	if v == nil {
		return Comparison{}, fault.New(fault.Conflict, "no_contract", "the order has no confirmed contract")
	}
	cmp := Comparison{OrderID: o.ID, DisputeID: x.ID, ContractVersion: v.Version, ContractHash: v.Hash,
		Disputed: append([]string{}, x.Requirements...), Unclear: o.Unclear(x), Basis: o.Basis(x), Grounds: o.Grounds(x),
		InspectionAtPlacement: o.Inspection != nil && o.Inspection.AtPlacement, FoundAfterArrival: x.FoundAfterArrival,
		Decision: x.Decision, OtherFindings: []trade.Finding{}}
	if cmp.Grounds == nil {
		cmp.Grounds = []trade.Refusal{}
	}
	lint, err := Findings(v.Lint)
	if err != nil {
		return Comparison{}, err
	}
	var r trade.Report
	aql := trade.DefaultAQL
	if o.Inspection != nil {
		aql = o.Inspection.AQL
	}
	if latest := o.LatestReport(); latest != nil {
		r = *latest
		cmp.Report = &ComparedReport{InspectorID: r.InspectorID, SubmittedAt: r.SubmittedAt, SampleSize: r.SampleSize,
			Critical: r.Critical, Major: r.Major, Minor: r.Minor, Passed: r.Passed, InspectorPassed: r.InspectorPassed,
			Summary: r.Summary, Photos: append([]trade.Attachment{}, r.Photos...), AQL: aql}
	}
	lot := LotSize(v.Contract)
	plans, err := PlansFor(lot, aql)
	if err != nil {
		return Comparison{}, err
	}
	now := Verdict(plans, r, v.Contract)
	for _, rr := range now.Requirements {
		c := ComparedRequirement{RequirementResult: rr, Lint: []LintFinding{},
			Disputed: slices.ContainsFunc(x.Requirements, func(d string) bool { return attributeKey(d) == attributeKey(rr.Attribute) })}
		c.Clear = v.Lint == nil || !slices.ContainsFunc(v.Lint.Unclear, func(u string) bool { return attributeKey(u) == attributeKey(rr.Attribute) })
		for _, f := range lint {
			if f.Field == rr.Field {
				c.Lint = append(c.Lint, LintFinding(f))
			}
		}
		cmp.Requirements = append(cmp.Requirements, c)
	}
	if now.Other != nil {
		cmp.OtherFindings = now.Other
	}
	if cmp.Report == nil {
		return cmp, nil
	}
	latest := o.LatestReport()
	if latest.Verdict != nil && latest.Standard != nil {
		if cmp.Verdict, err = decodeResult(latest.Verdict); err != nil {
			return Comparison{}, err
		}
		if cmp.IndustryStandard, err = decodeResult(latest.Standard); err != nil {
			return Comparison{}, err
		}
		return cmp, nil
	}
	industry, err := IndustryPlans(lot)
	if err != nil {
		return Comparison{}, err
	}
	std := IndustryVerdict(industry, r)
	cmp.Verdict, cmp.IndustryStandard, cmp.Computed = &now, &std, true
	return cmp, nil
}

// Freeze is a verdict as trade keeps it with the report; version is the contract version judged
// against (0 for the industry standard).
func Freeze(res VerdictResult, version int) *trade.Verdict {
	disc, err := json.Marshal(res.Discrepancies)
	if err != nil {
		panic(fmt.Sprintf("quality: marshal discrepancies: %v", err)) // plain data: cannot fail
	}
	all, err := json.Marshal(res)
	if err != nil {
		panic(fmt.Sprintf("quality: marshal verdict: %v", err))
	}
	return &trade.Verdict{Accept: res.Accept, ContractVersion: version, Discrepancies: disc, Result: all}
}

// decodeResult reads a verdict frozen with a report.
func decodeResult(v *trade.Verdict) (*VerdictResult, error) {
	var res VerdictResult
	if err := json.Unmarshal(v.Result, &res); err != nil {
		return nil, fmt.Errorf("quality: decode frozen verdict: %w", err)
	}
	return &res, nil
}
