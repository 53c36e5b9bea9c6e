package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/internal/pgtest"
)

// creditItem is what the Pay Later paging test compares of an item: its key. A statement has
// no ID: its month and line name it.
type creditItem struct {
	ID     string `json:"id"`
	Period string `json:"period"`
	LineID string `json:"line_id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

func (c creditItem) key() string {
	if c.ID != "" {
		return c.ID
	}
	return c.Period + "/" + c.LineID
}

// creditPages reads every page of path as who by limit, following next_cursor, and returns the
// items and the number of pages. It fails on a page longer than limit, a cursor that does not
// move, or a page without items that still has a next one.
func (w *world) creditPages(who, path string, limit int) (items []creditItem, pages int) {
	w.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for {
		q := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			q += "&after=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items      []creditItem `json:"items"`
			NextCursor string       `json:"next_cursor"`
		}
		w.ok(w.call(who, "GET", q, nil, &page), 200)
		pages++
		if len(page.Items) > limit || (len(page.Items) == 0 && page.NextCursor != "") {
			w.t.Fatalf("%s: a page of %d items, limit %d, next %q", q, len(page.Items), limit, page.NextCursor)
		}
		items = append(items, page.Items...)
		if page.NextCursor == "" {
			return items, pages
		}
		if page.NextCursor == cursor || pages > 100 {
			w.t.Fatalf("%s: the cursor does not move (%s)", q, page.NextCursor)
		}
		cursor = page.NextCursor
	}
}

// checkCreditPaged ensures paging path by limit yields exactly the want items of one page of
// api.PageSizeMax, in the same order, in more than one page, no item twice; it returns their
// keys in order.
func (w *world) checkCreditPaged(who, path string, limit, want int) []string {
	w.t.Helper()
	keys := func(items []creditItem) []string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = it.key()
		}
		return out
	}
	all, pages := w.creditPages(who, path, api.PageSizeMax)
	if pages != 1 || len(all) != want {
		w.t.Fatalf("%s: %d items in %d pages of %d, want %d in one", path, len(all), pages, api.PageSizeMax, want)
	}
	paged, pages := w.creditPages(who, path, limit)
	if !slices.Equal(keys(paged), keys(all)) {
		w.t.Fatalf("%s: paged by %d: %v, want %v", path, limit, keys(paged), keys(all))
	}
	if pages < 2 {
		w.t.Fatalf("%s: %d items in %d page of %d", path, len(paged), pages, limit)
	}
	seen := map[string]bool{}
	for _, k := range keys(paged) {
		if seen[k] {
			w.t.Fatalf("%s: %s twice: %v", path, k, keys(paged))
		}
		seen[k] = true
	}
	return keys(all)
}

// TestCreditListsPaginate ensures every Pay Later list is cursor-paginated with at most
// api.PageSizeMax items a page, on both databases: a buyer's applications (newest first), the
// loans of its line (by ID) and its closed statements (newest month first), which an admin reads
// by naming the buyer; and the admin's bank debit and lender outboxes (newest first), filtered
// too. Walking small pages gives what one large page gives, in the same order; a cursor that is
// not one is refused. R11
func TestCreditListsPaginate(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ta.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			w := buildWorld(t, url(t), api.Options{Version: "test"}, defaultOrgs, 20_000_000).world
			buyer := w.ids["buyer"]

			// Two applications declined (too little revenue), a minute apart, then one approved.
			var apps []string
			for _, revenue := range []int64{10_000_00, 20_000_00, 500_000_00} {
				var applied struct{ Application struct{ ID string } }
				w.ok(w.call("buyer", "POST", "/v1/credit/applications", creditApplication("US", revenue), &applied), 202)
				w.lenderWorker()
				apps = append(apps, applied.Application.ID)
				w.tick(time.Minute)
			}
			slices.Reverse(apps)
			if got := w.checkCreditPaged("buyer", "/v1/credit/applications", 2, 3); !slices.Equal(got, apps) {
				t.Fatalf("applications %v, want newest first %v", got, apps)
			}
			w.checkCreditPaged("admin", "/v1/credit/applications?buyer_id="+buyer, 1, 3)
			if got, _ := w.creditPages("buyer2", "/v1/credit/applications", 2); len(got) != 0 {
				t.Fatalf("buyer2 sees applications %v", got)
			}

			// Three loans, accepted and paid by the lender two business days later.
			var loans []string
			for range 3 {
				o := w.confirmed()
				w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "pay_later"})
				var l loanView
				w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/pay-later/offers", map[string]any{"term_months": 3}, &l), 201)
				w.ok(w.call("buyer", "POST", "/v1/loans/"+l.ID+"/accept", map[string]any{}, &l), 200)
				loans = append(loans, l.ID)
			}
			w.tick(48 * time.Hour)
			w.lenderWorker()
			slices.Sort(loans)
			if got := w.checkCreditPaged("buyer", "/v1/credit/loans", 2, 3); !slices.Equal(got, loans) {
				t.Fatalf("loans %v, want by ID %v", got, loans)
			}
			w.checkCreditPaged("admin", "/v1/credit/loans?buyer_id="+buyer, 2, 3)

			// The lender outbox: three decisions and three disbursements, all recorded.
			w.checkCreditPaged("admin", "/v1/credit/lender-requests", 4, 6)
			w.checkCreditPaged("admin", "/v1/credit/lender-requests?kind=disbursement&status=recorded", 2, 3)
			decisions, _ := w.creditPages("admin", "/v1/credit/lender-requests?kind=decision", 1)
			for _, r := range decisions {
				if r.Kind != "decision" {
					t.Fatalf("kind=decision lists %+v", r)
				}
			}
			if got, _ := w.creditPages("admin", "/v1/credit/lender-requests?status=attention", 2); len(got) != 0 {
				t.Fatalf("requests in attention %v", got)
			}

			// The bank debit outbox: each loan paid off early, then the bank answers.
			for _, id := range loans {
				w.ok(w.call("buyer", "POST", "/v1/loans/"+id+"/pay-off", map[string]any{}, nil), 202)
			}
			w.checkCreditPaged("admin", "/v1/credit/bank-debits?status=requested", 2, 3)
			w.bankWorker()
			w.checkCreditPaged("admin", "/v1/credit/bank-debits", 2, 3)
			w.checkCreditPaged("admin", "/v1/credit/bank-debits?status=succeeded", 1, 3)
			if got, _ := w.creditPages("admin", "/v1/credit/bank-debits?loan_id="+loans[1], 1); len(got) != 1 {
				t.Fatalf("debits of loan %s: %v", loans[1], got)
			}

			// Statements: March, April and May close on the first of the next month.
			for _, month := range []time.Month{time.April, time.May, time.June} {
				w.clock.Set(time.Date(2026, month, 1, 0, 0, 0, 0, time.UTC))
				w.tick(0)
			}
			got := w.checkCreditPaged("buyer", "/v1/credit/statements", 2, 3)
			for i, p := range []string{"2026-05/", "2026-04/", "2026-03/"} {
				if !strings.HasPrefix(got[i], p) {
					t.Fatalf("statements %v, want May, April, March", got)
				}
			}
			w.checkCreditPaged("admin", "/v1/credit/statements?buyer_id="+buyer, 1, 3)

			// A cursor that is not a statement's key, and a page over the maximum, are refused.
			r := w.call("buyer", "GET", "/v1/credit/statements?after=May", nil, nil)
			if r.status != 422 || r.problem.Reason != "invalid_cursor" || !strings.Contains(string(r.body), "query.after") {
				t.Fatalf("a bad cursor: %d %s", r.status, r.body)
			}
			for _, path := range []string{"/v1/credit/applications", "/v1/credit/loans", "/v1/credit/statements",
				"/v1/credit/bank-debits", "/v1/credit/lender-requests"} {
				r := w.call("admin", "GET", fmt.Sprintf("%s?limit=%d", path, api.PageSizeMax+1), nil, nil)
				if r.status != 422 || !strings.Contains(string(r.body), "query.limit") {
					t.Fatalf("%s: limit over the maximum: %d %s", path, r.status, r.body)
				}
			}
			var raw map[string]json.RawMessage
			w.ok(w.call("buyer", "GET", "/v1/credit/loans?limit=1", nil, &raw), 200)
			if _, ok := raw["next_cursor"]; !ok {
				t.Fatalf("a full page without next_cursor: %v", raw)
			}
		})
	}
}
