package web

import (
	"net/http"
	"net/url"

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
	next := " reviews and confirms the contract next."
	if p.Contract == nil {
		next = " drafts the contract next; you review and confirm it."
	}
	s.redirect(w, r, "/orders/"+o.ID, "Order placed. "+s.orgName(ctx, o.SupplierID)+next)
}

// checkout reads the order form into a placement with the buyer's proposed contract, or with
// none when the buyer leaves the supplier to draft it (R4: either party drafts). It records
// what cannot even be read (a date, a number, a price) in the form; everything else is the
// domain's to judge. rows maps each list's contract index to its form row.
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
	if f.Value("contract_by") == "supplier" {
		return p, nil
	}
	c, rows := readContract(f, cur, contractRows{Lines: LineItemRows, Quality: RequirementRows, Compliance: ComplianceRows})
	p.Contract = &c
	return p, rows
}
