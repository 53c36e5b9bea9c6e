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
	Form *form
	// Supplier is the eligible supplier the buyer chose in the directory (R1, R22); nil when
	// the form names none, or one that is not an eligible supplier (the form then says so).
	Supplier   *trade.Org
	Currencies []money.Currency
	Incoterms  []string
	Lines      []int
	Quality    []int
	Compliance []int
}

// newOrderPage is checkout with the supplier chosen in the directory (/suppliers?…, "Start an
// order"): without one, the buyer is sent to the directory to choose.
func (s *Server) newOrderPage(w http.ResponseWriter, r *http.Request) {
	if actorOf(r).Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer places orders."})
		return
	}
	id := r.URL.Query().Get("supplier")
	if id == "" {
		http.Redirect(w, r, "/suppliers", http.StatusSeeOther)
		return
	}
	f := newForm(url.Values{"currency": {"USD"}, "incoterm": {"FOB"}, "payment_terms.initial_bp": {"3000"}, "supplier_id": {id}})
	s.showNewOrder(w, r, http.StatusOK, f)
}

// showNewOrder renders checkout. The supplier the form names is read again, so the page shows
// its name and its coverage available now; one that is unknown or not eligible is refused next
// to it before the buyer fills in the rest (the domain refuses it again at placement, R1).
func (s *Server) showNewOrder(w http.ResponseWriter, r *http.Request, status int, f *form) {
	d := newOrderData{Form: f, Currencies: Currencies, Incoterms: trade.Incoterms, Lines: seq(LineItemRows),
		Quality: seq(RequirementRows), Compliance: seq(ComplianceRows)}
	if id := f.Value("supplier_id"); id != "" && f.Err("supplier_id") == "" {
		sup, err := s.svc.Org(r.Context(), id)
		switch e, _ := fault.As(err); {
		case err == nil && sup.Kind == trade.KindSupplier && sup.Eligibility.Eligible:
			d.Supplier = &sup
		case err == nil || (e != nil && e.Code == fault.NotFound):
			f.add("supplier_id", "This supplier cannot receive Trade Assurance orders (R1). Choose an eligible supplier in the directory.")
			if status == http.StatusOK {
				status = http.StatusUnprocessableEntity
			}
		default:
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, status, "neworder.html", "Place an order", d)
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
