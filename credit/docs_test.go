package credit_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/money"
)

// TestDocs ensures docs/pay-later.md shows the lifecycle exactly as the table defines it and
// the worked example exactly as Offer computes it: neither is drawn by hand. R11
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/pay-later.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "```mermaid\n"+credit.Mermaid()+"```") {
		t.Errorf("docs/pay-later.md is out of date; paste the output of credit.Mermaid():\n%s", credit.Mermaid())
	}
	a, err := credit.Offer(usd(10_000_00), 6, credit.DefaultFeeSchedule(), credit.DefaultFirstMonthCredit(), t0, fed)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range a.Installments {
		row := fmt.Sprintf("| %d | %s | %s | %s | %s |", in.N, grouped(in.Principal), grouped(in.Fee), creditCell(in.Credit), grouped(in.Total))
		if !strings.Contains(doc, row) {
			t.Errorf("docs/pay-later.md lacks the worked-example row %q", row)
		}
	}
	if !strings.Contains(doc, "**APR "+a.APR.String()+"**") {
		t.Errorf("docs/pay-later.md does not state the worked example's APR of %s", a.APR)
	}
	if !strings.Contains(doc, "net fees US$"+grouped(a.NetFees)) {
		t.Errorf("docs/pay-later.md does not state net fees of %s", a.NetFees)
	}
}

// grouped formats an amount as the docs do: 1,666.67.
func grouped(a money.Amount) string {
	s := a.Decimal()
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return whole + "." + frac
}

// creditCell formats a credit as the docs do: −100.00, or 0.00.
func creditCell(a money.Amount) string {
	if a.IsZero() {
		return "0.00"
	}
	return "−" + grouped(a)
}
