package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Currencies are the currencies the order form offers; others go through the API.
var Currencies = []money.Currency{"USD", "EUR", "GBP", "CNY", "HKD", "JPY", "AUD", "CAD"}

// newOrderData is the checkout form (R2, R3).
type newOrderData struct {
	Form       *form
	Suppliers  []trade.Org
	Currencies []money.Currency
	Incoterms  []string
	Lines      []int
	Quality    []int
	Compliance []int
}

func (s *Server) newOrderPage(w http.ResponseWriter, r *http.Request) {
	if actorOf(r).Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer places orders."})
		return
	}
	f := newForm(url.Values{"currency": {"USD"}, "incoterm": {"FOB"}, "payment_terms.initial_bp": {"3000"}})
	if id := r.URL.Query().Get("supplier"); id != "" {
		f.Values.Set("supplier_id", id)
	}
	s.showNewOrder(w, r, http.StatusOK, f)
}

func (s *Server) showNewOrder(w http.ResponseWriter, r *http.Request, status int, f *form) {
	sups, err := s.svc.Orgs(r.Context(), trade.KindSupplier)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	eligible := sups[:0]
	for _, o := range sups {
		if o.Eligibility.Eligible { // R1: only eligible suppliers receive Trade Assurance orders
			eligible = append(eligible, o)
		}
	}
	s.render(w, r, status, "neworder.html", "Place an order", newOrderData{Form: f, Suppliers: eligible,
		Currencies: Currencies, Incoterms: trade.Incoterms, Lines: seq(LineItemRows), Quality: seq(RequirementRows),
		Compliance: seq(ComplianceRows)})
}

func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer places orders."})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	key, ok := idempotencyKey(r, f)
	if !ok {
		s.showNewOrder(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	p, rows := checkout(f)
	if f.Failed() {
		s.showNewOrder(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	o, err := s.svc.Place(ctx, a, key, p)
	if err != nil {
		e, ok := fault.As(err)
		if !ok || e.Code == fault.Internal {
			s.fail(w, r, err)
			return
		}
		// The domain counts only the rows that were filled in; the form counts every row.
		c := *e
		for list, idx := range rows {
			c.Field = remapIndex(c.Field, list, idx)
		}
		f.setError(&c)
		s.showNewOrder(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	s.redirect(w, r, "/orders/"+o.ID, "Order placed. "+s.orgName(ctx, o.SupplierID)+" reviews and confirms the contract next.")
}

// checkout reads the order form into a placement with the buyer's proposed contract. It
// records what cannot even be read (a date, a number, a price) in the form; everything else is
// the domain's to judge. rows maps each list's contract index to its form row.
func checkout(f *form) (trade.Place, map[string][]int) {
	cur := money.Currency(f.Value("currency"))
	if !cur.Valid() {
		f.add("currency", "Choose a currency.")
	}
	p := trade.Place{SupplierID: f.Value("supplier_id"), Currency: cur,
		ComplianceConfirmed: f.Value("compliance_confirmed") == "yes"}
	if p.SupplierID == "" {
		f.add("supplier_id", "Choose a supplier.")
	}
	if d, ok := dateField(f, "ship_by", "Give the last day the goods may ship."); ok {
		p.ShipBy = d
	}
	bp, err := strconv.Atoi(f.Value("payment_terms.initial_bp"))
	if err != nil {
		f.add("payment_terms.initial_bp", "Choose the payment terms.")
	}
	c := trade.Contract{Currency: cur, Incoterm: f.Value("incoterm"), ShipBy: p.ShipBy,
		Terms: trade.PaymentTerms{InitialBP: bp}, Notes: f.Value("notes")}
	rows := map[string][]int{}
	for i := range LineItemRows {
		li, ok := lineItem(f, i, cur)
		if ok {
			c.LineItems = append(c.LineItems, li)
			rows["line_items"] = append(rows["line_items"], i)
		}
	}
	if len(c.LineItems) == 0 && !f.Failed() {
		f.add("line_items", "Describe at least one product: description, quantity, unit and unit price.")
	}
	c.Quality, rows["quality_requirements"] = requirements(f, "quality_requirements", RequirementRows)
	c.Compliance, rows["compliance_requirements"] = requirements(f, "compliance_requirements", ComplianceRows)
	p.Contract = &c
	return p, rows
}

// lineItem reads row i; a row left entirely empty is skipped.
func lineItem(f *form, i int, cur money.Currency) (trade.LineItem, bool) {
	v := func(sub string) string { return strings.TrimSpace(f.Value(indexed("line_items", i, sub))) }
	desc, qty, unit, price := v("description"), v("quantity"), v("unit"), v("unit_price")
	if desc == "" && qty == "" && unit == "" && price == "" {
		return trade.LineItem{}, false
	}
	li := trade.LineItem{Description: desc, Unit: unit}
	n, err := strconv.ParseInt(qty, 10, 64)
	if err != nil {
		f.add(indexed("line_items", i, "quantity"), "Give a whole number of units.")
	}
	li.Quantity = n
	if cur.Valid() {
		a, err := money.Parse(price, cur)
		if err != nil {
			f.add(indexed("line_items", i, "unit_price"), "Give a price in "+string(cur)+", like 12.50.")
		}
		li.UnitPrice = a.Minor
	}
	return li, true
}

// requirements reads the rows of a requirement list; a row without attribute and requirement
// is skipped.
func requirements(f *form, list string, n int) ([]trade.Requirement, []int) {
	var out []trade.Requirement
	var rows []int
	for i := range n {
		v := func(sub string) string { return strings.TrimSpace(f.Value(indexed(list, i, sub))) }
		r := trade.Requirement{Attribute: v("attribute"), Requirement: v("requirement"), Unit: v("unit"),
			Tolerance: v("tolerance"), Method: v("method")}
		if r == (trade.Requirement{}) {
			continue
		}
		out = append(out, r)
		rows = append(rows, i)
	}
	return out, rows
}
