package escrow_test

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// TestLiveTimers ensures LiveTimers reads, for several orders at once, exactly the timers each
// order's own Timers lists as still to fire (pending or claimed) — what a list of orders shows
// as their deadlines (R21) — and refuses more than PageSizeMax orders.
func TestLiveTimers(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		a := e.confirmed(10_00)
		a = e.do(e.buyer, a, trade.Pay{Installment: trade.Initial, Method: payment.TTWire}) // a payment expiry too
		b := e.confirmed(20_00)
		var want []escrow.StoredTimer
		for _, id := range []string{a.ID, b.ID} {
			for _, tm := range must(e.svc.Timers(e.ctx, id)) {
				if tm.State == escrow.TimerPending || tm.State == escrow.TimerClaimed {
					want = append(want, tm)
				}
			}
		}
		slices.SortFunc(want, func(x, y escrow.StoredTimer) int {
			return cmp.Or(strings.Compare(x.OrderID, y.OrderID), cmp.Compare(x.ID, y.ID))
		})
		got := must(e.svc.LiveTimers(e.ctx, []string{b.ID, a.ID, "ord_none"}))
		if len(want) < 3 || !slices.EqualFunc(got, want, func(x, y escrow.StoredTimer) bool { return x.ID == y.ID && x.Key == y.Key }) {
			t.Errorf("live timers %+v, want %+v", got, want)
		}
		ids := make([]string, escrow.PageSizeMax+1)
		for i := range ids {
			ids[i] = "ord_" + strconv.Itoa(i)
		}
		_, err := e.svc.LiveTimers(e.ctx, ids)
		if f, ok := fault.As(err); !ok || f.Code != fault.Invalid || f.Reason != "too_many_orders" {
			t.Errorf("%d orders: %v", len(ids), err)
		}
	})
}
