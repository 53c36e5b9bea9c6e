package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/notify"
)

// TestNoticeRows ensures every page notify links to gets a link named for what it opens, the
// order's reference only on an order's, a link of a notice sent before the Operations page (a
// supplier's Payouts panel) still gets its name, and a link that is not a portal page (empty,
// another host) gets none.
func TestNoticeRows(t *testing.T) {
	for _, c := range []struct{ link, href, opens string }{
		{notify.OrderLink("ord_0123456789abcdef"), "/orders/ord_0123456789abcdef", "Order #89abcdef"},
		{notify.LoanLink("loan_0123456789abcdef"), "/credit/loans/loan_0123456789abcdef", "Pay Later loan #89abcdef"},
		{notify.ApplicationLink("app_0123456789abcdef"), "/credit/applications/app_0123456789abcdef", "Your Pay Later application"},
		{notify.CreditLink, "/credit", "Your Pay Later credit line"},
		{notify.SuspenseLink, "/admin/suspense", "Money held in suspense"},
		{notify.PayoutsLink, "/payouts", "Your payouts"},
		{notify.OperationsPayoutsLink, "/admin/operations#payouts", "Operations: payouts waiting for the bank"},
		{notify.OperationsFlagsLink, "/admin/operations#flags", "Operations: flagged payout accounts"},
		{notify.OperationsDebitAttentionLink, "/admin/operations#debit-attention", "Operations: debits needing attention"},
		{notify.OperationsDebitsLink, "/admin/operations#debits", "Operations: debits waiting for the bank"},
		{notify.OperationsLenderLink, "/admin/operations#lender-requests", "Operations: lender requests needing attention"},
		{notify.OperationsLenderFundsLink, "/admin/operations#lender-funds", "Operations: disbursements awaiting the lender's money"},
		{"/admin/suppliers/org_0123456789abcdef#payouts", "/admin/suppliers/org_0123456789abcdef#payouts", "The supplier's payouts"},
		{"/orders/", "/orders/", openPage},
		{"/admin/operations", "/admin/operations", openPage},
		{"/admin/operations#elsewhere", "/admin/operations#elsewhere", openPage},
		{"", "", ""},
		{"//elsewhere.example/orders/x", "", ""},
		{"https://elsewhere.example/", "", ""},
	} {
		rows := noticeRows([]notify.Notification{{Link: c.link, OrderID: "ord_0123456789abcdef"}})
		if rows[0].Href != c.href || rows[0].Opens != c.opens {
			t.Errorf("%q: href %q, opens %q; want %q, %q", c.link, rows[0].Href, rows[0].Opens, c.href, c.opens)
		}
	}
}

// TestEveryNoticeLinkIsNamed ensures every link a notify rule can produce opens a link named for
// its page, never the generic "Open the page", each name its own: it enumerates the link
// builders of package notify — every exported constant or function whose name ends in "Link",
// read from its source — and fails when one is not in the table below, so a page notify starts
// linking to is named here before it ships.
func TestEveryNoticeLinkIsNamed(t *testing.T) {
	const id = "x_0123456789abcdef"
	built := map[string]string{
		"OrderLink":                    notify.OrderLink(id),
		"LoanLink":                     notify.LoanLink(id),
		"ApplicationLink":              notify.ApplicationLink(id),
		"CreditLink":                   notify.CreditLink,
		"SuspenseLink":                 notify.SuspenseLink,
		"PayoutsLink":                  notify.PayoutsLink,
		"OperationsPayoutsLink":        notify.OperationsPayoutsLink,
		"OperationsFlagsLink":          notify.OperationsFlagsLink,
		"OperationsDebitAttentionLink": notify.OperationsDebitAttentionLink,
		"OperationsDebitsLink":         notify.OperationsDebitsLink,
		"OperationsLenderLink":         notify.OperationsLenderLink,
		"OperationsLenderFundsLink":    notify.OperationsLenderFundsLink,
	}
	builders := notifyLinkBuilders(t)
	if len(builders) < len(built) {
		t.Fatalf("read %d link builders from notify's source, fewer than the %d known: %v", len(builders), len(built), builders)
	}
	names := map[string]string{}
	for _, b := range builders {
		link, ok := built[b]
		if !ok {
			t.Errorf("notify.%s is a link builder this test does not know: add it to the table, and name its page in opens", b)
			continue
		}
		name := opens(link)
		if name == openPage || name == "" {
			t.Errorf("notify.%s (%q) opens a link named %q: name its page in opens", b, link, name)
		}
		if other, dup := names[name]; dup {
			t.Errorf("notify.%s and notify.%s both open a link named %q", b, other, name)
		}
		names[name] = b
	}
	for b := range built {
		if !slices.Contains(builders, b) {
			t.Errorf("the table knows notify.%s, which notify's source no longer has", b)
		}
	}
}

// notifyLinkBuilders reads package notify's source (its test files aside) and returns the names
// of its exported constants and functions that end in "Link", sorted.
func notifyLinkBuilders(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	var out []string
	for _, path := range notifySources(t) {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && strings.HasSuffix(d.Name.Name, "Link") {
					out = append(out, d.Name.Name)
				}
			case *ast.GenDecl:
				if d.Tok != token.CONST && d.Tok != token.VAR {
					continue
				}
				for _, s := range d.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						if n.IsExported() && strings.HasSuffix(n.Name, "Link") {
							out = append(out, n.Name)
						}
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// notifySources are the files of package notify, its tests aside, beside this package's.
func notifySources(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("..", "notify", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range all {
		if !strings.HasSuffix(p, "_test.go") {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no source of package notify in ../notify")
	}
	return out
}
