package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

// withNotifications serves w's portal again with the inbox, as serve mounts it, and returns the
// notifier a server process runs beside it.
func withNotifications(w *world) *notify.Service { return withNotifier(w, notify.Options{}) }

// withNotifier is withNotifications with a notifier of the options opts (on w's clock).
func withNotifier(w *world, opts notify.Options) *notify.Service {
	opts.Clock = w.clock
	notes := notify.New(w.db.Notifications(), opts)
	mux := http.NewServeMux()
	api.RegisterNotifications(api.New(mux, w.svc, w.acc, api.Options{Version: "test"}), notes, nil)
	sessions := web.NewSessions(w.db.Sessions(), web.SessionConfig{})
	mux.Handle("/", web.New(w.svc, w.acc, sessions, web.Options{LookupUser: w.db.Access().User, Notifications: notes}))
	w.srv.Close()
	w.srv = httptest.NewServer(mux)
	w.t.Cleanup(w.srv.Close)
	return notes
}

func runNotifier(t *testing.T, notes *notify.Service) {
	t.Helper()
	for range 20 {
		n, err := notes.RunOnce(context.Background(), "portal-test")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// TestNotificationsPage lists a person's notifications unread first with a link to the order,
// counts them in the menu, marks one and then all read, and keeps another organization's person
// from reading or marking them (404).
func TestNotificationsPage(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{"sqlite": sqliteURL, "postgres": postgresURL} {
		t.Run(name, func(t *testing.T) { testNotificationsPage(t, newWorld(t, url(t))) })
	}
}

func testNotificationsPage(t *testing.T, w *world) {
	notes := withNotifications(w)
	o := w.order(trade.ContractProposed)
	runNotifier(t, notes)
	buyer := w.login("buyer")
	page := buyer.get("/")
	if !strings.Contains(page.body, `>Notifications (1)</a>`) {
		t.Fatalf("menu without the unread count:\n%s", page.body)
	}
	inbox := buyer.get("/notifications")
	title := "Confirm the contract of order " + notify.ShortRef(o.ID)
	if inbox.status != 200 || !strings.Contains(inbox.body, title) || !strings.Contains(inbox.body, `href="/orders/`+o.ID+`"`) {
		t.Fatalf("inbox: %d\n%s", inbox.status, inbox.body)
	}
	ns, err := notes.List(w.ctx, notify.UserScope(w.actors["buyer"].UserID), "", notify.AnyState, 0, 10)
	if err != nil || len(ns) != 1 {
		t.Fatalf("buyer's notifications: %v %v", ns, err)
	}
	id := ns[0].ID
	markPath := fmt.Sprintf("/notifications/%d/read", id)
	if !strings.Contains(inbox.body, `action="`+markPath+`"`) {
		t.Fatalf("no mark-read form for %d", id)
	}

	// The supplier has nothing to act on yet, and cannot read or mark the buyer's.
	sup := w.login("supplier")
	if p := sup.get("/notifications"); !strings.Contains(p.body, "Nothing new.") || strings.Contains(p.body, title) {
		t.Fatalf("supplier's inbox:\n%s", p.body)
	}
	if r := sup.post(markPath, url.Values{}); r.status != http.StatusNotFound {
		t.Fatalf("supplier marking the buyer's: %d", r.status)
	}
	if r := sup.post("/notifications/abc/read", url.Values{}); r.status != http.StatusNotFound {
		t.Fatalf("a malformed ID: %d", r.status)
	}
	if n, _ := notes.Unread(w.ctx, w.actors["buyer"].UserID); n != 1 {
		t.Fatalf("buyer's unread after the supplier's attempt: %d", n)
	}

	// Mark it read: it moves to Earlier and the count drops.
	if r := buyer.post(markPath, url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("mark read: %d %s", r.status, r.body)
	}
	inbox = buyer.get("/notifications")
	unread, earlier, _ := strings.Cut(inbox.body, `id="earlier-h"`)
	if strings.Contains(unread, title) || !strings.Contains(earlier, title) || !strings.Contains(inbox.body, ">Notifications (0)</a>") {
		t.Fatalf("after marking read:\n%s", inbox.body)
	}

	// Confirming asks for the initial payment; "mark all read" marks what the page showed, not
	// what arrived after it.
	if _, err := w.svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.ConfirmContract{Hash: orderOf(t, w, o.ID).Proposal.Hash}); err != nil {
		t.Fatal(err)
	}
	runNotifier(t, notes)
	inbox = buyer.get("/notifications")
	upTo := between(inbox.body, `name="up_to" value="`, `"`)
	if upTo == "" || !strings.Contains(inbox.body, "Send the initial payment for order "+notify.ShortRef(o.ID)) {
		t.Fatalf("inbox after confirmation:\n%s", inbox.body)
	}
	if r := buyer.post("/notifications/read-all", url.Values{"up_to": {"not a number"}}); r.status != http.StatusSeeOther {
		t.Fatalf("bad up_to: %d", r.status)
	}
	if n, _ := notes.Unread(w.ctx, w.actors["buyer"].UserID); n != 1 {
		t.Fatalf("a bad up_to marked something: %d unread", n)
	}
	if r := buyer.post("/notifications/read-all", url.Values{"up_to": {"0"}}); r.status != http.StatusSeeOther {
		t.Fatalf("read-all: %d", r.status)
	}
	if n, _ := notes.Unread(w.ctx, w.actors["buyer"].UserID); n != 1 {
		t.Fatalf("up_to=0 marked a newer notification: %d unread", n)
	}
	if r := buyer.post("/notifications/read-all", url.Values{"up_to": {upTo}}); r.status != http.StatusSeeOther {
		t.Fatalf("read-all: %d", r.status)
	}
	if p := buyer.get("/notifications"); !strings.Contains(p.body, "Nothing new.") || !strings.Contains(p.body, "Marked 1 notification as read.") {
		t.Fatalf("after read-all:\n%s", p.body)
	}
}

func orderOf(t *testing.T, w *world, id string) *trade.Order {
	t.Helper()
	o, err := w.svc.Order(w.ctx, w.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestBrowserNotifications opens the notifications page in Chromium at phone and laptop width
// (R24): it fits without sideways scrolling, the menu shows the unread count, a notification is
// marked read with the keyboard alone, and its link opens the order.
func TestBrowserNotifications(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { browserNotifications(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { browserNotifications(t, newWorld(t, postgresURL(t))) })
}

func browserNotifications(t *testing.T, w *world) {
	notes := withNotifications(w)
	o := w.order(trade.Confirmed) // the buyer is asked for the initial payment
	runNotifier(t, notes)
	w.order(trade.ContractProposed) // and to confirm another order's contract
	runNotifier(t, notes)
	buyer := w.person(browser(t), "buyer")
	buyer.login()
	buyer.has("menu", "Notifications (2)")
	for _, size := range []struct{ w, h int64 }{{390, 844}, {1280, 800}} {
		var opts []chromedp.EmulateViewportOption
		if size.w < 500 {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		buyer.do("viewport", chromedp.EmulateViewport(size.w, size.h, opts...))
		buyer.open("/notifications")
		if !run(buyer, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
			t.Errorf("notifications at %d px scroll sideways", size.w)
		}
	}
	buyer.has("inbox", "Unread (2)", "Send the initial payment for order "+notify.ShortRef(o.ID))
	// Keyboard only: focus the first "Mark as read" button and press Enter.
	buyer.do("mark read by keyboard",
		chromedp.Focus(chromedp.CSS(`form[action^="/notifications/"][action$="/read"] button`)),
		chromedp.KeyEvent("\r"),
		waitText("Marked as read."),
	)
	buyer.has("after marking", "Unread (1)", "Notifications (1)")
	buyer.do("open the order", chromedp.Click(chromedp.CSS(`a[href="/orders/`+o.ID+`"]`)), waitText("#"+notify.ShortRef(o.ID)))
}

// noticeRowRE finds a notification's row: its title and its Link cell.
var noticeRowRE = regexp.MustCompile(`(?s)<td data-label="What"><strong>([^<]*)</strong>.*?<td data-label="Link">(.*?)</td>`)

// noticeLinks returns each listed notification's title with its Link cell, as the page shows
// them (entities decoded).
func noticeLinks(body string) map[string]string {
	out := map[string]string{}
	for _, m := range noticeRowRE.FindAllStringSubmatch(body, -1) {
		out[html.UnescapeString(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// TestNotificationLinks ensures each notification links to its own page, named for what it
// opens (R11, R8): a notice about an order opens "Order #…"; a Pay Later approval the credit
// line, a past-due loan "Pay Later loan #…" (its loan's page, without its order's reference),
// and money held in suspense the admins' suspense list — each page there for the person told.
func TestNotificationLinks(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		notes := withNotifications(w)
		w.approve(500_000_00)
		b := w.actors["buyer"]
		o := w.orderOf(b, 3000)
		runNotifier(t, notes)
		_, err := w.svc.Do(w.ctx, b, w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.PayLater})
		w.must("pay", err)
		l, err := w.svc.OfferLoan(w.ctx, b, w.key(), o.ID, 2)
		w.must("offer", err)
		_, err = w.svc.AcceptLoan(w.ctx, b, w.key(), l.ID)
		w.must("accept", err)
		w.clock.Set(l.Agreement.DisbursementDue.Add(time.Minute))
		w.timers()
		w.lenderWorker()
		w.clock.Set(l.Agreement.Installments[0].DueDate.Add(time.Hour))
		w.timers()
		l, err = w.svc.Loan(w.ctx, w.admin, l.ID)
		w.must("loan", err)
		_, err = w.svc.RecordBankDebitResult(w.ctx, w.admin, w.key(), l.BankDebit.ID, false) // the bank refused it
		w.must("record the bank's refusal", err)
		runNotifier(t, notes)
		// Money that matches no payment is held in suspense (R8).
		_, err = w.svc.ReceiveFunds(w.ctx, "stmt-1", escrow.Incoming{Method: payment.TTWire,
			Amount: money.New(1_000_00, "USD"), Reference: "INVOICE 1234", Payer: "Maple Kids Apparel"})
		w.must("receive", err)
		runNotifier(t, notes)

		buyer := w.login("buyer")
		inbox := buyer.get("/notifications")
		links := noticeLinks(inbox.body)
		orderLink := `<a href="/orders/` + o.ID + `">Order #` + notify.ShortRef(o.ID) + `</a>`
		loanLink := `<a href="/credit/loans/` + l.ID + `">Pay Later loan #` + notify.ShortRef(l.ID) + `</a>`
		for title, want := range map[string]string{
			"Send the initial payment for order " + notify.ShortRef(o.ID): orderLink,
			"Pay Later loan " + notify.ShortRef(l.ID) + " is past due":    loanLink,
			"Pay Later approved: a line of USD 100,000.00":                `<a href="/credit">Your Pay Later credit line</a>`,
		} {
			if links[title] != want {
				t.Errorf("buyer: %q links %q, want %q (links %v)", title, links[title], want, links)
			}
		}
		shows(t, "buyer's inbox", inbox, `<th scope="col">Link</th>`, "and your Pay Later line and loans. Each links to the page where you act.")
		for _, path := range []string{"/orders/" + o.ID, "/credit/loans/" + l.ID, "/credit"} {
			if r := buyer.get(path); r.status != http.StatusOK {
				t.Errorf("buyer: a notification links to %s: %d", path, r.status)
			}
		}

		admin := w.login("admin")
		inbox = admin.get("/notifications")
		shows(t, "admin's inbox", inbox, "money held in suspense to allocate")
		links = noticeLinks(inbox.body)
		const suspense = "Allocate USD 1,000.00 held in suspense"
		if got := links[suspense]; got != `<a href="/admin/suspense">Money held in suspense</a>` {
			t.Errorf("admin: %q links %q (links %v)", suspense, got, links)
		}
		if r := admin.get("/admin/suspense"); r.status != http.StatusOK || !strings.Contains(r.body, "INVOICE 1234") {
			t.Errorf("admin: the suspense list: %d", r.status)
		}
		for title, cell := range links {
			if strings.Contains(cell, `>#`) || strings.Contains(cell, "#<") {
				t.Errorf("admin: %q links a bare reference: %s", title, cell)
			}
		}
	})
}
