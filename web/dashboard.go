package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// DashboardOrdersMax bounds the orders a dashboard lists, newest first.
const DashboardOrdersMax = 100

// orderRow is one order in a dashboard list.
type orderRow struct {
	O            *trade.Order
	Buyer        string
	Supplier     string
	Total        int64
	Deadline     string // what the next deadline is
	DeadlineAt   time.Time
	DeadlineLate bool
	Dispute      *trade.Dispute
}

type dashboardData struct {
	Role      string
	Orders    []orderRow
	Supplier  *trade.Org  // the supplier's own coverage (R22)
	Suppliers []trade.Org // admin: eligibility and coverage (R1, R22)
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
	rows, err := s.orderRows(ctx, a, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Orders = rows
	s.render(w, r, http.StatusOK, "dashboard.html", "Dashboard", d)
}

// orderRows lists the orders a may see, newest first, with names and the next deadline.
func (s *Server) orderRows(ctx context.Context, a trade.Actor, f escrow.OrderFilter) ([]orderRow, error) {
	var all []*trade.Order
	for page := 0; page < 20; page++ { // at most 20 pages of PageSizeMax: a bound, not a limit in practice
		os, err := s.svc.Orders(ctx, a, f)
		if err != nil {
			return nil, err
		}
		all = append(all, os...)
		if len(os) < escrow.PageSizeMax {
			break
		}
		f.After = os[len(os)-1].ID
	}
	slices.Reverse(all) // IDs are time-ordered: newest first
	if len(all) > DashboardOrdersMax {
		all = all[:DashboardOrdersMax]
	}
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		names[id] = s.orgName(ctx, id)
		return names[id]
	}
	now := s.svc.Now()
	out := make([]orderRow, 0, len(all))
	for _, o := range all {
		row := orderRow{O: o, Buyer: name(o.BuyerID), Supplier: name(o.SupplierID), Total: orderTotal(o), Dispute: o.OpenDispute()}
		row.Deadline, row.DeadlineAt = nextDeadline(o)
		row.DeadlineLate = !row.DeadlineAt.IsZero() && row.DeadlineAt.Before(now)
		out = append(out, row)
	}
	return out, nil
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

// nextDeadline is the next deadline that matters on an order, for a dashboard: payment
// instructions running out, the supplier's dispute window (R17), or the shipping date (R2).
func nextDeadline(o *trade.Order) (string, time.Time) {
	for _, p := range o.Payments {
		if p.Status == trade.PaymentPending {
			return "Payment instructions expire", p.ExpiresAt
		}
	}
	if x := o.OpenDispute(); x != nil && x.EscalatedAt == nil {
		return "Supplier's time to settle ends", x.WindowEndsAt
	}
	switch o.State {
	case trade.Draft, trade.ContractProposed, trade.Confirmed, trade.InProduction, trade.InspectionPassed,
		trade.InspectionFailed, trade.BalancePaid:
		return "Ship by " + o.ShipBy.Format("2 Jan 2006"), o.Deadline()
	}
	return "", time.Time{}
}
