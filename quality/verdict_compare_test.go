package quality

import (
	"slices"
	"testing"

	"github.com/tradeassure/tradeassure/trade"
)

// comparedOrder is an order under dispute as the platform leaves it: verdictContract plus a
// vague stitching requirement, linted when drafted, and a report with major defects, judged when
// submitted.
func comparedOrder(t *testing.T, major int) (*trade.Order, *trade.Dispute) {
	c := verdictContract()
	c.Quality = append(c.Quality, rq("Stitching", "good quality"))
	r := passing()
	r.Major = major
	r.Findings = append(r.Findings, trade.Finding{Attribute: "Stitching", Measured: "loose threads"},
		trade.Finding{Attribute: "Packaging", Measured: "crushed cartons"})
	r.Verdict = Freeze(Verdict(defaultPlans(t, c), r, c), 1)
	r.Standard = Freeze(IndustryVerdict(defaultPlans(t, c), r), 0)
	r.Passed = r.Verdict.Accept
	o := &trade.Order{ID: "ord_1", Contracts: []trade.ContractVersion{{Version: 1, Contract: c, Hash: c.Hash(), Lint: SpecCheck(c)}},
		Inspection: &trade.Inspection{AtPlacement: true, AQL: trade.DefaultAQL, Reports: []trade.Report{r}},
		Disputes:   []trade.Dispute{{ID: "dsp_1", Requirements: []string{"stitching"}}}}
	return o, &o.Disputes[0]
}

// TestCompare ensures the arbiter's view shows every requirement beside its result, whether it
// is clear and disputed, what the linter said of it, the findings outside the contract, both
// verdicts, and the grounds the domain computes: here the only failure disputed is on an
// unclear requirement and the goods fail the industry standard, so R19(a) does not apply. R5 R18 R19
func TestCompare(t *testing.T) {
	o, x := comparedOrder(t, 9)
	cmp, err := Compare(o, x)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.ContractVersion != 1 || cmp.ContractHash != o.Contracts[0].Hash || cmp.Basis != trade.BasisIndustryStandard ||
		!slices.Equal(cmp.Unclear, []string{"stitching"}) || len(cmp.Grounds) != 0 || cmp.Computed {
		t.Fatalf("comparison %+v", cmp)
	}
	if len(cmp.Requirements) != 4 {
		t.Fatalf("requirements %+v", cmp.Requirements)
	}
	st := cmp.Requirements[2]
	if st.Attribute != "Stitching" || st.Clear || !st.Disputed || st.Pass || st.Measured != "loose threads" ||
		len(st.Lint) == 0 || st.Lint[0].Code != CodeVagueRequirement {
		t.Fatalf("stitching %+v", st)
	}
	if fw := cmp.Requirements[0]; !fw.Clear || fw.Disputed || !fw.Pass || len(fw.Lint) != 0 {
		t.Fatalf("fabric weight %+v", fw)
	}
	if len(cmp.OtherFindings) != 1 || cmp.OtherFindings[0].Attribute != "Packaging" {
		t.Fatalf("other findings %+v", cmp.OtherFindings)
	}
	if cmp.Verdict == nil || cmp.Verdict.Accept || cmp.IndustryStandard == nil || cmp.IndustryStandard.Accept ||
		cmp.Report == nil || cmp.Report.Major != 9 {
		t.Fatalf("verdicts %+v %+v report %+v", cmp.Verdict, cmp.IndustryStandard, cmp.Report)
	}

	// The same goods within the industry standard: R19(a) applies.
	o, x = comparedOrder(t, 5)
	if cmp, _ = Compare(o, x); !slices.Equal(cmp.Grounds, []trade.Refusal{trade.RefusalUnclearSpec}) || !cmp.IndustryStandard.Accept {
		t.Fatalf("grounds %v", cmp.Grounds)
	}
	// A report submitted before verdicts were frozen: both are computed now.
	o.Inspection.Reports[0].Verdict, o.Inspection.Reports[0].Standard = nil, nil
	if cmp, _ = Compare(o, x); !cmp.Computed || cmp.Verdict == nil || cmp.Verdict.Accept || !cmp.IndustryStandard.Accept {
		t.Fatalf("computed now: %+v", cmp)
	}
	// No report at all: every requirement uninspected, no verdict, and R19(b) applies.
	o.Inspection = nil
	cmp, err = Compare(o, x)
	if err != nil || cmp.Report != nil || cmp.Verdict != nil || cmp.Requirements[0].Inspected ||
		!slices.Contains(cmp.Grounds, trade.RefusalNoInspection) {
		t.Fatalf("without a report: %+v %v", cmp, err)
	}
}
