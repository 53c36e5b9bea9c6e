package trade_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/trade"
)

// TestArchitectureDiagram ensures docs/architecture.md shows the lifecycle exactly as the table
// defines it: the diagram is generated, never drawn by hand.
func TestArchitectureDiagram(t *testing.T) {
	doc, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```mermaid\n"+trade.Mermaid()+"```") {
		t.Fatalf("docs/architecture.md is out of date; paste the output of trade.Mermaid():\n%s", trade.Mermaid())
	}
}
