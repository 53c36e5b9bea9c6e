package notify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEveryEmailLinkIsNamed ensures the link line of every email says what the link opens,
// never the generic "Open it in the portal": it enumerates the package's link builders —
// every exported constant or function whose name ends in "Link", read from its source — and
// fails when one is not in the table below. A link of a notice sent before the Operations page
// (a supplier's Payouts panel) keeps its name.
func TestEveryEmailLinkIsNamed(t *testing.T) {
	const generic = "Open it in the portal"
	built := map[string]string{
		"OrderLink":                    OrderLink("ord_1"),
		"LoanLink":                     LoanLink("loan_1"),
		"ApplicationLink":              ApplicationLink("app_1"),
		"CreditLink":                   CreditLink,
		"SuspenseLink":                 SuspenseLink,
		"PayoutsLink":                  PayoutsLink,
		"OperationsPayoutsLink":        OperationsPayoutsLink,
		"OperationsFlagsLink":          OperationsFlagsLink,
		"OperationsDebitAttentionLink": OperationsDebitAttentionLink,
		"OperationsDebitsLink":         OperationsDebitsLink,
		"OperationsLenderLink":         OperationsLenderLink,
		"OperationsLenderFundsLink":    OperationsLenderFundsLink,
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var builders []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv == nil && n.Name.IsExported() && strings.HasSuffix(n.Name.Name, "Link") {
					builders = append(builders, n.Name.Name)
				}
				return false
			case *ast.ValueSpec:
				for _, id := range n.Names {
					if id.IsExported() && strings.HasSuffix(id.Name, "Link") {
						builders = append(builders, id.Name)
					}
				}
			}
			return true
		})
	}
	for _, b := range builders {
		link, ok := built[b]
		if !ok {
			t.Errorf("%s is a link builder this test does not know: add it to the table, and name it in linkText", b)
		} else if text := linkText(link); text == generic {
			t.Errorf("%s (%q): the email says %q: name its page in linkText", b, link, text)
		}
	}
	for b := range built {
		if !slices.Contains(builders, b) {
			t.Errorf("the table knows %s, which the package's source no longer has", b)
		}
	}
	if got := linkText("/admin/suppliers/org_1#payouts"); got != "Open the supplier's payouts" {
		t.Errorf("a notice sent before the Operations page: %q", got)
	}
	if got := linkText("/elsewhere"); got != generic {
		t.Errorf("a link to no page notify links to: %q", got)
	}
}
