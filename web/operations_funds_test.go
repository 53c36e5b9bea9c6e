package web_test

import (
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// awaitingLoanAt has the world's buyer finance a new order's initial payment with Pay Later,
// the agreement made at `at`: the lender is asked for it when its disbursement timer fires.
func (w *world) awaitingLoanAt(at time.Time) escrow.LoanRecord {
	w.t.Helper()
	w.clock.Set(at)
	b := w.actors["buyer"]
	o := w.orderOf(b, 3000)
	_, err := w.svc.Do(w.ctx, b, w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.PayLater})
	w.must("pay later", err)
	l, err := w.svc.OfferLoan(w.ctx, b, w.key(), o.ID, 3)
	w.must("offer", err)
	l, err = w.svc.AcceptLoan(w.ctx, b, w.key(), l.ID)
	w.must("accept", err)
	return l
}

// askLender runs the timers and the lender worker until nothing is due: disbursements are
// requested and accepted, and nobody pays them.
func (w *world) askLender() {
	w.t.Helper()
	for range 10 {
		w.timers()
		n, err := w.svc.RunLenderRequests(w.ctx, "test-lender-worker")
		w.must("lender worker", err)
		if n == 0 {
			w.timers() // the funds-overdue timers now due
			return
		}
	}
	w.t.Fatal("the lender worker does not settle")
}

// fundsItemRE finds the disbursements awaiting the lender's money the operations page lists, in
// order.
var fundsItemRE = regexp.MustCompile(`<article class="action queue-item" id="funds-([^"]+)"`)

// fundsSection is the operations page's section of disbursements awaiting the lender's money.
func fundsSection(t *testing.T, body string) string {
	t.Helper()
	start := strings.Index(body, `<section id="lender-funds"`)
	if start < 0 {
		t.Fatal("no section of disbursements awaiting the lender's money")
	}
	end := strings.Index(body[start:], "</section>")
	return body[start : start+end]
}

// TestOperationsLenderFunds ensures the operations page lists the disbursements the lender
// accepted to pay whose money has not arrived, the overdue ones first and marked with how late
// they are, then by when the money is due, a page at a time: each with the buyer, the loan and
// its order, the amount, the reference the lender's money must quote, the reference the lender
// sees, when the loan was agreed and the lender asked, and when the money is due. No form: the
// domain acts on the money only when it is reported. Money that arrives takes its disbursement
// off the list. R11
func TestOperationsLenderFunds(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		t.Cleanup(setOpsPageSizes(2))
		w.approve(500_000_00)
		// Agreed on Monday, Tuesday and Wednesday March 2–4, 2026 at 10:00 in New York: the money
		// is due by the end of Thursday 5, Friday 6 and Monday 9 (a weekend in between).
		a := w.awaitingLoanAt(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
		b := w.awaitingLoanAt(time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC))
		c := w.awaitingLoanAt(time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC))
		// Saturday March 7, 01:00 in New York: a's money is a day late, b's an hour, c's not due yet.
		w.clock.Set(time.Date(2026, 3, 7, 6, 0, 0, 0, time.UTC))
		w.askLender()
		reqs := map[string]escrow.LenderRequest{}
		for _, l := range []escrow.LoanRecord{a, b, c} {
			got, err := w.svc.Loan(w.ctx, w.admin, l.ID)
			w.must("loan", err)
			if got.Disbursement == nil || got.Disbursement.Status != escrow.LenderAwaitingFunds {
				t.Fatalf("loan %s: disbursement %+v", l.ID, got.Disbursement)
			}
			reqs[l.ID] = *got.Disbursement
		}
		if reqs[a.ID].OverdueAt == nil || reqs[b.ID].OverdueAt == nil || reqs[c.ID].OverdueAt != nil {
			t.Fatalf("overdue: a %v, b %v, c %v", reqs[a.ID].OverdueAt, reqs[b.ID].OverdueAt, reqs[c.ID].OverdueAt)
		}

		admin := w.login("admin")
		page := admin.get(opsPath)
		if page.status != http.StatusOK {
			t.Fatalf("GET %s: %d", opsPath, page.status)
		}
		for _, s := range []string{"Pay Later disbursements awaiting the lender's money</a> (2 or more)",
			"The lender's money.</strong> The lender's acceptance to pay is not money"} {
			if !strings.Contains(html.UnescapeString(page.body), s) {
				t.Errorf("the first page lacks %q", s)
			}
		}
		sec := fundsSection(t, page.body)
		var ids []string
		for _, m := range fundsItemRE.FindAllStringSubmatch(sec, -1) {
			ids = append(ids, m[1])
		}
		if want := []string{reqs[a.ID].ID, reqs[b.ID].ID}; !slices.Equal(ids, want) {
			t.Fatalf("the first page lists %v, want a then b %v", ids, want)
		}
		unescaped := html.UnescapeString(sec)
		for _, s := range []string{
			"Overdue, 25 hours late: the lender's money was due by the end of Thu 5 Mar 2026 in New York. Chase the lender.",
			"Overdue, 1 hour late: the lender's money was due by the end of Fri 6 Mar 2026 in New York. Chase the lender.",
			"Maple Kids Apparel Inc.", `href="/credit?buyer=` + w.actors["buyer"].OrgID + `"`,
			`href="/credit/loans/` + a.ID + `"`, `href="/orders/` + a.OrderID + `"`,
			reqs[a.ID].PaymentReference, reqs[a.ID].ID, reqs[a.ID].Amount.Display() + " for",
			"Agreed</dt><dd><time datetime=\"2026-03-02T15:00:00Z\">2 Mar 2026 15:00 UTC</time> (4 days ago)",
			"Lender asked</dt><dd><time datetime=\"" + reqs[a.ID].RequestedAt.UTC().Format(time.RFC3339) + "\">",
			"Money due by</dt><dd><time datetime=\"2026-03-06T05:00:00Z\">6 Mar 2026 05:00 UTC</time> (25 hours late)",
		} {
			if !strings.Contains(unescaped, s) {
				t.Errorf("the section lacks %q", s)
			}
		}
		if strings.Contains(sec, "<form") {
			t.Error("the section offers a form: no command acts on the lender's money")
		}

		next := pageLink(page.body, "Next page of disbursements")
		if !strings.HasSuffix(next, "#funds-h") || !strings.Contains(next, "funds_after="+reqs[b.ID].ID) {
			t.Fatalf("the next page's link %q", next)
		}
		second := admin.get(next)
		sec = fundsSection(t, second.body)
		if m := fundsItemRE.FindAllStringSubmatch(sec, -1); len(m) != 1 || m[0][1] != reqs[c.ID].ID {
			t.Fatalf("the second page lists %v, want c", m)
		}
		if strings.Contains(sec, "Overdue,") || !strings.Contains(html.UnescapeString(sec), "(due in 2 days)") {
			t.Errorf("c is not due yet: %s", sec)
		}
		if pageLink(second.body, "First page of disbursements") == "" || pageLink(second.body, "Next page of disbursements") != "" {
			t.Error("the last page of disbursements links the wrong pages")
		}

		// a's money arrives: it leaves the list, b and c remain.
		_, err := w.svc.ReceiveFunds(w.ctx, "LND-A", escrow.Incoming{Method: payment.PayLater, Amount: reqs[a.ID].Amount,
			Reference: reqs[a.ID].PaymentReference, Payer: "Builtin Lending Co"})
		w.must("the lender's money", err)
		sec = fundsSection(t, admin.get(opsPath).body)
		ids = nil
		for _, m := range fundsItemRE.FindAllStringSubmatch(sec, -1) {
			ids = append(ids, m[1])
		}
		if want := []string{reqs[b.ID].ID, reqs[c.ID].ID}; !slices.Equal(ids, want) {
			t.Fatalf("after a's money the page lists %v, want %v", ids, want)
		}
		for _, role := range []string{"buyer", "supplier", "arbiter"} {
			if res := w.login(role).get(opsPath); res.status != http.StatusForbidden {
				t.Errorf("%s: GET %s %d, want 403", role, opsPath, res.status)
			}
		}
	})
}

// debitItemRE finds the debits a section of the operations page lists, in order.
var debitItemRE = regexp.MustCompile(`<article class="action queue-item" id="debit-([^"]+)"`)

// sectionOf is the operations page's section id, up to its end.
func sectionOf(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `<section id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no section %s", id)
	}
	end := strings.Index(body[start:], "</section>")
	return body[start : start+end]
}

// TestOperationsDebitsOldestFirst ensures the operations page lists the Pay Later debits waiting
// for the bank's answer, and those needing attention after a bank outage, oldest first — the one
// waiting longest on top, though the API lists them newest first — each exactly once across
// their pages. R11
func TestOperationsDebitsOldestFirst(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		t.Cleanup(setOpsPageSizes(2))
		w.approve(500_000_00)
		var want []string
		for range 3 {
			l := w.lenderPaidLoan()
			w.clock.Advance(time.Hour)
			l, err := w.svc.PayOffLoan(w.ctx, w.actors["buyer"], w.key(), l.ID)
			w.must("pay off", err)
			want = append(want, l.BankDebit.ID)
		}
		api, err := w.svc.BankDebits(w.ctx, w.admin, escrow.DebitFilter{Status: escrow.DebitRequested})
		w.must("bank debits", err)
		if len(api) != 3 || api[0].ID != want[2] {
			t.Fatalf("the API's list %+v, want newest first", api)
		}
		admin := w.login("admin")
		walk := func(section, of string) []string {
			t.Helper()
			var seen []string
			path := opsPath
			for range 5 {
				res := admin.get(path)
				for _, m := range debitItemRE.FindAllStringSubmatch(sectionOf(t, res.body, section), -1) {
					seen = append(seen, m[1])
				}
				if path = pageLink(res.body, "Next page of "+of); path == "" {
					break
				}
			}
			return seen
		}
		if got := walk("debits", "debits waiting"); !slices.Equal(got, want) {
			t.Fatalf("debits waiting: %v, want oldest first %v", got, want)
		}
		w.outage(escrow.Options{Credit: escrow.CreditOptions{Bank: downBank{}}}, func(s *escrow.Service) (int, error) {
			return s.RunBankDebits(w.ctx, "down-bank-worker")
		})
		if got := walk("debit-attention", "debits needing attention"); !slices.Equal(got, want) {
			t.Fatalf("debits needing attention: %v, want oldest first %v", got, want)
		}
	})
}

// TestBrowserOperationsLenderFunds ensures the operations page with a disbursement overdue and
// one not yet due — long references and all — passes the page check at 390 px and 1280 px, the
// overdue one marked. R11 R24
func TestBrowserOperationsLenderFunds(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	w.approve(500_000_00)
	w.awaitingLoanAt(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	w.awaitingLoanAt(time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC))
	w.clock.Set(time.Date(2026, 3, 7, 6, 0, 0, 0, time.UTC))
	w.askLender()
	admin := w.person(browser(t), "admin")
	admin.login()
	for _, size := range []viewport{phone, laptop} {
		admin.resize(size)
		admin.open(opsPath + "#lender-funds")
		admin.has("the disbursements awaiting the lender's money", "Pay Later disbursements awaiting the lender's money",
			"Overdue, 25 hours late", "(due in 2 days)")
	}
}
