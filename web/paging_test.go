package web_test

import (
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

var (
	orderLinkRE  = regexp.MustCompile(`<td data-label="Order"><a href="/orders/([^"/]+)"`)
	olderLinkRE  = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older orders</a>`)
	newestLinkRE = regexp.MustCompile(`<a href="([^"]+)">Newest orders</a>`)
)

// dashboardPages follows a dashboard's "Older orders" links from path and returns the order IDs
// of each page.
func dashboardPages(t *testing.T, c *client, path string) [][]string {
	t.Helper()
	var pages [][]string
	for len(pages) < 10 {
		res := c.get(path)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.status)
		}
		var ids []string
		for _, m := range orderLinkRE.FindAllStringSubmatch(res.body, -1) {
			ids = append(ids, m[1])
		}
		pages = append(pages, ids)
		if len(pages) > 1 && !newestLinkRE.MatchString(res.body) {
			t.Errorf("page %d has no link to the newest orders", len(pages))
		}
		m := olderLinkRE.FindStringSubmatch(res.body)
		if m == nil {
			return pages
		}
		path = html.UnescapeString(m[1])
	}
	t.Fatal("more pages than orders")
	return nil
}

// TestDashboardPaging ensures a buyer and a supplier with more orders than one page reach every
// one of them, newest first, through "Older orders" links, and that the state filter keeps to
// its state across pages; a state that is not one is refused next to the filter.
func TestDashboardPaging(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		var placed []string // oldest first
		for range 2*web.DashboardOrdersMax + 5 {
			placed = append(placed, w.order(trade.Draft).ID)
		}
		for range 2 {
			placed = append(placed, w.order(trade.Confirmed).ID)
		}
		newest := slices.Clone(placed)
		slices.Reverse(newest)

		for _, role := range []string{"buyer", "supplier"} {
			pages := dashboardPages(t, w.login(role), "/")
			if len(pages) != 3 || len(pages[0]) != web.DashboardOrdersMax || len(pages[1]) != web.DashboardOrdersMax || len(pages[2]) != 7 {
				t.Fatalf("%s: pages of %v orders", role, lens(pages))
			}
			if got := slices.Concat(pages...); !slices.Equal(got, newest) {
				t.Errorf("%s: the pages do not list every order once, newest first", role)
			}
		}

		buyer := w.login("buyer")
		drafts := dashboardPages(t, buyer, "/?state=draft")
		if len(drafts) != 3 || len(drafts[2]) != 5 || !slices.Equal(slices.Concat(drafts...), newest[2:]) {
			t.Errorf("draft orders: pages of %v", lens(drafts))
		}
		confirmed := dashboardPages(t, buyer, "/?state=confirmed")
		if len(confirmed) != 1 || !slices.Equal(confirmed[0], newest[:2]) {
			t.Errorf("confirmed orders: %v", confirmed)
		}
		if res := buyer.get("/?state=shipped"); !strings.Contains(res.body, "No orders in this state.") {
			t.Error("an empty state does not say so")
		}

		res := buyer.get("/?state=lost")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `aria-invalid="true" aria-describedby="f-state-error"`) ||
			!strings.Contains(res.body, "Choose a state from the list.") {
			t.Errorf("an unknown state: %d", res.status)
		}
		if got := len(orderLinkRE.FindAllString(res.body, -1)); got != web.DashboardOrdersMax {
			t.Errorf("an unknown state lists %d orders, want the first page unfiltered", got)
		}
		// A cursor that is not an order ID starts from the newest.
		if got := orderLinkRE.FindStringSubmatch(buyer.get("/?before=%27%3B--").body); got == nil || got[1] != newest[0] {
			t.Error("a malformed cursor does not start from the newest order")
		}
		// Staff lists are fixed: no filter offered.
		if strings.Contains(w.login("admin").get("/").body, `id="f-state"`) {
			t.Error("the admin's dashboard offers a state filter")
		}
	})
}

func lens(pages [][]string) []int {
	var n []int
	for _, p := range pages {
		n = append(n, len(p))
	}
	return n
}
