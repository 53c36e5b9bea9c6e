package quality

import (
	"github.com/tradeassure/tradeassure/trade"
)

// Judgement is what the platform judges an order's inspection by (R5, R16): the sampling plans
// of the booking (lot size, sample size, Ac/Re per defect class) and, once a report is in, the
// verdicts on the latest one.
type Judgement struct {
	Lot   int64
	Plans Plans
	// Verdict is against the contract in force, IndustryStandard the defect counts against
	// ISO 2859-1 level II at AQL 0/2.5/4.0; both nil until a report is submitted. They are the
	// ones frozen with the report, or computed now for a report submitted before verdicts were
	// (Computed).
	Verdict          *VerdictResult
	IndustryStandard *VerdictResult
	Computed         bool
}

// JudgeLatest returns the plans of o's booked inspection and the verdicts on its latest report,
// or nil when there is nothing to judge yet (no confirmed contract or no booking).
func JudgeLatest(o *trade.Order) (*Judgement, error) {
	v := o.Contract()
	if v == nil || o.Inspection == nil {
		return nil, nil
	}
	lot := LotSize(v.Contract)
	plans, err := PlansFor(lot, o.Inspection.AQL)
	if err != nil {
		return nil, err
	}
	j := &Judgement{Lot: lot, Plans: plans}
	r := o.LatestReport()
	if r == nil {
		return j, nil
	}
	if r.Verdict != nil && r.Standard != nil {
		if j.Verdict, err = decodeResult(r.Verdict); err != nil {
			return nil, err
		}
		if j.IndustryStandard, err = decodeResult(r.Standard); err != nil {
			return nil, err
		}
		return j, nil
	}
	industry, err := IndustryPlans(lot)
	if err != nil {
		return nil, err
	}
	now, std := Verdict(plans, *r, v.Contract), IndustryVerdict(industry, *r)
	j.Verdict, j.IndustryStandard, j.Computed = &now, &std, true
	return j, nil
}
