package notify

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/trade"
)

// Remind is what a due reminder asks for, judged against the order as it is now: the notices
// to send, or none and why the reminder no longer applies (the outcome "stale: …"). A reminder
// that applies returns the outcome "sent".
func Remind(rm Reminder, o *trade.Order, p Parties, now time.Time) ([]Notice, string) {
	if o == nil || o.ID != rm.OrderID {
		return nil, "stale: no such order"
	}
	r := rules{o: o, p: p}
	switch rm.Kind {
	case ShipByNear:
		if why := r.shipByNear(rm, now); why != "" {
			return nil, "stale: " + why
		}
	case DisputeWindowNear:
		if why := r.windowNear(rm, now); why != "" {
			return nil, "stale: " + why
		}
	default:
		return nil, "stale: unknown kind " + string(rm.Kind)
	}
	return r.notices, "sent"
}

// shippable are the states in which the supplier can still ship on time.
var shippable = map[trade.State]bool{trade.InProduction: true, trade.InspectionPassed: true, trade.BalancePaid: true}

// shipByNear reminds the supplier that the shipping date ends soon, and the buyer too when the
// balance it must pay first is still open.
func (r *rules) shipByNear(rm Reminder, now time.Time) string {
	o := r.o
	switch {
	case o.ShipBy.Format(time.DateOnly) != rm.Ref:
		return "the shipping date moved"
	case !shippable[o.State]:
		return "the order is " + string(o.State)
	case !now.Before(o.Deadline()):
		return "the shipping date has passed"
	}
	left := hoursLeft(now, o.Deadline())
	r.supplier(ShipByNear, fmt.Sprintf("Ship order %s by %s", r.ref(), rm.Ref),
		fmt.Sprintf("Order %s must ship by the end of %s (UTC), in %s. Record the shipment on the order once the goods have left; "+
			"after the date %s may take a full refund.", r.ref(), rm.Ref, left, r.p.Buyer))
	if o.State == trade.InspectionPassed && o.Outstanding() > 0 {
		r.buyer(PaymentDue, fmt.Sprintf("Pay the balance of order %s", r.ref()),
			fmt.Sprintf("Order %s ships by %s, in %s, and %s cannot ship before the balance of %s has arrived.",
				r.ref(), rm.Ref, left, r.p.Supplier, r.amount(o.Outstanding())))
	}
	return ""
}

// windowNear reminds the supplier that its time to settle a dispute ends soon (R17).
func (r *rules) windowNear(rm Reminder, now time.Time) string {
	x := r.o.OpenDispute()
	switch {
	case x == nil || x.ID != rm.Ref:
		return "the dispute is closed"
	case x.EscalatedAt != nil:
		return "the dispute was escalated"
	case !now.Before(x.WindowEndsAt):
		return "the window has ended"
	}
	r.supplier(DisputeWindowNear, fmt.Sprintf("Settle the dispute on order %s soon", r.ref()),
		fmt.Sprintf("Your time to settle the dispute on order %s ends %s, in %s. Offer a refund or rework before then; "+
			"after that the platform decides.", r.ref(), x.WindowEndsAt.Format("2006-01-02 15:04 MST"), hoursLeft(now, x.WindowEndsAt)))
	return ""
}

// hoursLeft says how long until t, in whole hours (at least one).
func hoursLeft(now, t time.Time) string {
	h := int64(t.Sub(now) / time.Hour)
	if h <= 1 {
		return "less than 2 hours"
	}
	return fmt.Sprintf("%d hours", h)
}
