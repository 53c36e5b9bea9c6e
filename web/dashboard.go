package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// DashboardOrdersMax is how many orders one page of a dashboard lists, newest first; an
// "Older orders" link leads to the next page.
const DashboardOrdersMax = 100

// cursorPattern is the shape of an order ID as a page cursor.
var cursorPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// orderRow is one order in a dashboard list.
type orderRow struct {
	O        *trade.Order
	Buyer    string
	Supplier string
	Total    int64
	// Next is the soonest of the deadlines the order page lists (orderDeadlines, from the
	// order's stored timers), or nil when none runs.
	Next    *deadline
	Dispute *trade.Dispute
}

type dashboardData struct {
	Role      string
	Orders    []orderRow
	Filter    *form         // the state filter (a GET form: nothing to make idempotent)
	States    []trade.State // the states the filter offers; none for staff, whose lists are fixed
	Older     string        // the link to the next page of older orders, or ""
	Paged     bool          // this is not the first page: offer the newest again
	State     trade.State   // the state the list is filtered by, if the viewer chose one
	Supplier  *trade.Org    // the supplier's own coverage (R22)
	Suppliers []trade.Org   // admin: eligibility and coverage (R1, R22)
	Heading   string
	Empty     string
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	d := dashboardData{Role: string(a.Role)}
	f := escrow.OrderFilter{}
	switch a.Role {
	case trade.RoleBuyer:
		d.Heading, d.Empty = "Your orders", "You have no orders yet."
	case trade.RoleSupplier:
		d.Heading, d.Empty = "Your orders", "No buyer has placed an order with you yet."
		sup, err := s.svc.Org(ctx, a.OrgID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Supplier = &sup
	case trade.RoleInspector:
		d.Heading, d.Empty = "Inspections booked with you", "No inspection is booked with you."
	case trade.RoleArbiter:
		d.Heading, d.Empty = "Escalated disputes", "No dispute waits for a decision."
		f.State = trade.Escalated
	case trade.RoleAdmin:
		d.Heading, d.Empty = "Shipped orders awaiting release", "No shipped order awaits release."
		f.State = trade.Shipped
		sups, err := s.svc.Orgs(ctx, trade.KindSupplier)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Suppliers = sups
	default:
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "The portal has no pages for this role."})
		return
	}
	status := s.pageFilter(r, &d, &f)
	rows, more, err := s.orderRows(ctx, a, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Orders = rows
	if more {
		q := url.Values{"before": {rows[len(rows)-1].O.ID}}
		if d.State != "" {
			q.Set("state", string(d.State))
		}
		d.Older = "/?" + q.Encode()
	}
	s.render(w, r, status, "dashboard.html", "Dashboard", d)
}

// pageFilter reads the dashboard's page cursor and, for the parties and inspectors, its state
// filter into f. A state that is not one is refused next to the filter (422) and the list shown
// unfiltered; a cursor that is not an order ID starts from the newest.
func (s *Server) pageFilter(r *http.Request, d *dashboardData, f *escrow.OrderFilter) int {
	q, status := r.URL.Query(), http.StatusOK
	d.Filter = newForm(url.Values{"state": {q.Get("state")}})
	switch actorOf(r).Role {
	case trade.RoleBuyer, trade.RoleSupplier, trade.RoleInspector:
		d.States = trade.States
		if st := trade.State(q.Get("state")); st != "" {
			if slices.Contains(trade.States, st) {
				f.State, d.State = st, st
			} else {
				d.Filter.add("state", "Choose a state from the list.")
				status = http.StatusUnprocessableEntity
			}
		}
	}
	if before := q.Get("before"); cursorPattern.MatchString(before) {
		f.Before, d.Paged = before, true
	}
	return status
}

// orderRows lists a page of the orders a may see, newest first, with names and the next
// deadline; more reports whether older orders follow.
func (s *Server) orderRows(ctx context.Context, a trade.Actor, f escrow.OrderFilter) (rows []orderRow, more bool, err error) {
	f.Newest, f.Limit = true, DashboardOrdersMax+1 // one more than shown says whether a next page exists
	all, err := s.svc.Orders(ctx, a, f)
	if err != nil {
		return nil, false, err
	}
	if len(all) > DashboardOrdersMax {
		all, more = all[:DashboardOrdersMax], true
	}
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		names[id] = s.orgName(ctx, id)
		return names[id]
	}
	// The deadlines come from the orders' stored timers, as on the order page, in one read
	// for the page rather than one per row.
	ids := make([]string, len(all))
	for i, o := range all {
		ids[i] = o.ID
	}
	live, err := s.svc.LiveTimers(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	timers := map[string][]escrow.StoredTimer{}
	for _, t := range live {
		timers[t.OrderID] = append(timers[t.OrderID], t)
	}
	now, money := s.svc.Now(), a.Role != trade.RoleInspector
	out := make([]orderRow, 0, len(all))
	for _, o := range all {
		row := orderRow{O: o, Buyer: name(o.BuyerID), Supplier: name(o.SupplierID), Total: orderTotal(o), Dispute: o.OpenDispute()}
		if ds := orderDeadlines(o, timers[o.ID], now, money); len(ds) > 0 {
			row.Next = &ds[0]
		}
		out = append(out, row)
	}
	return out, more, nil
}

// orderTotal is the agreed total, or before confirmation the proposed one.
func orderTotal(o *trade.Order) int64 {
	if o.Contract() != nil {
		return o.Total()
	}
	if o.Proposal != nil {
		t, _ := o.Proposal.Contract.Total()
		return t
	}
	return 0
}
