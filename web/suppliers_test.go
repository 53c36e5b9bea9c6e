package web_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

// startLinkRE finds the directory's "Start an order" links, one per supplier listed.
var startLinkRE = regexp.MustCompile(`href="/orders/new\?supplier=([^"]+)"`)

// nextLinkRE finds the directory's link to its next page (or to search further).
var nextLinkRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// vietnamSuppliers registers n eligible suppliers in Viet Nam, each with a EUR coverage limit,
// and returns their IDs.
func (w *world) vietnamSuppliers(n int) []string {
	w.t.Helper()
	var ids []string
	for i := range n {
		o, err := w.svc.CreateOrg(w.ctx, w.admin, w.key(), trade.KindSupplier, fmt.Sprintf("Hanoi Knitwear %02d", i+1), "VN")
		w.must("create supplier", err)
		_, err = w.svc.SetEligibility(w.ctx, w.admin, w.key(), o.ID, true, "Gold Supplier")
		w.must("eligibility", err)
		_, err = w.svc.SetCoverageLimit(w.ctx, w.admin, w.key(), o.ID, money.New(int64(i+1)*1000_00, "EUR"))
		w.must("coverage", err)
		ids = append(ids, o.ID)
	}
	return ids
}

// listed follows the directory from path through its next links and returns the suppliers it
// lists, in order, and the number of pages.
func (c *client) listed(t *testing.T, path string) (ids []string, pages int) {
	t.Helper()
	for path != "" && pages < 50 {
		res := c.get(path)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, res.status, res.body)
		}
		pages++
		found := startLinkRE.FindAllStringSubmatch(res.body, -1)
		if len(found) > web.DirectoryPageSize {
			t.Errorf("GET %s lists %d suppliers, more than DirectoryPageSize", path, len(found))
		}
		for _, m := range found {
			ids = append(ids, m[1])
		}
		path = ""
		if m := nextLinkRE.FindStringSubmatch(res.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return ids, pages
}

// TestSupplierDirectory ensures the buyer's supplier directory lists only eligible suppliers
// (R1), each with its coverage available for new orders and its currency (R22) and a link
// that starts an order with it; that it pages by DirectoryPageSize, each supplier once; that
// the name search ignores case and the country filter narrows it, kept across pages; and that a
// search it cannot read is refused next to its field with the input kept.
func TestSupplierDirectory(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		w.order(trade.Confirmed) // uses USD 11,600.00 of the supplier's USD 50,000.00 (R22)
		vn := w.vietnamSuppliers(web.DirectoryPageSize + 3)
		sup := w.supplierID()
		buyer := w.login("buyer")

		page := buyer.get("/suppliers")
		if page.status != http.StatusOK {
			t.Fatalf("directory: %d", page.status)
		}
		for _, want := range []string{"Ningbo Sunrise Garments Co.", "USD 38,400.00", "USD 50,000.00", "Hanoi Knitwear 01", "EUR 1,000.00",
			`aria-label="Start an order with Ningbo Sunrise Garments Co."`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the directory lacks %q", want)
			}
		}
		if strings.Contains(page.body, "Unvetted Textiles Ltd.") || strings.Contains(page.body, w.actors["supplier2"].OrgID) {
			t.Error("R1: the directory lists a supplier that is not eligible")
		}
		all, pages := buyer.listed(t, "/suppliers")
		want := append([]string{sup}, vn...)
		if pages != 2 || !sameSet(all, want) {
			t.Errorf("the directory lists %d suppliers in %d pages, want each of %d once in 2", len(all), pages, len(want))
		}

		// The name search ignores case; the country filter narrows, and paging keeps both.
		if ids, _ := buyer.listed(t, "/suppliers?q=sunrise"); !slices.Equal(ids, []string{sup}) {
			t.Errorf("search sunrise: %v", ids)
		}
		if ids, _ := buyer.listed(t, "/suppliers?q=UNVETTED"); len(ids) != 0 {
			t.Errorf("R1: a search finds a supplier that is not eligible: %v", ids)
		}
		if body := buyer.get("/suppliers?q=nothing+like+this").body; !strings.Contains(body, "No eligible supplier matches.") {
			t.Error("an empty search result does not say so")
		}
		ids, pages := buyer.listed(t, "/suppliers?country=vn")
		if pages != 2 || !sameSet(ids, vn) {
			t.Errorf("country VN: %d suppliers in %d pages, want %d in 2", len(ids), pages, len(vn))
		}
		if ids, _ := buyer.listed(t, "/suppliers?q=knitwear+2&country=VN"); !sameSet(ids, vn[19:]) { // 20 to 23
			t.Errorf("name and country together: %v", ids)
		}
		if ids, _ := buyer.listed(t, "/suppliers?q=ningbo&country=VN"); len(ids) != 0 {
			t.Errorf("a name in another country matches: %v", ids)
		}

		// A search that cannot be read is refused next to its field, with what was typed kept.
		for _, c := range []struct{ query, field, kept string }{
			{"country=China", "country", `value="China"`},
			{"country=C1", "country", `value="C1"`},
			{"q=" + strings.Repeat("x", web.DirectoryQueryMax+1), "q", `value="` + strings.Repeat("x", web.DirectoryQueryMax+1) + `"`},
		} {
			res := buyer.get("/suppliers?" + c.query)
			id := "f-" + c.field
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `aria-describedby="`+id+`-error"`) ||
				!strings.Contains(res.body, `id="`+id+`-error"`) || !strings.Contains(res.body, c.kept) {
				t.Errorf("%s: %d, error next to %s: %v, input kept: %v", c.query, res.status, id,
					strings.Contains(res.body, `id="`+id+`-error"`), strings.Contains(res.body, c.kept))
			}
		}

		// Only a buyer looks for suppliers.
		for _, role := range []string{"supplier", "inspector", "arbiter", "admin"} {
			if res := w.login(role).get("/suppliers"); res.status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", role, res.status)
			}
		}
	})
}

// TestSupplierDirectoryScanLimit ensures a search reads at most DirectoryScanMax suppliers per
// request: past it the page shows what it found, says where it stopped and offers to search
// further, and following that finds every match once.
func TestSupplierDirectoryScanLimit(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	vn := w.vietnamSuppliers(12)
	t.Cleanup(web.SetDirectoryScanMax(5))
	buyer := w.login("buyer")
	page := buyer.get("/suppliers?country=VN")
	if !strings.Contains(page.body, "This search stopped after reading 5 suppliers") || !strings.Contains(page.body, "Search further") {
		t.Errorf("the first page does not say the search stopped:\n%s", page.body)
	}
	if n := len(startLinkRE.FindAllString(page.body, -1)); n != 3 { // the seed's two suppliers come first
		t.Errorf("the first page lists %d suppliers, want the 3 in Viet Nam among the first 5", n)
	}
	ids, pages := buyer.listed(t, "/suppliers?country=VN")
	if !sameSet(ids, vn) || pages != 3 {
		t.Errorf("searching further found %d suppliers in %d pages, want %d in 3", len(ids), pages, len(vn))
	}
	if ids, _ := buyer.listed(t, "/suppliers?q=nothing+like+this"); len(ids) != 0 {
		t.Errorf("found %v", ids)
	}
}

// TestCheckoutFromDirectory ensures "Start an order" leads to checkout with the supplier
// chosen, its name and coverage available shown (R22); checkout without a supplier sends the
// buyer to the directory; one that is unknown or not eligible is refused next to the supplier
// before anything is typed (R1); and an order placed from it goes to that supplier.
func TestCheckoutFromDirectory(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		buyer := w.login("buyer")
		sup := w.supplierID()
		page := buyer.get("/suppliers")
		m := startLinkRE.FindStringSubmatch(page.body)
		if m == nil || m[1] != sup {
			t.Fatalf("the directory's first link: %v", m)
		}
		page = buyer.get("/orders/new?supplier=" + m[1])
		for _, want := range []string{`id="f-supplier_id" name="supplier_id" value="` + sup + `"`, "Ningbo Sunrise Garments Co.",
			"Coverage available for new orders: USD 50,000.00", `href="/suppliers">Choose another supplier`} {
			if page.status != http.StatusOK || !strings.Contains(page.body, want) {
				t.Errorf("checkout from the directory: %d, lacks %q", page.status, want)
			}
		}
		if res := buyer.get("/orders/new"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/suppliers" {
			t.Errorf("checkout without a supplier: %d %q", res.status, res.header.Get("Location"))
		}
		for _, id := range []string{w.actors["supplier2"].OrgID, w.actors["buyer"].OrgID, "sup_no_such"} {
			res := buyer.get("/orders/new?supplier=" + id)
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-supplier_id-error"`) ||
				strings.Contains(res.body, `name="supplier_id"`) {
				t.Errorf("R1: checkout with %s: %d, refused next to the supplier: %v", id, res.status, strings.Contains(res.body, `id="f-supplier_id-error"`))
			}
		}
		if res := w.login("supplier").get("/orders/new?supplier=" + sup); res.status != http.StatusForbidden {
			t.Errorf("a supplier at checkout: %d", res.status)
		}
	})
}

// sameSet reports whether got holds each of want exactly once, in any order.
func sameSet(got, want []string) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
