package escrow

import (
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// specCheck lints a drafted contract (R5). It runs when a contract or an amendment is proposed,
// before the transaction: the result depends on the contract alone, so it cannot go stale, and
// trade freezes it with the version the other party confirms.
func specCheck(c trade.Contract) *trade.SpecCheck { return quality.SpecCheck(c) }

// checkAQL refuses a booking whose AQLs are not the standard's, so that every report on it can
// be judged. The zero AQL means the default (R5).
func checkAQL(a trade.AQL) error {
	if a == (trade.AQL{}) {
		return nil
	}
	_, err := quality.PlansFor(quality.LotMin, a)
	return err
}

// judge computes the platform's verdicts on an inspection report in the transaction that
// records it, from the order as it is then: the verdict against the contract in force at the
// booking's AQLs (R16), which decides whether the batch passed, and the defect counts against
// the industry standard (R5), which a dispute about an unclear requirement is judged by. A
// report that is too small a sample for the plans is refused. Verdicts the caller sent are
// dropped; a report the domain will refuse anyway (wrong party or state, no booking, negative
// counts) is passed on unjudged, so the refusal is the domain's.
func judge(a trade.Actor, o *trade.Order, cmd trade.Command) (trade.Command, error) {
	sr, ok := cmd.(trade.SubmitReport)
	if !ok {
		return cmd, nil
	}
	sr.Verdict, sr.Standard = nil, nil
	v, r := o.Contract(), sr.Report
	if v == nil || o.Inspection == nil || !o.Visible(a) || a.Role != trade.RoleInspector ||
		r.SampleSize < 0 || r.Critical < 0 || r.Major < 0 || r.Minor < 0 {
		return sr, nil
	}
	if _, ok := trade.Lookup(o.State, sr.Event()); !ok {
		return sr, nil
	}
	lot := quality.LotSize(v.Contract)
	plans, err := quality.PlansFor(lot, o.Inspection.AQL)
	if err != nil {
		return nil, err
	}
	if err := quality.CheckSample(plans, r); err != nil {
		return nil, err
	}
	industry, err := quality.IndustryPlans(lot)
	if err != nil {
		return nil, err
	}
	sr.Verdict = quality.Freeze(quality.Verdict(plans, r, v.Contract), v.Version)
	sr.Standard = quality.Freeze(quality.IndustryVerdict(industry, r), 0)
	return sr, nil
}
