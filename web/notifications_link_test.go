package web

import (
	"testing"

	"github.com/tradeassure/tradeassure/notify"
)

// TestNoticeRows ensures every page notify links to gets a link named for what it opens, the
// order's reference only on an order's, and a link that is not a portal page (empty, another
// host) gets none.
func TestNoticeRows(t *testing.T) {
	for _, c := range []struct{ link, href, opens string }{
		{notify.OrderLink("ord_0123456789abcdef"), "/orders/ord_0123456789abcdef", "Order #89abcdef"},
		{notify.LoanLink("loan_0123456789abcdef"), "/credit/loans/loan_0123456789abcdef", "Pay Later loan #89abcdef"},
		{notify.ApplicationLink("app_0123456789abcdef"), "/credit/applications/app_0123456789abcdef", "Your Pay Later application"},
		{notify.CreditLink, "/credit", "Your Pay Later credit line"},
		{notify.SuspenseLink, "/admin/suspense", "Money held in suspense"},
		{"/orders/", "/orders/", "Open the page"},
		{"/payouts", "/payouts", "Open the page"},
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
