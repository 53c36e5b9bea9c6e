package web

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// TestOrderDeadlines ensures the order page's deadlines are the order's live timers, each with
// a countdown from the clock it is given: the shipping date (R2) with what passing it does in
// the order's state (R13), payment instructions expiring, the supplier's time to settle a
// dispute (R17) while it is open and not escalated, the release after shipment (R12) and the
// end of the buyer's time to dispute after release; a deadline whose time has come says it
// passed; timers that fired, were replaced, or no longer apply in the order's state are left
// out; an inspection company sees only the shipping date. R21
func TestOrderDeadlines(t *testing.T) {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	shipBy := trade.Day(base).AddDate(0, 0, 60) // 1 May 2026
	deadline := shipBy.AddDate(0, 0, 1)
	timer := func(kind trade.TimerKind, due time.Time, ref string, state escrow.TimerState) escrow.StoredTimer {
		return escrow.StoredTimer{Timer: trade.Timer{Key: "o1/" + string(kind) + "/" + ref, Kind: kind, OrderID: "o1", DueAt: due, Ref: ref},
			State: state}
	}
	pending, fired, replaced := escrow.TimerPending, escrow.TimerFired, escrow.TimerReplaced
	order := func(s trade.State) *trade.Order {
		return &trade.Order{ID: "o1", State: s, ShipBy: shipBy, PlacedAt: base}
	}
	type row struct {
		Kind   trade.TimerKind
		What   string
		Left   string
		At     time.Time
		Passed bool
	}
	shipping := func(left string, passed bool) row {
		return row{trade.TimerShippingDeadline, "Shipping date 1 May 2026 (R2)", left, deadline, passed}
	}

	confirmed := order(trade.Confirmed)
	confirmed.Payments = []trade.Payment{
		{ID: "pay0", Installment: trade.Initial, Status: trade.PaymentExpired, ExpiresAt: base.Add(-time.Hour)},
		{ID: "pay1", Installment: trade.Initial, Status: trade.PaymentPending, ExpiresAt: base.Add(14 * 24 * time.Hour)},
	}
	disputed := order(trade.Disputed)
	disputed.Disputes = []trade.Dispute{{ID: "d1", FiledAt: base, WindowEndsAt: base.Add(15 * 24 * time.Hour)}}
	escalated := order(trade.Escalated)
	escalatedAt := base.Add(time.Hour)
	escalated.Disputes = []trade.Dispute{{ID: "d1", FiledAt: base, WindowEndsAt: base.Add(15 * 24 * time.Hour), EscalatedAt: &escalatedAt}}
	now := base.Add(time.Hour)

	for _, c := range []struct {
		name   string
		o      *trade.Order
		timers []escrow.StoredTimer
		now    time.Time
		money  bool
		want   []row
	}{
		{"confirmed, instructions out", confirmed, []escrow.StoredTimer{
			timer(trade.TimerShippingDeadline, deadline, "", replaced), // an earlier date
			timer(trade.TimerShippingDeadline, deadline, "", pending),
			timer(trade.TimerPaymentExpiry, base.Add(-time.Hour), "pay0", fired),
			timer(trade.TimerPaymentExpiry, base.Add(14*24*time.Hour), "pay1", pending),
		}, now, true, []row{
			{trade.TimerPaymentExpiry, "Payment instructions for the initial payment expire", "in 13 days", base.Add(14 * 24 * time.Hour), false},
			shipping("in 60 days", false),
		}},
		{"the inspection company sees the shipping date only", confirmed, []escrow.StoredTimer{
			timer(trade.TimerShippingDeadline, deadline, "", pending),
			timer(trade.TimerPaymentExpiry, base.Add(14*24*time.Hour), "pay1", pending),
		}, now, false, []row{shipping("in 60 days", false)}},
		{"disputed: the supplier's window", disputed, []escrow.StoredTimer{
			timer(trade.TimerShippingDeadline, deadline, "", pending),
			timer(trade.TimerDisputeWindow, base.Add(15*24*time.Hour), "d1", pending),
		}, base.Add(14*24*time.Hour + 22*time.Hour), true, []row{
			{trade.TimerDisputeWindow, "The supplier's time to settle the dispute ends (R17)", "in 2 hours", base.Add(15 * 24 * time.Hour), false},
			shipping("in 45 days", false),
		}},
		{"disputed, the window's time has come", disputed, []escrow.StoredTimer{
			timer(trade.TimerDisputeWindow, base.Add(15*24*time.Hour), "d1", pending),
		}, base.Add(15*24*time.Hour + 5*time.Minute), true, []row{
			{trade.TimerDisputeWindow, "The supplier's time to settle the dispute ends (R17)", "passed 5 minutes ago", base.Add(15 * 24 * time.Hour), true},
		}},
		{"escalated early: the window no longer counts", escalated, []escrow.StoredTimer{
			timer(trade.TimerDisputeWindow, base.Add(15*24*time.Hour), "d1", pending),
		}, now, true, nil},
		{"shipped: the release is due", order(trade.Shipped), []escrow.StoredTimer{
			timer(trade.TimerShippingDeadline, deadline, "", replaced), // retired at shipment
			timer(trade.TimerRelease, now.Add(-time.Minute), "", escrow.TimerClaimed),
		}, now, true, []row{
			{trade.TimerRelease, "Release of the escrow to the supplier (R12)", "passed 1 minute ago", now.Add(-time.Minute), true},
		}},
		{"released: the buyer's time to dispute", order(trade.Released), []escrow.StoredTimer{
			timer(trade.TimerRelease, now.Add(-time.Hour), "", pending), // an admin released first: skipped when it fires
			timer(trade.TimerCompletion, now.Add(30*24*time.Hour), "", pending),
		}, now, true, []row{
			{trade.TimerCompletion, "The buyer's time to dispute after release ends", "in 30 days", now.Add(30 * 24 * time.Hour), false},
		}},
		{"late: the shipping date passed", order(trade.Late), []escrow.StoredTimer{
			timer(trade.TimerShippingDeadline, deadline, "", fired),
		}, deadline.Add(50 * time.Hour), true, []row{shipping("passed 2 days ago", true)}},
		{"completed: nothing left", order(trade.Completed), []escrow.StoredTimer{
			timer(trade.TimerCompletion, now, "", fired),
		}, now, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []row
			for _, d := range orderDeadlines(c.o, c.timers, c.now, c.money) {
				got = append(got, row{d.Kind, d.What, d.Left, d.At, d.Passed})
				if d.Then == "" {
					t.Errorf("%s says nothing of what happens then", d.What)
				}
				when := d.At.Format("2 Jan 2006 15:04 UTC")
				if d.Kind == trade.TimerShippingDeadline {
					when = "the end of 1 May 2026, UTC" // the deadline is 2 May 00:00
				}
				if d.When != when {
					t.Errorf("%s: when %q, want %q", d.What, d.When, when)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("deadlines:\n%s\nwant:\n%s", rows(got), rows(c.want))
			}
		})
	}

	// What passing the shipping date does depends on the state, as the lifecycle table says.
	for s, want := range map[trade.State]string{
		trade.Confirmed:    "If nothing has been paid by then, the order is cancelled.",
		trade.InProduction: "Unshipped by then, the order is late: the buyer may agree a new date or take a full refund (R13).",
		trade.Disputed:     "The goods must ship by then; an order still unshipped when it can go on is late (R13).",
	} {
		ds := orderDeadlines(order(s), []escrow.StoredTimer{timer(trade.TimerShippingDeadline, deadline, "", pending)}, now, true)
		if len(ds) != 1 || ds[0].Then != want {
			t.Errorf("%s: %+v, want %q", s, ds, want)
		}
	}
}

// rows prints deadline rows one a line, for a failure message.
func rows[T any](rs []T) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %+v\n", r)
	}
	return b.String()
}
