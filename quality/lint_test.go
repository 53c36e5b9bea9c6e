package quality

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/trade"
)

func rq(attribute, requirement string) trade.Requirement {
	return trade.Requirement{Attribute: attribute, Requirement: requirement}
}

func attachment(name string) trade.Attachment {
	return trade.Attachment{Name: name, Ref: "sha256:" + strings.Repeat("ab", 32), Size: 1024, MediaType: "application/pdf"}
}

// childrensClothing is the guide's "Example: Children's Clothing" specification as a contract,
// with the three files it names attached.
func childrensClothing() trade.Contract {
	return trade.Contract{
		Quality: []trade.Requirement{
			rq("Fabric", "Organic cotton, 200 gsm"),
			rq("Fabric Color", "Pantone 1935 D"),
			rq("Design", "As specified in design_draft_a.pdf attachment"),
			rq("Dimensions", "As specified in design_draft_dimensions.pdf"),
			rq("Care label", "As specified in label_b.pdf attachment"),
			rq("Zipper", "YKK"),
		},
		Compliance: []trade.Requirement{
			rq("California Prop 65 compliant", "Yes"),
			rq("REACH (EU) compliant", "Yes"),
			rq("CPSIA (US) compliant", "Yes"),
		},
		Attachments: []trade.Attachment{
			attachment("design_draft_a.pdf"), attachment("design_draft_dimensions.pdf"), attachment("label_b.pdf"),
		},
	}
}

var childrensMarkets = []Market{{Country: "US"}, {Country: "US", Region: "US-CA"}, {Country: "EU"}}

// vagueSpec is what the guide warns against: praise, unnamed norms, an unnamed sample, a
// number without a unit and a measure without a tolerance.
func vagueSpec() trade.Contract {
	return trade.Contract{Quality: []trade.Requirement{
		rq("Quality", "good quality"),
		rq("Material", "high quality fabric"),
		rq("Color", "as sample"),
		rq("Finish", "nice"),
		rq("Packaging", "standard"),
		rq("Weight", "200"),
		{Attribute: "Length", Requirement: "50", Unit: "cm"},
	}}
}

// codes lists the findings as "field code" lines, leaving out the given severities.
func codes(r Report, skip ...Severity) []string {
	out := []string{}
	for _, f := range r.Findings {
		if !contains(skip, f.Severity) {
			out = append(out, f.Field+" "+f.Code)
		}
	}
	return out
}

func contains(ss []Severity, s Severity) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestLintChildrensClothingIsClear ensures the guide's clear specification raises no errors and
// no warnings (at most suggestions) and that every attribute is enforceable. // R5 R19
func TestLintChildrensClothingIsClear(t *testing.T) {
	rep := Lint(LintInput{Contract: childrensClothing(), Category: CategoryChildrensApparel, Markets: childrensMarkets})
	if got := codes(rep, SeveritySuggestion); len(got) != 0 {
		t.Fatalf("errors or warnings on the clear spec: %v\n%s", got, dump(rep))
	}
	for _, attr := range []string{"Fabric", "fabric color", "Design", "Dimensions", "Care label", "Zipper",
		"California Prop 65 compliant", "REACH (EU) compliant", "CPSIA (US) compliant"} {
		if !rep.Clear(attr) {
			t.Errorf("Clear(%q) = false, want true", attr)
		}
	}
	t.Logf("suggestions on the clear spec:\n%s", dump(rep))
}

// TestLintChildrensClothingWithoutAttachments ensures that dropping the attachments raises
// exactly one attachment_missing error per file and makes those attributes unenforceable. // R5 R19
func TestLintChildrensClothingWithoutAttachments(t *testing.T) {
	c := childrensClothing()
	c.Attachments = nil
	rep := Lint(LintInput{Contract: c, Category: CategoryChildrensApparel, Markets: childrensMarkets})
	want := []string{
		"quality_requirements[2] attachment_missing",
		"quality_requirements[3] attachment_missing",
		"quality_requirements[4] attachment_missing",
	}
	if got := codes(rep, SeveritySuggestion); !reflect.DeepEqual(got, want) {
		t.Fatalf("findings = %v, want %v\n%s", got, want, dump(rep))
	}
	for _, f := range rep.Findings {
		if f.Code == CodeAttachmentMissing && f.Severity != SeverityError {
			t.Errorf("%s: severity %s, want error", f.Field, f.Severity)
		}
	}
	for attr, clear := range map[string]bool{"Design": false, "Dimensions": false, "Care label": false, "Fabric": true} {
		if rep.Clear(attr) != clear {
			t.Errorf("Clear(%q) = %v, want %v", attr, !clear, clear)
		}
	}
}

// TestLintVagueSpec ensures every vague item of a vague specification is flagged with the right
// code and severity, the numeric ones with unit and tolerance findings, in field order. // R5 R19
func TestLintVagueSpec(t *testing.T) {
	rep := Lint(LintInput{Contract: vagueSpec(), Category: CategoryGeneral})
	t.Logf("findings on the vague spec:\n%s", dump(rep))
	want := []string{
		"quality_requirements[0] vague_requirement error",
		"quality_requirements[1] vague_requirement error",
		"quality_requirements[2] sample_unreferenced error",
		"quality_requirements[3] vague_requirement error",
		"quality_requirements[4] vague_requirement error",
		"quality_requirements[5] tolerance_missing warning",
		"quality_requirements[5] unit_missing warning",
		"quality_requirements[6] tolerance_missing warning",
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %s", f.Field, f.Code, f.Severity))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for attr, clear := range map[string]bool{"Quality": false, "Material": false, "Color": false, "Finish": false,
		"Packaging": false, "Weight": true, "Length": true} {
		if rep.Clear(attr) != clear {
			t.Errorf("Clear(%q) = %v, want %v", attr, !clear, clear)
		}
	}
}

// TestLintFindingsExplained ensures every finding, on every fixture of this file, names its
// field and comes with a plain-language explanation and a suggested rewrite.
func TestLintFindingsExplained(t *testing.T) {
	bare := childrensClothing()
	bare.Attachments, bare.Compliance = nil, nil
	bare.Notes = "Hang tag as in hangtag.ai"
	inputs := []LintInput{
		{Contract: childrensClothing(), Category: CategoryChildrensApparel, Markets: childrensMarkets},
		{Contract: bare, Category: CategoryToys, Markets: []Market{{Country: "US", Region: "US-CA"}, {Country: "DE"}, {Country: "GB"}}},
		{Contract: vagueSpec(), Category: CategoryElectronics, Markets: []Market{{Country: "US"}, {Country: "FR"}}},
		{Contract: trade.Contract{Compliance: []trade.Requirement{rq("Safety", "compliant")}}, Category: CategoryGeneral},
	}
	n := 0
	for i, in := range inputs {
		for _, f := range Lint(in).Findings {
			n++
			if f.Field == "" || f.Code == "" || strings.TrimSpace(f.Explanation) == "" || strings.TrimSpace(f.Suggestion) == "" {
				t.Errorf("input %d: finding not explained: %+v", i, f)
			}
			if f.Severity != SeverityError && f.Severity != SeverityWarning && f.Severity != SeveritySuggestion {
				t.Errorf("input %d: unknown severity %q", i, f.Severity)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d findings: the fixtures no longer exercise the linter", n)
	}
}

// TestLintComplianceMissing ensures the rules table asks for the regulations of the category and
// the destination markets, and that a requirement naming the regulation meets it. // R5
func TestLintComplianceMissing(t *testing.T) {
	us, ca, eu := Market{Country: "US"}, Market{Country: "US", Region: "US-CA"}, Market{Country: "EU"}
	cases := []struct {
		name       string
		category   Category
		markets    []Market
		compliance []trade.Requirement
		quality    []trade.Requirement
		want       []string // rule names missing, in table order
	}{
		{"children's order to the US without CPSIA", CategoryChildrensApparel, []Market{us}, nil, nil, []string{"CPSIA"}},
		{"children's order to California", CategoryChildrensApparel, []Market{ca}, nil, nil, []string{"CPSIA", "Prop 65"}},
		{"region alone implies the country", CategoryChildrensApparel, []Market{{Region: "us-ca"}}, nil, nil, []string{"CPSIA", "Prop 65"}},
		{"CPSIA met", CategoryChildrensApparel, []Market{us}, []trade.Requirement{rq("CPSIA (US) compliant", "Yes")}, nil, []string{}},
		{"CPSIA answered no is not met", CategoryChildrensApparel, []Market{us}, []trade.Requirement{rq("CPSIA (US) compliant", "No")}, nil, []string{"CPSIA"}},
		{"CPSIA named in the quality list counts", CategoryChildrensApparel, []Market{us}, nil,
			[]trade.Requirement{{Attribute: "Lead content", Requirement: "≤ 100 ppm", Method: "CPSC-CH-E1001-08.3"}}, []string{}},
		{"children's order to a member state needs REACH", CategoryChildrensApparel, []Market{{Country: "de"}}, nil, nil, []string{"REACH"}},
		{"toys to the EU", CategoryToys, []Market{eu}, nil, nil, []string{"REACH", "EN 71", "CE"}},
		{"toys to the UK accept CE", CategoryToys, []Market{{Country: "GB"}}, []trade.Requirement{rq("CE marked", "yes")}, nil, []string{}},
		{"toys to the US", CategoryToys, []Market{us}, nil, nil, []string{"CPSIA", "ASTM F963"}},
		{"electronics to the EU and US", CategoryElectronics, []Market{eu, us}, nil, nil, []string{"REACH", "CE", "RoHS", "WEEE", "FCC"}},
		{"CE is a whole word, not part of price", CategoryElectronics, []Market{eu},
			[]trade.Requirement{rq("Price sticker", "none"), rq("REACH", "yes"), rq("RoHS", "yes"), rq("WEEE", "yes")}, nil, []string{"CE"}},
		{"cosmetics to the EU", CategoryCosmetics, []Market{eu}, nil, nil, []string{"EC 1223/2009"}},
		{"food contact to the EU and US", CategoryFoodContact, []Market{eu, us}, nil, nil, []string{"EC 1935/2004", "FDA 21 CFR"}},
		{"general goods to the US", CategoryGeneral, []Market{us}, nil, nil, []string{}},
		{"general goods to California need Prop 65", CategoryGeneral, []Market{ca}, nil, nil, []string{"Prop 65"}},
		{"the same rule from two markets is flagged once", CategoryToys, []Market{{Country: "DE"}, {Country: "FR"}}, nil, nil, []string{"REACH", "EN 71", "CE"}},
		{"no markets, no rules", CategoryToys, nil, nil, nil, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := trade.Contract{Compliance: tc.compliance, Quality: tc.quality}
			rep := Lint(LintInput{Contract: c, Category: tc.category, Markets: tc.markets})
			got := []string{}
			for _, f := range rep.Findings {
				if f.Code == CodeComplianceMissing {
					if f.Severity != SeverityWarning || f.Field != "compliance_requirements" {
						t.Errorf("%s: severity %s field %s", f.Attribute, f.Severity, f.Field)
					}
					got = append(got, f.Attribute)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("missing = %v, want %v\n%s", got, tc.want, dump(rep))
			}
		})
	}
}

// TestLintComplianceSuggestsTheLine ensures the CPSIA finding suggests the requirement line to add.
func TestLintComplianceSuggestsTheLine(t *testing.T) {
	rep := Lint(LintInput{Category: CategoryChildrensApparel, Markets: []Market{{Country: "US"}}})
	if len(rep.Findings) != 1 || !strings.HasPrefix(rep.Findings[0].Suggestion, "CPSIA (US) compliant: yes — CPSC-accepted lab test report") {
		t.Fatalf("findings:\n%s", dump(rep))
	}
}

// TestVagueVocabulary ensures the vocabulary matches whole words in any case and only counts
// when nothing measurable stands beside it. // R5
func TestVagueVocabulary(t *testing.T) {
	attached := []trade.Attachment{attachment("design_draft_a.pdf")}
	cases := []struct {
		name       string
		req        trade.Requirement
		compliance bool
		vague      bool
	}{
		{"named standard as the attribute", rq("Standard", "ISO 3801"), false, false},
		{"standard after a named standard", rq("Safety", "ASTM F963 standard"), false, false},
		{"standard quality", rq("Quality", "standard quality"), false, true},
		{"shouting is not an acronym", rq("Quality", "GOOD QUALITY"), false, true},
		{"brand beside a vague word", rq("Zipper", "YKK standard"), false, false},
		{"a hyphenated style is not praise", rq("Style", "high-waisted"), false, false},
		{"a hyphenated praise is", rq("Material", "high-quality fabric"), false, true},
		{"colour code", rq("Color", "Pantone 1935 C"), false, false},
		{"as usual", rq("Packing", "as usual"), false, true},
		{"first class", rq("Finish", "First class"), false, true},
		{"measure beside praise", rq("Fabric", "good quality, 200 gsm"), false, false},
		{"attached file beside praise", rq("Print", "good, as in design_draft_a.pdf"), false, false},
		{"unattached file does not make it clear", rq("Print", "good, as in other.pdf"), false, true},
		{"fine", rq("Finish", "fine"), false, true},
		{"substring does not match", rq("Material", "goodyear welt, finest grain"), false, false},
		{"plain description without vocabulary", rq("Fabric", "Organic cotton"), false, false},
		{"TBD", rq("Color", "TBD"), false, true},
		{"praise in the attribute of a yes", rq("Good quality", "yes"), false, true},
		{"AAA grade", rq("Grade", "AAA quality"), false, true},
		{"named method makes it judgeable", trade.Requirement{Attribute: "Workmanship", Requirement: "acceptable", Method: "AQL 2.5 per ISO 2859-1"}, false, false},
		{"compliance yes for a named regulation", rq("REACH (EU) compliant", "Yes"), true, false},
		{"compliance in capitals", rq("REACH", "YES"), true, false},
		{"compliance naming no regulation", rq("Safety", "compliant"), true, true},
		{"compliance to an unnamed standard", rq("Compliance", "standard"), true, true},
		{"compliance to local standards", rq("Local standards compliant", "yes"), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := trade.Contract{Attachments: attached}
			if tc.compliance {
				c.Compliance = []trade.Requirement{tc.req}
			} else {
				c.Quality = []trade.Requirement{tc.req}
			}
			rep := Lint(LintInput{Contract: c, Category: CategoryGeneral})
			got := false
			for _, f := range rep.Findings {
				got = got || f.Code == CodeVagueRequirement
			}
			if got != tc.vague {
				t.Fatalf("vague = %v, want %v\n%s", got, tc.vague, dump(rep))
			}
			if rep.Clear(tc.req.Attribute) == tc.vague && !strings.Contains(tc.req.Requirement, ".pdf") {
				t.Errorf("Clear(%q) = %v with vague = %v", tc.req.Attribute, !tc.vague, tc.vague)
			}
		})
	}
}

// TestAttachmentReferences ensures file names in requirement, tolerance, method and notes must
// name an attachment on the contract, matched in any case. // R3 R5
func TestAttachmentReferences(t *testing.T) {
	cases := []struct {
		name     string
		req      trade.Requirement
		notes    string
		attached []string
		want     []string
	}{
		{"attached, other case", rq("Design", "As in Design_Draft_A.PDF"), "", []string{"design_draft_a.pdf"}, []string{}},
		{"attached under a folder", rq("Label", "label_b.pdf"), "", []string{"drafts/label_b.pdf"}, []string{}},
		{"missing in the requirement", rq("Design", "As in design_draft_a.pdf"), "", nil,
			[]string{"quality_requirements[0] attachment_missing design_draft_a.pdf"}},
		{"missing in the method, once per file", trade.Requirement{Attribute: "Seams", Requirement: "≥ 80 N",
			Method: "per seam_test.docx and seam_test.docx"}, "", nil,
			[]string{"quality_requirements[0] attachment_missing seam_test.docx"}},
		{"two missing in the tolerance, ordered", trade.Requirement{Attribute: "Size", Requirement: "50 cm",
			Tolerance: "see tol_b.xlsx and tol_a.xlsx"}, "", nil,
			[]string{"quality_requirements[0] attachment_missing tol_a.xlsx", "quality_requirements[0] attachment_missing tol_b.xlsx"}},
		{"missing in the notes", rq("Zipper", "YKK"), "Hang tag per hangtag.ai; photos in shots.zip", []string{"shots.zip"},
			[]string{"notes attachment_missing hangtag.ai"}},
		{"not a file extension", rq("Site", "see example.com and v1.2"), "", nil, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := trade.Contract{Quality: []trade.Requirement{tc.req}, Notes: tc.notes}
			for _, n := range tc.attached {
				c.Attachments = append(c.Attachments, attachment(n))
			}
			rep := Lint(LintInput{Contract: c, Category: CategoryGeneral})
			got := []string{}
			for _, f := range rep.Findings {
				if f.Code == CodeAttachmentMissing {
					name := f.Suggestion[len("Attach "):strings.Index(f.Suggestion, " to the contract")]
					got = append(got, f.Field+" "+f.Code+" "+name)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v\n%s", got, tc.want, dump(rep))
			}
		})
	}
}

// TestAttachSampleReferences ensures "as sample" passes only when the requirement or its method
// names the sample or an attached photo of it. // R5 R19
func TestAttachSampleReferences(t *testing.T) {
	cases := []struct {
		name string
		req  trade.Requirement
		want bool // flagged
	}{
		{"as sample", rq("Color", "as sample"), true},
		{"same as sample, numbered", rq("Color", "same as sample #A12"), false},
		{"sample named in the method", trade.Requirement{Attribute: "Color", Requirement: "as sample", Method: "compare to golden sample ref GS-3"}, false},
		{"attached photo", rq("Color", "as sample in sample_photo.jpg"), false},
		{"unattached photo is no reference", rq("Color", "as sample in missing_photo.jpg"), true},
		{"a measure is no sample reference", rq("Fabric", "as samples, 200 gsm"), true},
		{"no sample", rq("Color", "Pantone 1935 C"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := trade.Contract{Quality: []trade.Requirement{tc.req}, Attachments: []trade.Attachment{attachment("sample_photo.jpg")}}
			rep := Lint(LintInput{Contract: c, Category: CategoryGeneral})
			got := false
			for _, f := range rep.Findings {
				got = got || f.Code == CodeSampleUnreferenced
			}
			if got != tc.want {
				t.Fatalf("flagged = %v, want %v\n%s", got, tc.want, dump(rep))
			}
		})
	}
}

// TestLintMeasures ensures a bare number needs a unit, a measure needs a tolerance or a limit,
// and a measure inside a description only earns a suggestion. // R5
func TestLintMeasures(t *testing.T) {
	cases := []struct {
		name string
		req  trade.Requirement
		want []string // "code severity"
	}{
		{"number without unit", rq("Weight", "200"), []string{"tolerance_missing warning", "unit_missing warning"}},
		{"number with unit", trade.Requirement{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²"}, []string{"tolerance_missing warning"}},
		{"number with unit and tolerance", trade.Requirement{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"}, []string{}},
		{"measure in the text", rq("Length", "50 cm"), []string{"tolerance_missing warning"}},
		{"dimensions in the text", rq("Carton", "50 x 40 x 30 cm"), []string{"tolerance_missing warning"}},
		{"tolerance in the text", rq("Length", "50 cm ± 1 cm"), []string{}},
		{"range", rq("Length", "48-52 cm"), []string{}},
		{"bare range", trade.Requirement{Attribute: "Length", Requirement: "48–52", Unit: "cm"}, []string{}},
		{"limit", rq("Thickness", "max 5 mm"), []string{}},
		{"limit sign", rq("Shrinkage", "≤ 3%"), []string{}},
		{"limit without unit", rq("Shrinkage", "max 3"), []string{"unit_missing warning"}},
		{"measure in a description", rq("Fabric", "Organic cotton, 200 gsm"), []string{"tolerance_missing suggestion"}},
		{"composition", rq("Material", "100% cotton"), []string{}},
		{"count", rq("Packing", "50 pcs per carton"), []string{}},
		{"count unit", trade.Requirement{Attribute: "Packing", Requirement: "12", Unit: "pcs"}, []string{}},
		{"code digits are not a measure", rq("Color", "Pantone 1935 D"), []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := Lint(LintInput{Contract: trade.Contract{Quality: []trade.Requirement{tc.req}}})
			got := []string{}
			for _, f := range rep.Findings {
				got = append(got, f.Code+" "+string(f.Severity))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v\n%s", got, tc.want, dump(rep))
			}
		})
	}
}

// TestLintToleranceRewrite ensures the suggested rewrite puts the tolerance after the measure.
func TestLintToleranceRewrite(t *testing.T) {
	rep := Lint(LintInput{Contract: trade.Contract{Quality: []trade.Requirement{rq("Fabric", "Organic cotton, 200 gsm")}}})
	if len(rep.Findings) != 1 || !strings.HasPrefix(rep.Findings[0].Suggestion, "Fabric: Organic cotton, 200 gsm ± 5%") {
		t.Fatalf("findings:\n%s", dump(rep))
	}
}

// TestLintClearByAttribute ensures Clear normalises the attribute, is false for an attribute the
// contract does not specify, and false when any requirement of that name is unenforceable. // R19
func TestLintClearByAttribute(t *testing.T) {
	c := trade.Contract{Quality: []trade.Requirement{rq("Fabric", "Organic cotton"), rq(" fabric ", "good quality"), rq("Zipper", "YKK")}}
	rep := Lint(LintInput{Contract: c})
	if rep.Clear("Fabric") {
		t.Error("Clear(Fabric) = true although one Fabric requirement is vague")
	}
	if !rep.Clear("  ZIPPER ") {
		t.Error("Clear(ZIPPER) = false, want true")
	}
	if rep.Clear("Stitching") {
		t.Error("Clear(Stitching) = true for an attribute the contract does not mention")
	}
}

// TestLintDeterministic ensures two runs give the same report, findings ordered by field, index
// and code, with the missing compliance last.
func TestLintDeterministic(t *testing.T) {
	c := vagueSpec()
	c.Notes = "see b.pdf, a.pdf"
	in := LintInput{Contract: c, Category: CategoryToys, Markets: []Market{{Country: "US", Region: "US-CA"}, {Country: "EU"}}}
	a, b := Lint(in), Lint(in)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs differ")
	}
	last := a.Findings[len(a.Findings)-1]
	if last.Code != CodeComplianceMissing {
		t.Errorf("last finding %s %s, want compliance_missing", last.Field, last.Code)
	}
	empty := Lint(LintInput{})
	if empty.Findings == nil || empty.Enforceable == nil {
		t.Error("an empty report has nil slices or maps")
	}
}

func dump(r Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %-10s %-20s %-26s %-14q %s\n      → %s\n", f.Severity, f.Code, f.Field, f.Attribute, f.Explanation, f.Suggestion)
	}
	return b.String()
}
