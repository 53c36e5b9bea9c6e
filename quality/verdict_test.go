package quality

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// verdictContract is a lot of 1000 hoodies with two quality requirements and one compliance
// requirement.
func verdictContract() trade.Contract {
	return trade.Contract{
		LineItems: []trade.LineItem{{Description: "Hoodie M", Quantity: 600, Unit: "pcs"}, {Description: "Hoodie L", Quantity: 400, Unit: "pcs"}},
		Quality: []trade.Requirement{
			{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"},
			{Attribute: "Zipper", Requirement: "YKK"},
		},
		Compliance: []trade.Requirement{{Attribute: "CPSIA compliant", Requirement: "yes"}},
	}
}

// passing is a report that meets verdictContract at the default AQLs, at the limits.
func passing() trade.Report {
	return trade.Report{SampleSize: 80, Critical: 0, Major: 5, Minor: 7, Findings: []trade.Finding{
		{Attribute: "Fabric weight", Measured: "203 g/m²", Pass: true},
		{Attribute: "zipper ", Measured: "YKK #5", Pass: true},
		{Attribute: "CPSIA  Compliant", Measured: "lab report SGS-123", Pass: true},
	}}
}

func defaultPlans(t *testing.T, c trade.Contract) Plans {
	t.Helper()
	p, err := IndustryPlans(LotSize(c))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kinds(r VerdictResult) []string {
	out := []string{}
	for _, d := range r.Discrepancies {
		out = append(out, d.Kind+" "+d.Class+d.Attribute)
	}
	return out
}

// TestVerdictPlans ensures the plans are ISO 2859-1 level II for the order's lot, the sum of
// its line items: 1000 units is code letter J, 80 units, accept 0 critical, 5 major, 7 minor
// at the industry standard's AQLs. R5
func TestVerdictPlans(t *testing.T) {
	c := verdictContract()
	if LotSize(c) != 1000 {
		t.Fatalf("lot %d", LotSize(c))
	}
	p := defaultPlans(t, c)
	got := [][3]any{}
	for _, pc := range p.byClass() {
		got = append(got, [3]any{pc.plan.CodeLetter, pc.plan.SampleSize, pc.plan.Accept})
	}
	want := [][3]any{{"J", int64(80), 0}, {"J", int64(80), 5}, {"J", int64(80), 7}}
	if !reflect.DeepEqual(got, want) || p.SampleSize() != 80 {
		t.Fatalf("plans %v, want %v", got, want)
	}
	one, err := PlansFor(1, trade.DefaultAQL)
	if err != nil || one.SampleSize() != 1 || one.Major.Accept != 0 || !one.Major.FullInspection {
		t.Fatalf("a lot of one: %+v %v", one.Major, err)
	}
	_, err = PlansFor(1000, trade.AQL{Critical: "0", Major: "2.6", Minor: "4.0"})
	if e, ok := fault.As(err); !ok || e.Field != "aql.major" || e.Reason != "unknown_aql" {
		t.Fatalf("bad AQL: %v", err)
	}
}

// TestVerdictAccepts ensures a report within every acceptance number whose every requirement
// passes is accepted, with each requirement shown beside what was measured. R16
func TestVerdictAccepts(t *testing.T) {
	c := verdictContract()
	r := Verdict(defaultPlans(t, c), passing(), c)
	if !r.Accept || len(r.Discrepancies) != 0 || r.Lot != 1000 || r.SampleSize != 80 {
		t.Fatalf("verdict %+v", r)
	}
	want := []RequirementResult{
		{Field: "quality_requirements[0]", Attribute: "Fabric weight", Requirement: "200 g/m² ± 5% (ISO 3801)", Measured: "203 g/m²", Inspected: true, Pass: true},
		{Field: "quality_requirements[1]", Attribute: "Zipper", Requirement: "YKK", Measured: "YKK #5", Inspected: true, Pass: true},
		{Field: "compliance_requirements[0]", Attribute: "CPSIA compliant", Requirement: "yes", Measured: "lab report SGS-123", Inspected: true, Pass: true},
	}
	if !reflect.DeepEqual(r.Requirements, want) {
		t.Fatalf("requirements\n got %+v\nwant %+v", r.Requirements, want)
	}
	for _, cr := range r.Classes {
		if !cr.Pass {
			t.Errorf("class %+v", cr)
		}
	}
}

// TestVerdictRejects ensures the batch is rejected when one class exceeds its acceptance number
// or one requirement fails or was not inspected, and that a rejection lists every discrepancy
// at once: the classes first, most serious first, then the requirements in contract order. R16
func TestVerdictRejects(t *testing.T) {
	c := verdictContract()
	tests := []struct {
		name string
		mod  func(r *trade.Report)
		want []string
	}{
		{"one critical defect", func(r *trade.Report) { r.Critical = 1 }, []string{"defects_over_limit critical"}},
		{"major over the limit", func(r *trade.Report) { r.Major = 6 }, []string{"defects_over_limit major"}},
		{"minor over the limit", func(r *trade.Report) { r.Minor = 8 }, []string{"defects_over_limit minor"}},
		{"a requirement fails", func(r *trade.Report) { r.Findings[1] = trade.Finding{Attribute: "Zipper", Measured: "unbranded"} },
			[]string{"requirement_failed Zipper"}},
		{"one of two findings fails", func(r *trade.Report) {
			r.Findings = append(r.Findings, trade.Finding{Attribute: "FABRIC WEIGHT", Measured: "184 g/m²", Note: "carton 7"})
		}, []string{"requirement_failed Fabric weight"}},
		{"a requirement not inspected", func(r *trade.Report) { r.Findings = r.Findings[:2] }, []string{"requirement_not_inspected CPSIA compliant"}},
		{"everything at once", func(r *trade.Report) {
			r.Minor, r.Critical = 9, 2
			r.Findings = []trade.Finding{{Attribute: "Zipper", Measured: "unbranded"}, {Attribute: "Fabric weight", Measured: "168 g/m²"}}
		}, []string{"defects_over_limit critical", "defects_over_limit minor", "requirement_failed Fabric weight",
			"requirement_failed Zipper", "requirement_not_inspected CPSIA compliant"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := passing()
			tc.mod(&r)
			v := Verdict(defaultPlans(t, c), r, c)
			if v.Accept || !reflect.DeepEqual(kinds(v), tc.want) {
				t.Fatalf("accept %v discrepancies %q, want %q", v.Accept, kinds(v), tc.want)
			}
			for _, d := range v.Discrepancies {
				if d.Expected == "" || d.Found == "" || d.Explanation == "" {
					t.Errorf("discrepancy not explained: %+v", d)
				}
			}
		})
	}
	r := passing()
	r.Findings[0] = trade.Finding{Attribute: "Fabric weight", Measured: "184 g/m²", Note: "below tolerance"}
	d := Verdict(defaultPlans(t, c), r, c).Discrepancies[0]
	if d.Expected != "200 g/m² ± 5% (ISO 3801)" || d.Found != "184 g/m²" || d.Field != "quality_requirements[0]" ||
		!strings.Contains(d.Explanation, "184 g/m²") {
		t.Fatalf("discrepancy %+v", d)
	}
	r.Major = 6
	d = Verdict(defaultPlans(t, c), r, c).Discrepancies[0]
	if d.Expected != "at most 5 major defective units in 80 units (AQL 2.5)" || d.Found != "6" {
		t.Fatalf("discrepancy %+v", d)
	}
}

// TestVerdictOtherFindings ensures what the inspector reports about attributes the contract does
// not name is shown but never rejects the batch: goods that meet the contract are compliant
// however the buyer feels about the rest. R20
func TestVerdictOtherFindings(t *testing.T) {
	c := verdictContract()
	r := passing()
	r.Findings = append(r.Findings, trade.Finding{Attribute: "Stitching", Measured: "uneven", Pass: false})
	v := Verdict(defaultPlans(t, c), r, c)
	if !v.Accept || len(v.Other) != 1 || v.Other[0].Attribute != "Stitching" {
		t.Fatalf("verdict %+v", v)
	}
}

// TestIndustryVerdict ensures the industry standard judges the defect counts alone, against the
// default AQLs, whatever the contract's requirements say. R5
func TestIndustryVerdict(t *testing.T) {
	c := verdictContract()
	r := passing()
	r.Findings = nil
	if v := IndustryVerdict(defaultPlans(t, c), r); !v.Accept || len(v.Requirements) != 0 {
		t.Fatalf("verdict %+v", v)
	}
	r.Major = 6
	if v := IndustryVerdict(defaultPlans(t, c), r); v.Accept || !reflect.DeepEqual(kinds(v), []string{"defects_over_limit major"}) {
		t.Fatalf("verdict %+v", v)
	}
	// AQLs above 10 count defects per hundred units, not defective units.
	p, err := PlansFor(1000, trade.AQL{Critical: "0", Major: "15", Minor: "25"})
	if err != nil {
		t.Fatal(err)
	}
	r.Major = p.Major.Reject
	if v := IndustryVerdict(p, r); v.Accept || !strings.Contains(v.Discrepancies[0].Expected, "major defects in") {
		t.Fatalf("verdict %+v", v)
	}
}

// TestCheckSample ensures a report drawn smaller than the plans is refused: its counts cannot
// be judged by the plans' acceptance numbers.
func TestCheckSample(t *testing.T) {
	p := defaultPlans(t, verdictContract())
	r := passing()
	if err := CheckSample(p, r); err != nil {
		t.Fatal(err)
	}
	r.SampleSize = 79
	if e, ok := fault.As(CheckSample(p, r)); !ok || e.Reason != "sample_too_small" || e.Field != "sample_size" {
		t.Fatalf("small sample: %v", e)
	}
}
