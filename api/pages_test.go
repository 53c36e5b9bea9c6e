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

// pageItem is what the pagination tests compare of an item: its key.
type pageItem struct {
	ID  string `json:"id"`
	Seq int64  `json:"seq"`
}

func (p pageItem) key() string {
	if p.ID != "" {
		return p.ID
	}
	return fmt.Sprint(p.Seq)
}

// walk reads every page of path as who with ?limit=limit, following next_cursor, and returns the
// items' keys and the number of pages. It fails on a page longer than limit, a cursor that does
// not move, or more pages than items.
func (w *world) walk(who, path string, limit int) (keys []string, pages int) {
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
			Items      []pageItem      `json:"items"`
			NextCursor json.RawMessage `json:"next_cursor"`
		}
		w.ok(w.call(who, "GET", q, nil, &page), 200)
		pages++
		if len(page.Items) > limit {
			w.t.Fatalf("%s: a page of %d items, limit %d", q, len(page.Items), limit)
		}
		for _, it := range page.Items {
			keys = append(keys, it.key())
		}
		next := strings.Trim(string(page.NextCursor), `"`)
		if next == "" {
			return keys, pages
		}
		if next == cursor || pages > 1000 {
			w.t.Fatalf("%s: the cursor does not move (%s)", q, next)
		}
		cursor = next
	}
}

// checkPaged ensures that paging path by limit yields exactly the items of one page of
// PageSizeMax, in the same order, in more than one page, with no item twice.
func (w *world) checkPaged(who, path string, limit, want int) {
	w.t.Helper()
	all, pages := w.walk(who, path, api.PageSizeMax)
	if pages != 1 || len(all) != want {
		w.t.Fatalf("%s: %d items in %d pages of %d, want %d in one", path, len(all), pages, api.PageSizeMax, want)
	}
	paged, pages := w.walk(who, path, limit)
	if !slices.Equal(paged, all) {
		w.t.Fatalf("%s: paged by %d: %v, want %v", path, limit, paged, all)
	}
	if pages < 2 {
		w.t.Fatalf("%s: %d items in %d page of %d", path, len(paged), pages, limit)
	}
	seen := map[string]bool{}
	for _, k := range paged {
		if seen[k] {
			w.t.Fatalf("%s: %s twice: %v", path, k, paged)
		}
		seen[k] = true
	}
}

// TestListsPaginate ensures every list the API serves is cursor-paginated with at most
// api.PageSizeMax items a page: an order's audit log, its messages, the supplier directory, an
// organization's API keys and webhook endpoints, and money in suspense. Walking the pages gives
// what one large page gives, in the same order.
func TestListsPaginate(t *testing.T) {
	hookDatabases(t, func(t *testing.T, w *hookWorld) {
		o := w.confirmed()
		for i := range 5 {
			w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/messages", map[string]any{"body": fmt.Sprint("message ", i)}, nil), 201)
		}
		// Events: placed, booked, proposed, confirmed and five messages; the inspector reads only
		// what its role may, so its pages may be short.
		var full struct{ Items []pageItem }
		w.ok(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/events?limit=100", nil, &full), 200)
		w.checkPaged("buyer", "/v1/orders/"+o.ID+"/events", 2, len(full.Items))
		w.checkPaged("buyer", "/v1/orders/"+o.ID+"/messages", 2, 5)

		// Suppliers: two more eligible ones and one that is not, which the directory passes over.
		for i, eligible := range []bool{true, false, true} {
			var org struct{ ID string }
			w.ok(w.call("admin", "POST", "/v1/orgs", map[string]any{"kind": "supplier", "name": fmt.Sprint("Supplier ", i), "country": "CN"}, &org), 201)
			w.ok(w.call("admin", "POST", "/v1/orgs/"+org.ID+"/eligibility", map[string]any{"eligible": eligible, "reason": "audit"}, nil), 200)
		}
		w.checkPaged("buyer", "/v1/suppliers", 1, 3)

		for range 3 {
			w.newKey(w.ids["buyer2"], "buyer")
		}
		w.checkPaged("buyer2", "/v1/orgs/"+w.ids["buyer2"]+"/api-keys", 2, 4)
		w.checkPaged("admin", "/v1/orgs/"+w.ids["buyer2"]+"/api-keys", 3, 4)

		for i := range 3 {
			w.ok(w.call("buyer2", "POST", "/v1/webhook-endpoints", map[string]any{"url": fmt.Sprintf("https://hooks.example.com/%d", i)}, nil), 201)
		}
		w.checkPaged("buyer2", "/v1/webhook-endpoints", 2, 3)
		w.checkPaged("admin", "/v1/webhook-endpoints?org_id="+w.ids["buyer2"], 2, 3)

		for i := range 3 {
			id := fmt.Sprint("stray-", i)
			w.ok(w.call("admin", "POST", "/v1/rails/tt_wire/credits", map[string]any{"id": id,
				"amount": map[string]any{"minor": 100 + i, "currency": "USD"}, "reference": "unknown"}, nil, "Idempotency-Key", id), 200)
		}
		w.checkPaged("admin", "/v1/suspense", 2, 3)

		// A limit over PageSizeMax is refused, naming the parameter.
		r := w.call("buyer", "GET", fmt.Sprintf("/v1/orders/%s/messages?limit=%d", o.ID, api.PageSizeMax+1), nil, nil)
		if r.status != 422 || !strings.Contains(string(r.body), "query.limit") {
			t.Fatalf("limit over the maximum: %d %s", r.status, r.body)
		}
	})
}

// TestListOrdersFilters ensures list_orders takes the filters escrow.OrderFilter supports and a
// placed-at range, that paging with a filter walks exactly the matching orders, and that a
// party's filter never widens what it sees.
func TestListOrdersFilters(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ta.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			w := newMatrixWorld(t, url(t)).world
			place := func(buyer, supplier string) string {
				var o order
				w.ok(w.call(buyer, "POST", "/v1/orders", map[string]any{"supplier_id": w.ids[supplier], "currency": "USD",
					"ship_by": w.contract()["ship_by"], "compliance_confirmed": true}, &o), 201)
				return o.ID
			}
			var early, late, other []string
			for range 3 {
				early = append(early, place("buyer", "supplier"))
				other = append(other, place("buyer", "supplier2"))
			}
			w.clock.Advance(48 * time.Hour)
			cut := w.clock.Now().Add(-time.Hour).Format(time.RFC3339)
			for range 2 {
				late = append(late, place("buyer", "supplier"))
				other = append(other, place("buyer2", "supplier"))
			}
			w.do("buyer", early[0], "book-inspection", map[string]any{"inspector_id": w.ids["inspector"]})
			mine := append(slices.Clone(early), late...)

			sup := w.ids["supplier"]
			if got, pages := w.walk("admin", "/v1/orders?buyer_id="+w.ids["buyer"]+"&supplier_id="+sup, 2); !slices.Equal(got, mine) || pages != 3 {
				t.Fatalf("admin, buyer and supplier filter, by 2: %v in %d pages, want %v", got, pages, mine)
			}
			if got, _ := w.walk("buyer", "/v1/orders?supplier_id="+sup, 2); !slices.Equal(got, mine) {
				t.Fatalf("buyer, supplier filter: %v, want %v", got, mine)
			}
			if got, _ := w.walk("buyer", "/v1/orders?supplier_id="+sup+"&placed_from="+cut, 1); !slices.Equal(got, late) {
				t.Fatalf("placed_from: %v, want %v", got, late)
			}
			if got, _ := w.walk("admin", "/v1/orders?buyer_id="+w.ids["buyer"]+"&placed_before="+cut, 2); len(got) != 6 {
				t.Fatalf("placed_before: %v, want the 6 early orders", got)
			}
			if got, _ := w.walk("admin", "/v1/orders?inspector_id="+w.ids["inspector"], 2); !slices.Equal(got, early[:1]) {
				t.Fatalf("inspector filter: %v, want %v", got, early[:1])
			}
			// Filters never widen a party's view.
			for _, c := range []struct{ who, query string }{
				{"buyer2", "buyer_id=" + w.ids["buyer"]},
				{"supplier2", "supplier_id=" + sup},
				{"inspector2", "inspector_id=" + w.ids["inspector"]},
			} {
				if got, _ := w.walk(c.who, "/v1/orders?"+c.query, 50); len(got) != 0 {
					t.Fatalf("%s with %s sees %v", c.who, c.query, got)
				}
			}
			if got, _ := w.walk("supplier2", "/v1/orders?buyer_id="+w.ids["buyer"], 50); len(got) != 3 {
				t.Fatalf("supplier2 filtering by its buyer: %v, want its 3 orders", got)
			}
			w.refused(w.call("admin", "GET", "/v1/orders?placed_from="+cut+"&placed_before="+cut, nil, nil), 422, "invalid_range")
			w.refused(w.call("admin", "GET", "/v1/orders?state=lost", nil, nil), 422, "invalid_state")
			if got, _ := w.walk("admin", "/v1/orders?supplier_id="+w.ids["supplier2"], 2); len(got) != 3 || !slices.Contains(other, got[0]) {
				t.Fatalf("admin, supplier2's orders: %v", got)
			}
		})
	}
}

// TestLedgerBalances ensures GET /v1/ledger/balances pages the balance table for admins: the
// same accounts and balances as check_ledger's trial balance (computed from the entries), in
// account order, filtered by kind and currency, and refused to every other role.
func TestLedgerBalances(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		for range 2 {
			o := w.confirmed()
			w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "card"})
		}
		w.tick(2 * time.Hour) // the sandbox rail delivers: rail, escrow and fee accounts move
		var rep struct {
			Trial []struct {
				Account string
				Balance int64
			} `json:"trial_balance"`
		}
		w.ok(w.call("admin", "GET", "/v1/ledger/check", nil, &rep), 200)
		want := map[string]int64{}
		for _, b := range rep.Trial {
			want[b.Account] = b.Balance
		}
		type balance struct {
			Account, Kind, Owner, Currency string
			Balance                        int64
		}
		read := func(query string, limit int) []balance {
			var out []balance
			cursor := ""
			for range 100 {
				var page struct {
					Items      []balance
					NextCursor string `json:"next_cursor"`
				}
				w.ok(w.call("admin", "GET", fmt.Sprintf("/v1/ledger/balances?limit=%d&after=%s%s", limit, url.QueryEscape(cursor), query), nil, &page), 200)
				out = append(out, page.Items...)
				if cursor = page.NextCursor; cursor == "" {
					return out
				}
			}
			t.Fatal("more than 100 pages")
			return nil
		}
		all := read("", 2)
		if len(all) != len(want) || len(all) < 4 {
			t.Fatalf("%d balances, the trial balance has %d: %+v", len(all), len(want), all)
		}
		for i, b := range all {
			if want[b.Account] != b.Balance {
				t.Errorf("%s: %d, the trial balance says %d", b.Account, b.Balance, want[b.Account])
			}
			if b.Account != b.Kind+":"+b.Owner+":"+b.Currency {
				t.Errorf("%s: kind %q owner %q currency %q", b.Account, b.Kind, b.Owner, b.Currency)
			}
			if i > 0 && all[i-1].Account >= b.Account {
				t.Errorf("out of order: %s before %s", all[i-1].Account, b.Account)
			}
		}
		escrows := read("&kind=escrow&currency=USD", 1)
		if len(escrows) != 2 {
			t.Fatalf("escrow accounts in USD: %+v", escrows)
		}
		for _, b := range escrows {
			if b.Kind != "escrow" || b.Currency != "USD" || b.Balance <= 0 {
				t.Fatalf("filtered: %+v", b)
			}
		}
		if got := read("&currency=EUR", 50); len(got) != 0 {
			t.Fatalf("EUR accounts: %+v", got)
		}
		r := w.call("admin", "GET", "/v1/ledger/balances?currency=XYZ", nil, nil)
		if r.status != 422 || r.problem.Reason != "unknown_currency" || !strings.Contains(string(r.body), "query.currency") {
			t.Fatalf("unknown currency: %d %s", r.status, r.body)
		}
		for _, who := range []string{"buyer", "supplier", "inspector", "arbiter"} {
			w.refused(w.call(who, "GET", "/v1/ledger/balances", nil, nil), 403, "role_not_allowed")
		}
	})
}
