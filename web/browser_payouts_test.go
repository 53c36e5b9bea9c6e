package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPayouts ensures payouts work in a browser: the supplier follows the menu's
// Payouts link to what it is owed, the admin pays it out with the keyboard from the supplier's
// page, and the supplier then sees the payout; the payouts page and the admin's supplier page
// have no horizontal scroll at 390×844 nor at 1280×800. R12 R24
func TestBrowserPayouts(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	o := w.released()
	ctx := browser(t)
	supplier := w.person(ctx, "supplier")
	supplier.login()
	supplier.do("follow the Payouts link", chromedp.Click(chromedp.CSS(`header a[href="/payouts"]`)), waitText("Owed to you now"))
	supplier.has("payouts page", "USD 11,600.00", "#"+o.ID[len(o.ID)-8:], "Next automatic payout", "No payouts yet.")

	admin := w.person(ctx, "admin")
	admin.login()
	admin.open("/admin/suppliers/" + w.supplierID())
	admin.do("pay out now with the keyboard",
		chromedp.Focus(chromedp.CSS(`#payouts button[type=submit]`)),
		chromedp.KeyEvent("\r"),
		waitText("Requested a payout of USD 11,600.00"),
	)
	supplier.open("/payouts")
	supplier.has("payouts page after the payout", "Requested: waiting for the bank's confirmation", "On its way to your bank",
		"By the platform", "No payout is due.")

	for _, size := range []viewport{phone, laptop} {
		for _, pg := range []struct {
			who  *person
			path string
		}{{supplier, "/payouts"}, {admin, "/admin/suppliers/" + w.supplierID()}} {
			pg.who.resize(size)
			pg.who.open(pg.path) // checks the page at this width
		}
	}
}
