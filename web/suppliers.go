package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits of the supplier directory.
const (
	// DirectoryPageSize is how many suppliers one page of the directory lists.
	DirectoryPageSize = 20
	// DirectoryScanMax bounds the suppliers one request reads looking for a page of matches;
	// past it the page shows what it found and offers to search on from where it stopped.
	DirectoryScanMax = 2000
	// DirectoryQueryMax is the longest name search, in characters: a name is no longer.
	DirectoryQueryMax = trade.OrgNameMax
)

// directoryScanMax is DirectoryScanMax, lowered by tests to reach it with a few suppliers.
var directoryScanMax = DirectoryScanMax

// directoryData is the supplier directory: eligible suppliers (R1) with the coverage they have
// for new orders (R22), searched by name and filtered by country.
type directoryData struct {
	Filter    *form       // the search (a GET form: nothing to make idempotent)
	Suppliers []trade.Org // this page's matches, by ID (the order suppliers joined in)
	Next      string      // the link to the next page, or ""
	Paged     bool        // this is not the first page: offer the first again
	Stopped   bool        // the scan stopped at DirectoryScanMax before the page was full
	Searched  bool        // a name or a country narrows the list
	First     string      // the link to the first page with the same search
	QueryMax  int         // DirectoryQueryMax, for the search input
	ScanMax   int         // DirectoryScanMax, for the page to say where a search stopped
}

// directory lists the suppliers a buyer may place a Trade Assurance order with: only eligible
// ones (R1, through escrow.Service.EligibleSuppliersPage, the read behind the API's
// list_suppliers), each with its coverage available for new orders and its currency (R22) and
// a link that starts an order with it.
func (s *Server) directory(w http.ResponseWriter, r *http.Request) {
	if actorOf(r).Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer looks for suppliers to order from."})
		return
	}
	q := r.URL.Query()
	f := newForm(url.Values{"q": {q.Get("q")}, "country": {q.Get("country")}})
	name, country, status := strings.TrimSpace(q.Get("q")), strings.ToUpper(strings.TrimSpace(q.Get("country"))), http.StatusOK
	if len([]rune(name)) > DirectoryQueryMax {
		f.add("q", "Search with at most "+itoa(DirectoryQueryMax)+" characters: no supplier's name is longer.")
		name, status = "", http.StatusUnprocessableEntity
	}
	if country != "" && !countryCode(country) {
		f.add("country", "Give the country as its two-letter ISO code, such as CN for China or VN for Viet Nam.")
		country, status = "", http.StatusUnprocessableEntity
	}
	after := q.Get("after")
	if !cursorPattern.MatchString(after) {
		after = "" // not a supplier ID: start from the first
	}
	page, err := s.findSuppliers(r.Context(), after, supplierMatch(name, country))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page.Filter, page.Paged, page.Searched = f, after != "", name != "" || country != ""
	page.QueryMax, page.ScanMax = DirectoryQueryMax, directoryScanMax
	search := url.Values{}
	if name != "" {
		search.Set("q", name)
	}
	if country != "" {
		search.Set("country", country)
	}
	page.First = "/suppliers"
	if len(search) > 0 {
		page.First += "?" + search.Encode()
	}
	if page.Next != "" {
		search.Set("after", page.Next)
		page.Next = "/suppliers?" + search.Encode()
	}
	s.render(w, r, status, "suppliers.html", "Find a supplier", page)
}

// supplierMatch is the directory's search: the name contains name, ignoring case, and the
// country is country; an empty one matches every supplier.
func supplierMatch(name, country string) func(trade.Org) bool {
	name = strings.ToLower(name)
	return func(o trade.Org) bool {
		return (country == "" || o.Country == country) && (name == "" || strings.Contains(strings.ToLower(o.Name), name))
	}
}

// findSuppliers reads eligible suppliers after the supplier after, by ID, a page of the store
// at a time, until it has DirectoryPageSize matches and knows whether another follows, has read
// them all, or has read DirectoryScanMax. Next is the cursor the following page starts after.
func (s *Server) findSuppliers(ctx context.Context, after string, match func(trade.Org) bool) (directoryData, error) {
	var d directoryData
	for scanned := 0; ; {
		if scanned >= directoryScanMax {
			d.Next, d.Stopped = after, true
			return d, nil
		}
		batch := min(escrow.PageSizeMax, directoryScanMax-scanned)
		orgs, next, err := s.svc.EligibleSuppliersPage(ctx, after, batch)
		if err != nil {
			return d, err
		}
		scanned += batch
		for _, o := range orgs {
			if !match(o) {
				continue
			}
			if len(d.Suppliers) == DirectoryPageSize { // one more match: a next page exists
				d.Next = d.Suppliers[len(d.Suppliers)-1].ID
				return d, nil
			}
			d.Suppliers = append(d.Suppliers, o)
		}
		if next == "" {
			return d, nil
		}
		after = next
	}
}

// countryCode reports whether c is shaped like an ISO 3166-1 alpha-2 code, as trade.NewOrg
// requires of an organization's country.
func countryCode(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}
