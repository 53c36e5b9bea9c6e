package quality

import (
	"slices"
	"testing"

	"github.com/tradeassure/tradeassure/trade"
)

// TestSpecCheck ensures the check frozen with a contract lists, once each and as the contract
// spells them, the attributes the linter judged unenforceable, carries the findings, and reads
// the category and markets from the contract itself. R5 R19
func TestSpecCheck(t *testing.T) {
	c := childrensClothing()
	c.Attachments = nil // the design, dimensions and label files are not attached
	c.Quality = append(c.Quality, rq(" Stitching ", "good quality"), rq("stitching", "even"), rq("Zipper", "YKK"))
	c.Category, c.Markets = "childrens_apparel", []trade.Market{{Country: "US"}}
	got := SpecCheck(c)
	want := []string{"Design", "Dimensions", "Care label", "Stitching"}
	if !slices.Equal(got.Unclear, want) {
		t.Fatalf("unclear %q, want %q", got.Unclear, want)
	}
	fs, err := Findings(got)
	if err != nil {
		t.Fatal(err)
	}
	if rep := LintContract(c); !slices.Equal(fs, rep.Findings) || len(fs) == 0 {
		t.Fatalf("findings %+v, want the linter's %+v", fs, rep.Findings)
	}
	c.Compliance = nil // CPSIA is now missing for children's apparel sold in the US
	if !slices.ContainsFunc(LintContract(c).Findings, func(f Finding) bool {
		return f.Code == CodeComplianceMissing && f.Attribute == "CPSIA"
	}) {
		t.Fatal("the contract's category and markets were not used")
	}
	clear := SpecCheck(childrensClothing())
	if len(clear.Unclear) != 0 || clear.Unclear == nil {
		t.Fatalf("a clear contract has unclear %#v", clear.Unclear)
	}
	if fs, err := Findings(nil); err != nil || len(fs) != 0 {
		t.Fatalf("no check: %v %v", fs, err)
	}
}
