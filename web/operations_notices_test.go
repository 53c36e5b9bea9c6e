package web_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

// noticeLinksTo checks that the admins' notification titled title links to the section of the
// Operations page whose element ID is section, named name, and that the section lists the item
// whose element ID is item.
func noticeLinksTo(t *testing.T, admin *client, title, section, name, item string) {
	t.Helper()
	href := opsPath + "#" + section
	if got, want := noticeLinks(admin.get("/notifications").body)[title], `<a href="`+href+`">`+name+`</a>`; got != want {
		t.Errorf("%q links %q, want %q", title, got, want)
	}
	page := admin.get(opsPath)
	if page.status != http.StatusOK {
		t.Fatalf("GET %s: %d", opsPath, page.status)
	}
	m := regexp.MustCompile(`(?s)<section id="` + regexp.QuoteMeta(section) + `"[^>]*>(.*?)</section>`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("%q: the Operations page has no section #%s", title, section)
	}
	if !strings.Contains(m[1], `id="`+item+`"`) {
		t.Errorf("%q: section #%s does not list #%s:\n%s", title, section, item, html.UnescapeString(m[1]))
	}
}

// TestAdminNoticesLinkTheirQueue ensures each notice that asks the platform's admins to act on
// an item of the Operations page links to the section of its queue, named for it, and that the
// section lists the item when the notice arrives: a payout to record, one the payout rail gave no
// usable answer for, a flagged payout account (R12), a Pay Later debit to record and one the bank
// never answered, a lender request the lender never answered (R11). The text still names the
// API's operation, for programs; the supplier's own notice of the return links its payouts. No
// payout or bank adapter runs: the notifier is told so.
func TestAdminNoticesLinkTheirQueue(t *testing.T) {
	manual := notify.Options{ManualBank: true, ManualPayouts: true}
	t.Run("payouts and debits", func(t *testing.T) {
		onBothDatabases(t, func(t *testing.T, w *world) {
			notes := withNotifier(w, manual)
			admin := w.login("admin")
			sup := w.supplierID()
			p := w.requestedPayout()
			runNotifier(t, notes)
			noticeLinksTo(t, admin, "Record the bank's answer to payout "+notify.ShortRef(p.ID), "payouts",
				"Operations: payouts waiting for the bank", "payout-"+p.ID)

			rail := escrow.New(w.db, escrow.Options{Clock: w.clock, Config: trade.DefaultConfig(),
				Payouts: escrow.PayoutOptions{Rail: shortRail{}}})
			_, err := rail.RunPayoutSends(w.ctx, "short-rail-worker")
			w.must("payout worker", err)
			runNotifier(t, notes)
			noticeLinksTo(t, admin, "Payout "+notify.ShortRef(p.ID)+" needs an operator", "payouts",
				"Operations: payouts waiting for the bank", "payout-"+p.ID)

			_, err = w.svc.RecordPayoutResult(w.ctx, w.admin, w.key(), p.ID, trade.PayoutResult{Outcome: trade.OutcomeReturned,
				Amount: money.New(p.Sent, p.Currency), ValueDate: w.clock.Now(), Reason: "AC04 closed account number"})
			w.must("record the return", err)
			runNotifier(t, notes)
			noticeLinksTo(t, admin, "Payout "+notify.ShortRef(p.ID)+" to Ningbo Sunrise Garments Co. returned by the bank", "flags",
				"Operations: flagged payout accounts", "flag-"+sup)
			inbox := w.login("supplier").get("/notifications")
			shows(t, "the supplier's inbox", inbox, "and a payout your bank returned. Each links to the order, or to your payouts.")
			title := "Payout of " + money.New(p.Sent, p.Currency).Display() + " returned by the bank"
			if got := noticeLinks(inbox.body)[title]; got != `<a href="/payouts">Your payouts</a>` {
				t.Errorf("the supplier's %q links %q", title, got)
			}

			l := w.disbursedLoan()
			w.clock.Set(l.Installments[0].DueDate.Add(time.Hour))
			w.timers()
			l, err = w.svc.Loan(w.ctx, w.admin, l.ID)
			w.must("loan", err)
			d := l.BankDebit
			if d == nil || d.Status != escrow.DebitRequested {
				t.Fatalf("the due date's debit: %+v", d)
			}
			runNotifier(t, notes)
			noticeLinksTo(t, admin, "Record the bank's answer to Pay Later debit "+notify.ShortRef(d.ID), "debits",
				"Operations: debits waiting for the bank", "debit-"+d.ID)

			w.outage(escrow.Options{Credit: escrow.CreditOptions{Bank: downBank{}}}, func(s *escrow.Service) (int, error) {
				return s.RunBankDebits(w.ctx, "down-bank-worker")
			})
			runNotifier(t, notes)
			noticeLinksTo(t, admin, "Pay Later debit "+notify.ShortRef(d.ID)+" needs an operator", "debit-attention",
				"Operations: debits needing attention", "debit-"+d.ID)
			shows(t, "the admin's inbox", admin.get("/notifications"), "most to their queue on the Operations page.",
				"POST /v1/payouts/"+p.ID+"/result",
				"POST /v1/payouts/flags/"+sup+"/clear", "POST /v1/credit/bank-debits/"+d.ID+"/retry")
		})
	})
	// The buyer has one application at a time: the lender's outage gets a world of its own.
	t.Run("lender", func(t *testing.T) {
		onBothDatabases(t, func(t *testing.T, w *world) {
			notes := withNotifier(w, manual)
			_, err := w.svc.ApplyForCredit(w.ctx, w.actors["buyer"], w.key(), creditApplication(w))
			w.must("apply", err)
			w.outage(escrow.Options{Credit: escrow.CreditOptions{Lender: downLender{credit.NewBuiltIn()}}},
				func(s *escrow.Service) (int, error) { return s.RunLenderRequests(w.ctx, "down-lender-worker") })
			rs, err := w.svc.LenderRequests(w.ctx, w.admin, escrow.LenderFilter{Status: escrow.LenderAttention})
			w.must("lender requests", err)
			if len(rs) != 1 {
				t.Fatalf("%d requests in attention, want 1", len(rs))
			}
			runNotifier(t, notes)
			admin := w.login("admin")
			noticeLinksTo(t, admin, "Pay Later lender request "+notify.ShortRef(rs[0].ID)+" needs an operator", "lender-requests",
				"Operations: lender requests needing attention", "lender-"+rs[0].ID)
			shows(t, "the admin's inbox", admin.get("/notifications"), "POST /v1/credit/lender-requests/"+rs[0].ID+"/retry")
		})
	})
}
