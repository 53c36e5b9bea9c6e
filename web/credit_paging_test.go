package web_test

import (
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

// What the credit page lists, found in its HTML.
var (
	loanRE      = regexp.MustCompile(`<article class="loan" id="loan-([^"]+)"`)
	cancelledRE = regexp.MustCompile(`for order <a href="/orders/([^"]+)">#[^<]*</a>, cancelled`)
	monthRE     = regexp.MustCompile(`<td data-label="Month">(\d{4}-\d{2})( <small>\(so far\)</small>)?</td>`)
	appRE       = regexp.MustCompile(`<td data-label="Submitted"><a href="/credit/applications/([^"?]+)`)
)

// pageLink returns the href of the page's link named text ("Next page of loans"), unescaped;
// "" when the page has none.
func pageLink(body, text string) string {
	m := regexp.MustCompile(`<a href="([^"]+)"(?: rel="next")?>` + regexp.QuoteMeta(text) + `</a>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// creditListPages follows one list's "Next page of …" links on the credit page from path and
// returns what each page lists of it (found by re, or by several: their matches in order), at
// most ten pages. Every later page links back to the list's first page, path.
func creditListPages(t *testing.T, c *client, path, of string, res ...*regexp.Regexp) (pages [][]string, links []string) {
	t.Helper()
	for len(pages) < 10 {
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, r.status, r.body)
		}
		var items []string
		for _, re := range res {
			for _, m := range re.FindAllStringSubmatch(r.body, -1) {
				items = append(items, strings.Join(m[1:], ""))
			}
		}
		pages, links = append(pages, items), append(links, path)
		if first := pageLink(r.body, "First page of "+of); len(pages) > 1 && first == "" {
			t.Errorf("page %d of %s has no link to the first page", len(pages), of)
		} else if len(pages) == 1 && first != "" {
			t.Errorf("the first page of %s links to the first page", of)
		}
		next := pageLink(r.body, "Next page of "+of)
		if next == "" {
			return pages, links
		}
		path = next
	}
	t.Fatalf("more than ten pages of %s", of)
	return nil, nil
}

// TestCreditPagePaging ensures a buyer with more loans, statements and applications than a page
// of each reaches every one from the credit page (R11): loans in the order they were taken out
// (cancelled agreements among them, offers not accepted left to their orders), this month's
// statement then the closed months newest first, and the applications newest first, each list
// paged by its own "Next page of …" link that keeps the other lists where they are and lands on
// the list's heading, with a link back to its first page. An admin pages a buyer's lists the
// same way; a cursor that is not one starts its list from the first page. The application
// page is found by its ID, however many the buyer has.
func TestCreditPagePaging(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		t.Cleanup(web.SetCreditPageSizes(2, 2, 2))
		b := w.actors["buyer"]
		var apps []string                                       // newest first
		for _, revenue := range []int64{10_000_00, 20_000_00} { // too little revenue: declined
			rev := money.New(revenue, credit.USD)
			app := credit.Application{Channel: credit.InAdvance,
				Business: credit.Business{LegalName: "Maple Kids Apparel Inc.", EINLast4: "6789", Country: "US", State: "NY",
					Established: w.clock.Now().AddDate(-3, 0, 0), Revenue: &rev},
				Owner:    credit.Owner{Name: "Pat Owner", BirthYear: 1980, SSNLast4: "1234"},
				Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
				Consent:  credit.Consent{Given: true, At: w.clock.Now(), TextVersion: "test"}}
			res, err := w.svc.ApplyForCredit(w.ctx, b, w.key(), app)
			w.must("apply", err)
			w.lenderWorker()
			apps = append([]string{res.Application.ID}, apps...)
			w.clock.Set(w.clock.Now().Add(time.Minute))
		}
		w.approve(500_000_00)
		all, _, err := w.svc.CreditApplicationsPage(w.ctx, b, "", "", 10)
		w.must("applications", err)
		if len(all) != 3 || all[1].ID != apps[0] || all[2].ID != apps[1] {
			t.Fatalf("applications %d", len(all))
		}
		apps = append([]string{all[0].ID}, apps...)

		// Five loans by ID: three accepted, one cancelled, one offer not accepted.
		var loans, orders []string
		for i := range 5 {
			o := w.orderOf(b, 3000)
			_, err := w.svc.Do(w.ctx, b, w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.PayLater})
			w.must("pay", err)
			l, err := w.svc.OfferLoan(w.ctx, b, w.key(), o.ID, 3)
			w.must("offer", err)
			switch i {
			case 3:
				_, err = w.svc.CancelLoan(w.ctx, b, w.key(), l.ID)
			case 4:
			default:
				_, err = w.svc.AcceptLoan(w.ctx, b, w.key(), l.ID)
			}
			w.must("accept or cancel", err)
			loans, orders = append(loans, l.ID), append(orders, o.ID)
		}
		if !slices.IsSorted(loans) {
			t.Fatalf("loan IDs out of order: %v", loans)
		}
		// The lender is asked 2 business days after each agreement and pays within the Pay
		// Later payment's 14 days (a payment the lender never paid lapses and cancels its loan).
		w.clock.Set(w.clock.Now().Add(5 * 24 * time.Hour))
		w.timers()
		w.lenderWorker()
		// March, April and May close on the first of the next month, and the bank pays each
		// installment debited.
		for _, month := range []time.Month{time.April, time.May, time.June} {
			w.clock.Set(time.Date(2026, month, 1, 12, 0, 0, 0, time.UTC))
			for range 3 {
				w.timers()
				w.lenderWorker()
				w.bankAnswers(true)
			}
		}

		c := w.login("buyer")
		got, links := creditListPages(t, c, "/credit", "loans", loanRE, cancelledRE)
		want := [][]string{{loans[0], loans[1]}, {loans[2], orders[3]}, nil}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("pages of loans %v, want %v (loans %v)", got, want, loans)
		}
		shows(t, "a page of loans", c.get(links[1]), "Loans (continued)", "Cancelled agreements on this page (1)")
		shows(t, "a page of an offer only", c.get(links[2]), "No running or repaid loans on this page.")
		if !strings.HasSuffix(links[1], "#loans-h") {
			t.Errorf("the next page of loans does not land on the loans: %s", links[1])
		}

		got, links = creditListPages(t, c, "/credit", "statements", monthRE)
		want = [][]string{{"2026-06 <small>(so far)</small>", "2026-05", "2026-04"}, {"2026-03"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("pages of statements %v, want %v", got, want)
		}
		shows(t, "a later page of statements", c.get(links[1]), "Statements (continued)", "/credit/statements/2026-03.pdf")

		got, _ = creditListPages(t, c, "/credit", "applications", appRE)
		if want := [][]string{apps[:2], apps[2:]}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("pages of applications %v, want %v", got, want)
		}

		// Each list keeps the others where they are: the second page of loans, then the second
		// page of statements from there.
		page := c.get("/credit").body
		second := pageLink(c.get(pageLink(page, "Next page of loans")).body, "Next page of statements")
		if !strings.Contains(second, "loans_after="+loans[1]) || !strings.Contains(second, "statements_after=") {
			t.Errorf("the next page of statements from the second page of loans: %s", second)
		}
		both := c.get(second).body
		if l := loanRE.FindAllStringSubmatch(both, -1); len(l) != 1 || l[0][1] != loans[2] {
			t.Errorf("the page of both lists shows loans %v", l)
		}
		if m := monthRE.FindAllStringSubmatch(both, -1); len(m) != 1 || m[0][1] != "2026-03" {
			t.Errorf("the page of both lists shows statements %v", m)
		}
		if first := pageLink(both, "First page of statements"); strings.Contains(first, "statements_after") || !strings.Contains(first, "loans_after="+loans[1]) {
			t.Errorf("the first page of statements from there: %s", first)
		}

		// A cursor that is not one starts its list from the first page.
		bad := c.get("/credit?loans_after=%27%3B--&statements_after=May&applications_after=" + strings.Repeat("x", 70))
		if l := loanRE.FindAllStringSubmatch(bad.body, -1); bad.status != http.StatusOK || len(l) != 2 || l[0][1] != loans[0] {
			t.Errorf("malformed cursors: %d, loans %v", bad.status, l)
		}
		shows(t, "malformed cursors", bad, "2026-06 <small>(so far)</small>")

		// The admin pages the buyer's lists, each link naming the buyer.
		admin := w.login("admin")
		buyerPage := "/credit?buyer=" + b.OrgID
		got, links = creditListPages(t, admin, buyerPage, "loans", loanRE, cancelledRE)
		if want := [][]string{{loans[0], loans[1]}, {loans[2], orders[3]}, nil}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("admin: pages of loans %v", got)
		}
		if !strings.Contains(links[1], "buyer="+b.OrgID) {
			t.Errorf("admin: the next page of loans forgets the buyer: %s", links[1])
		}
		hides(t, "admin: read-only", admin.get(links[1]), "Pay off")
		got, _ = creditListPages(t, admin, buyerPage, "applications", appRE)
		if want := [][]string{apps[:2], apps[2:]}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("admin: pages of applications %v", got)
		}

		// An application's page, by its ID: the buyer's and the admin's (with or without the
		// buyer named); another buyer's is not found.
		oldest := "/credit/applications/" + apps[2]
		shows(t, "the oldest application", c.get(oldest), "Pay Later application: Declined")
		shows(t, "admin: the oldest application", admin.get(oldest), "Pay Later application: Declined")
		shows(t, "admin: with the buyer", admin.get(oldest+"?buyer="+b.OrgID), "Pay Later application: Declined")
		if r := w.germanBuyer().get(oldest); r.status != http.StatusNotFound {
			t.Errorf("another buyer's application: %d", r.status)
		}
		if r := admin.get(oldest + "?buyer=" + w.actors["supplier"].OrgID); r.status != http.StatusNotFound {
			t.Errorf("admin: the application under another buyer: %d", r.status)
		}
	})
}
