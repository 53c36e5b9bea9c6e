package web

import (
	"slices"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// deadline is one live deadline of an order, with its countdown from the service's clock.
// Every deadline of an order is a durable timer the domain set (R21); the order page lists the
// ones still to fire, so what it shows is what the worker will do.
type deadline struct {
	Kind   trade.TimerKind
	What   string    // the deadline, for people
	Then   string    // what happens when it passes
	At     time.Time // when it passes
	When   string    // At for people: the shipping date is the end of its day, UTC
	Left   string    // the countdown: "in 3 days", or how long ago it passed
	Passed bool      // the time has come; the worker acts on it at its next round
}

// timerEvents is the command each order timer issues when it fires (escrow.timerCommand): a
// timer still counts only while the lifecycle table lets the system issue it in the order's
// state. The worker skips the others when they come due.
var timerEvents = map[trade.TimerKind]trade.Event{
	trade.TimerDisputeWindow: trade.EvEscalate,
	trade.TimerRelease:       trade.EvRelease,
	trade.TimerCompletion:    trade.EvComplete,
}

// orderDeadlines lists the live deadlines of o, soonest first, from its stored timers: the
// shipping date (R2, R13), the expiry of payment instructions, the supplier's time to settle a
// dispute before it goes to the platform (R17), the release after shipment (R12) and the end
// of the buyer's time to dispute after release, when the order completes. A late order also
// shows its shipping date as passed. money is false for an inspection company, which sees only
// the shipping date, as it sees no payments or disputes.
func orderDeadlines(o *trade.Order, timers []escrow.StoredTimer, now time.Time, money bool) []deadline {
	var out []deadline
	add := func(d deadline) {
		d.When = d.At.UTC().Format("2 Jan 2006 15:04 UTC")
		if d.Kind == trade.TimerShippingDeadline {
			d.When = "the end of " + o.ShipBy.UTC().Format("2 Jan 2006") + ", UTC"
		}
		d.Passed = !now.Before(d.At)
		d.Left = until(now, d.At)
		if d.Passed {
			d.Left = "passed " + d.Left
			if d.Left == "passed now" {
				d.Left = "passed just now"
			}
		}
		out = append(out, d)
	}
	shipping := false
	for _, t := range timers {
		if t.OrderID != o.ID || (t.State != escrow.TimerPending && t.State != escrow.TimerClaimed) {
			continue
		}
		if ev, ok := timerEvents[t.Kind]; ok && !allowed(o, trade.RoleSystem, ev) {
			continue
		}
		switch t.Kind {
		case trade.TimerShippingDeadline:
			if shipping {
				continue
			}
			shipping = true
			add(deadline{Kind: t.Kind, What: "Shipping date " + o.ShipBy.UTC().Format("2 Jan 2006") + " (R2)",
				Then: shippingThen(o), At: o.Deadline()})
		case trade.TimerPaymentExpiry:
			p := paymentOf(o, t.Ref)
			if !money || p == nil || p.Status != trade.PaymentPending {
				continue
			}
			add(deadline{Kind: t.Kind, What: "Payment instructions for the " + string(p.Installment) + " payment expire",
				Then: "Money sent after this needs new instructions.", At: t.DueAt})
		case trade.TimerDisputeWindow:
			x := disputeOf(o, t.Ref)
			if !money || x == nil || x.ClosedAt != nil || x.EscalatedAt != nil {
				continue
			}
			add(deadline{Kind: t.Kind, What: "The supplier's time to settle the dispute ends (R17)",
				Then: "The dispute then goes to the platform's arbiter to decide.", At: t.DueAt})
		case trade.TimerRelease:
			if money {
				add(deadline{Kind: t.Kind, What: "Release of the escrow to the supplier (R12)",
					Then: "The money held for the order is paid to the supplier.", At: t.DueAt})
			}
		case trade.TimerCompletion:
			if money {
				add(deadline{Kind: t.Kind, What: "The buyer's time to dispute after release ends",
					Then: "The order is then completed and closed.", At: t.DueAt})
			}
		}
	}
	if o.State == trade.Late && !shipping {
		add(deadline{Kind: trade.TimerShippingDeadline, What: "Shipping date " + o.ShipBy.UTC().Format("2 Jan 2006") + " (R2)",
			Then: "The order is late: the buyer may agree a new date or take a full refund (R13).", At: o.Deadline()})
	}
	slices.SortStableFunc(out, func(a, b deadline) int { return a.At.Compare(b.At) })
	return out
}

// shippingThen says what the shipping date passing does to the order in its state, as the
// lifecycle table has it.
func shippingThen(o *trade.Order) string {
	t, ok := trade.Lookup(o.State, trade.EvDeadlinePassed)
	switch {
	case ok && slices.Contains(t.To, trade.Cancelled):
		return "If nothing has been paid by then, the order is cancelled."
	case ok && slices.Contains(t.To, trade.Late):
		return "Unshipped by then, the order is late: the buyer may agree a new date or take a full refund (R13)."
	}
	return "The goods must ship by then; an order still unshipped when it can go on is late (R13)."
}

func paymentOf(o *trade.Order, id string) *trade.Payment {
	for i := range o.Payments {
		if o.Payments[i].ID == id {
			return &o.Payments[i]
		}
	}
	return nil
}

func disputeOf(o *trade.Order, id string) *trade.Dispute {
	for i := range o.Disputes {
		if o.Disputes[i].ID == id {
			return &o.Disputes[i]
		}
	}
	return nil
}
