package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// TestBrowserAdmin drives the admin pages in Chromium: the admin reaches them from the menu,
// types a coverage limit with too many decimals and sees the error next to the field with the
// input kept, corrects it (R22), marks the other supplier eligible with the keyboard (R1), and
// every admin page, the audit log included, fits a 390 px phone and a 1280 px screen without
// scrolling sideways (R24). With REVIEW_SCREENSHOTS=dir it saves full-page captures there.
func TestBrowserAdmin(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { browserAdmin(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { browserAdmin(t, newWorld(t, postgresURL(t))) })
}

func browserAdmin(t *testing.T, w *world) {
	o := w.order(trade.Escalated)
	w.order(trade.InProduction)
	// Money that quoted no reference waits in suspense (R8).
	_, err := w.svc.ReceiveFunds(w.ctx, "stmt-x", escrow.Incoming{Method: payment.TTWire, Amount: money.New(1_234_56, "USD"),
		Reference: "PO 7781 MAPLE KIDS APPAREL INC SEPTEMBER SHIPMENT", Payer: "Maple Kids Apparel Inc."})
	w.must("receive", err)
	sup, sup2 := w.supplierID(), w.actors["supplier2"].OrgID
	admin := w.person(browser(t), "admin")
	admin.login()

	admin.do("open the suppliers from the menu",
		chromedp.Click(chromedp.CSS(`header nav a[href="/admin/suppliers"]`)),
		waitText("Open a supplier to change them"))
	admin.do("open the supplier", chromedp.Click(chromedp.CSS(`a[href="/admin/suppliers/`+sup+`"]`)), waitText("History"),
		chromedp.WaitVisible(chromedp.ID("f-limit")))
	admin.do("type a limit with three decimals",
		chromedp.SetValue(chromedp.ID("f-limit"), "30000.125"),
		chromedp.Click(chromedp.CSS("#coverage-limit button[type=submit]")),
		waitText("USD has 2 decimal places"),
		chromedp.WaitVisible(chromedp.ID("f-limit-error")))
	fieldError(admin, "too many decimals", "f-limit", "USD has 2 decimal places")
	if v := run(admin, "kept", chromedp.Value(chromedp.ID("f-limit"))); v != "30000.125" {
		t.Errorf("the limit typed is not kept: %q", v)
	}
	admin.do("correct it",
		chromedp.SetValue(chromedp.ID("f-limit"), "30000.12"),
		chromedp.Click(chromedp.CSS("#coverage-limit button[type=submit]")),
		waitText("Coverage limit set to USD 30,000.12."))

	admin.open("/admin/suppliers/" + sup2)
	admin.do("mark eligible with the keyboard",
		chromedp.Focus(chromedp.ID("f-eligible-yes")),
		chromedp.SendKeys(chromedp.ID("f-eligible-yes"), " "),
		chromedp.SendKeys(chromedp.ID("f-reason"), "Verified on site, February 2026"),
		chromedp.Focus(chromedp.CSS("#eligibility button[type=submit]")),
		chromedp.SendKeys(chromedp.CSS("#eligibility button[type=submit]"), "\r"),
		waitText("Eligibility saved."))
	admin.has("eligibility history", "Marked eligible", "Verified on site, February 2026")
	org, err := w.svc.Org(w.ctx, sup2)
	w.must("org", err)
	if !org.Eligibility.Eligible {
		t.Error("R1: the supplier is still not eligible")
	}

	review := os.Getenv("REVIEW_SCREENSHOTS")
	pages := []struct{ name, path string }{
		{"admin-suppliers", "/admin/suppliers"},
		{"admin-supplier", "/admin/suppliers/" + sup},
		{"admin-fees", "/admin/fees"},
		{"admin-ledger", "/admin/ledger?check=1"},
		{"admin-suspense", "/admin/suspense"},
		{"admin-audit", "/orders/" + o.ID + "/audit"},
	}
	for _, size := range []viewport{phone, laptop} {
		admin.resize(size)
		for _, pg := range pages {
			admin.open(pg.path) // checks the page at this width
			if pg.name == "admin-audit" {
				// An opened payload must fit too.
				admin.do("open a payload", chromedp.Click(chromedp.CSS("table.audit details summary")))
				admin.check()
			}
			if review != "" {
				png := run(admin, "screenshot", chromedp.FullScreenshot(100))
				if err := os.WriteFile(filepath.Join(review, fmt.Sprintf("%s-%d.png", pg.name, size.w)), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	admin.open("/orders/" + o.ID + "/audit")
	admin.has("audit log", "Chain intact", "Dispute filed")
}
