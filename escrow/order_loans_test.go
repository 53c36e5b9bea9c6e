package escrow_test

import (
	"slices"
	"testing"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// TestOrderLoans ensures the loans of an order are every agreement offered for its payments, by
// ID, with the accepted one's disbursement request, and no other order's; the buyer reads its
// own, an admin any, another buyer none, and a supplier is refused. R11
func TestOrderLoans(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.clock.Set(agreedAt)
		e.approve(500_000_00)
		o := must(e.financed(e.buyer, "USD", 10_00))
		other := must(e.financed(e.buyer, "USD", 10_00))
		first := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 2))
		must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), other.ID, 2))
		second := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 3))
		must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), second.ID))
		e.clock.Set(disbursedAt)
		must(e.svc.RunTimers(e.ctx, "w1")) // the lender is asked to pay; its worker has not run

		ids := func(ls []escrow.LoanRecord) []string {
			var out []string
			for _, l := range ls {
				out = append(out, l.ID)
			}
			return out
		}
		want := []string{first.ID, second.ID}
		slices.Sort(want)
		for _, a := range []trade.Actor{e.buyer, e.admin} {
			got := must(e.svc.OrderLoans(e.ctx, a, o.ID))
			if !slices.Equal(ids(got), want) {
				t.Fatalf("%s: loans of the order %v, want %v", a.Role, ids(got), want)
			}
			for _, l := range got {
				if (l.ID == second.ID) != (l.Disbursement != nil) {
					t.Fatalf("%s: loan %s (%s) with disbursement request %+v", a.Role, l.ID, l.State, l.Disbursement)
				}
			}
		}
		stranger := trade.Actor{Role: trade.RoleBuyer, OrgID: e.org(trade.KindBuyer, "Other Buyer", "US").ID, UserID: "b2"}
		if got := must(e.svc.OrderLoans(e.ctx, stranger, o.ID)); len(got) != 0 {
			t.Fatalf("another buyer reads %v", ids(got))
		}
		if _, err := e.svc.OrderLoans(e.ctx, e.supplier, o.ID); fault.CodeOf(err) != fault.Forbidden {
			t.Fatalf("a supplier: %v", err)
		}
		if got := must(e.svc.OrderLoans(e.ctx, e.buyer, "ord_none")); len(got) != 0 {
			t.Fatalf("an order without loans: %v", ids(got))
		}
	})
}
