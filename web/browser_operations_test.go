package web_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// TestBrowserOperations ensures an admin handles the operations queues from the keyboard alone
// (key events only, the focus shown at every Tab stop): from the menu to the operations page,
// a payout recorded as sent — first with the wrong amount, refused next to the amount with what
// was typed kept, then corrected — and, after the bank returned it, the supplier's flagged
// account cleared — first without the confirmation, refused next to the box, then with it. Every
// page on the way passes the page check, and the page with a payout and with a flag fits 390 px
// and 1280 px. R12 R24
func TestBrowserOperations(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	p := w.requestedPayout()
	sup := w.supplierID()
	admin := w.person(browser(t), "admin")
	admin.loginByKeyboard()
	for _, size := range []viewport{phone, laptop} {
		admin.resize(size)
		admin.open(opsPath)
	}
	admin.open("/")
	admin.tabTo(`header a[href="/admin/operations"]`, false)
	admin.press("open Operations", kb.Enter)
	admin.do("the operations page", waitText("Supplier payouts waiting for the bank's answer"))
	admin.check()

	amount := "#f-sent-" + p.ID + "-amount"
	admin.tabTo(amount, false)
	admin.press("type a wrong amount", "11500.00")
	admin.tabTo("#f-sent-"+p.ID+"-bank_reference", false)
	admin.press("type the bank's reference", "FT26061ABC")
	admin.press("submit with Enter", kb.Enter)
	admin.do("the refusal", waitText("The payout sends USD 11,600.00, not USD 11,500.00: check the amount on the bank's report."))
	admin.check()
	admin.has("the input kept", "Nothing was recorded")
	if v := run(admin, "the amount kept", chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(amount)+`).value`)); v != "11500.00" {
		t.Errorf("the amount after the refusal is %q, want what was typed", v)
	}
	if v := run(admin, "the reference kept", chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote("#f-sent-"+p.ID+"-bank_reference")+`).value`)); v != "FT26061ABC" {
		t.Errorf("the bank reference after the refusal is %q, want what was typed", v)
	}
	admin.tabTo(amount, false) // Tab selects what the field holds: typing replaces it
	admin.press("type the right amount", "11600.00")
	admin.tabTo("#payout-"+p.ID+` form[action$="/sent"] button[type=submit]`, false)
	admin.press("record as sent", kb.Enter)
	admin.do("the payout recorded", waitText("recorded as sent on 2 Mar 2026, bank reference FT26061ABC."))
	admin.check()
	admin.has("the queue emptied", "No payout waits for the bank's answer.")

	// Days later the bank reports the wire came back: the supplier's account is flagged.
	got, err := w.svc.Payout(w.ctx, w.admin, p.ID)
	w.must("payout", err)
	_, err = w.svc.RecordPayoutResult(w.ctx, w.admin, w.key(), p.ID, trade.PayoutResult{Outcome: trade.OutcomeReturned,
		Amount: money.New(got.Sent, got.Currency), ValueDate: w.clock.Now(), Reason: "AC04 closed account number"})
	w.must("record the return", err)
	for _, size := range []viewport{phone, laptop} {
		admin.resize(size)
		admin.open(opsPath)
	}
	admin.has("the flagged account", "The bank said", "AC04 closed account number")
	clear := "#flag-" + sup + " button[type=submit]"
	admin.tabTo(clear, false)
	admin.press("clear without the confirmation", kb.Enter)
	admin.do("the refusal", waitText("Confirm that you checked the supplier's new bank details"))
	admin.check()
	admin.tabTo("#f-clear-"+sup, false)
	admin.press("tick the confirmation with Space", " ")
	admin.tabTo(clear, false)
	admin.press("clear the flag", kb.Enter)
	admin.do("the flag cleared", waitText("Cleared the payout account flag of Ningbo Sunrise Garments Co."))
	admin.check()
	admin.has("no flag left", "No payout account is flagged.")
	if f, err := w.svc.OpenPayoutFlag(w.ctx, w.admin, sup); err != nil || f != nil {
		t.Fatalf("the flag after clearing it: %+v, %v", f, err)
	}
}
