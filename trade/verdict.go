package trade

import "encoding/json"

// Verdict is the platform's verdict on an inspection report. The escrow layer computes it with
// the quality package when the inspector submits the report — trade never computes it and never
// takes one from a client — and it is frozen with the report.
type Verdict struct {
	Accept bool `json:"accept"`
	// ContractVersion is the confirmed version the report was judged against (0 for the
	// industry standard, which judges the defect counts alone).
	ContractVersion int `json:"contract_version"`
	// Discrepancies lists every reason the batch is not accepted (quality.Discrepancy): a
	// rejection notifies the buyer of all of them at once (R16).
	Discrepancies json.RawMessage `json:"discrepancies"`
	// Result is the whole verdict (quality.Result): each defect class against its sampling
	// plan, each requirement beside what was measured.
	Result json.RawMessage `json:"result"`
}

// Basis is what a dispute is judged against (R5, R18).
type Basis string

// The bases of a dispute.
const (
	// BasisContract: every disputed requirement is stated clearly, or one that is failed the
	// inspection; the arbiter compares the contract with the report.
	BasisContract Basis = "contract"
	// BasisIndustryStandard: the dispute fails on nothing the contract states clearly, so the
	// inspection company's industry standard judges the goods (R5): if they fail it, R19(a)
	// does not refuse the refund; if they pass it, R19(a) applies.
	BasisIndustryStandard Basis = "industry_standard"
	// BasisNothing: the dispute names no requirement at all (R19a).
	BasisNothing Basis = "nothing_disputed"
)

// LatestReport returns the newest inspection report, or nil before the first.
func (o *Order) LatestReport() *Report {
	if o.Inspection == nil || len(o.Inspection.Reports) == 0 {
		return nil
	}
	return &o.Inspection.Reports[len(o.Inspection.Reports)-1]
}

// Unclear lists the disputed attributes the contract in force does not specify clearly: absent
// from it, or judged unenforceable by the specification check frozen with it (R5, R19a).
func (o *Order) Unclear(x *Dispute) []string {
	out := []string{}
	c := o.Contract()
	for _, want := range x.Requirements {
		if c == nil || !c.Contract.clear(c.Lint, want) {
			out = append(out, want)
		}
	}
	return out
}

// Basis says what dispute x is judged against: the contract, unless something disputed is
// unclear and no disputed requirement that the contract states clearly failed the latest
// inspection — then the dispute's only failures are on unclear requirements, and the industry
// standard judges it (R5).
func (o *Order) Basis(x *Dispute) Basis {
	if len(x.Requirements) == 0 {
		return BasisNothing
	}
	if len(o.Unclear(x)) == 0 {
		return BasisContract
	}
	c, r := o.Contract(), o.LatestReport()
	if c != nil && r != nil {
		for _, want := range x.Requirements {
			if c.Contract.clear(c.Lint, want) && r.failed(want) {
				return BasisContract
			}
		}
	}
	return BasisIndustryStandard
}

// failed reports whether the report found attribute failing.
func (r *Report) failed(attribute string) bool {
	for _, f := range r.Findings {
		if !f.Pass && sameAttribute(f.Attribute, attribute) {
			return true
		}
	}
	return false
}

// failsIndustryStandard reports whether the latest report's defect counts fail the industry
// standard (R5). Without a computed verdict nothing is known to fail it.
func (o *Order) failsIndustryStandard() bool {
	r := o.LatestReport()
	return r != nil && r.Standard != nil && !r.Standard.Accept
}
