package notify_test

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

var parties = notify.Parties{Buyer: "Maple Kids", Supplier: "Ningbo Sunrise"}

// sampleOrder is an order in state with a confirmed contract of USD 7,800.00 (30% initial),
// an inspection booked with "insp", the initial payment received, and an open proposal "h2".
func sampleOrder(state trade.State) *trade.Order {
	c := contract(trade.Day(t0).AddDate(0, 0, 60))
	o := &trade.Order{ID: "ord_0123456789abcdef", BuyerID: "buyer", SupplierID: "supplier", Currency: "USD", State: state,
		ShipBy: c.ShipBy, Contracts: []trade.ContractVersion{{Version: 1, Contract: c, Hash: "h1"}},
		Inspection: &trade.Inspection{InspectorID: "insp"},
		Proposal:   &trade.Proposal{Contract: c, Hash: "h2", ProposedBy: "supplier"},
		Money:      trade.Tally{Paid: 234_000}}
	return o
}

func event(o *trade.Order, typ string, payload any) escrow.Event {
	b, _ := json.Marshal(payload)
	return escrow.Event{GlobalSeq: 7, Stream: o.ID, Seq: 3, Type: typ, At: t0, Payload: b}
}

// everyEvent is every event type the domain appends to an order, with a representative payload.
func everyEvent(o *trade.Order) []escrow.Event {
	x := trade.Dispute{ID: "dsp_1", Reason: "too light", FiledAt: t0, WindowEndsAt: t0.Add(15 * 24 * time.Hour)}
	var out []escrow.Event
	for typ, p := range map[string]any{
		"order.placed": map[string]any{}, "contract.proposed": map[string]any{"hash": "h2", "by": "supplier", "total": 780_000},
		"amendment.proposed":  map[string]any{"hash": "h2", "by": "buyer", "total": 780_000},
		"contract.confirmed":  map[string]any{"initial": 234_000, "total": 780_000},
		"amendment.confirmed": map[string]any{"total": 780_000}, "inspection.booked": map[string]any{"inspector_id": "insp"},
		"payment.initiated": map[string]any{}, "payment.received": map[string]any{"installment": "initial", "amount": 234_000},
		"payment.returned": map[string]any{}, "payment.expired": map[string]any{"installment": "balance"},
		"funds.released_for_production": map[string]any{}, "inspection.passed": trade.Report{Passed: true},
		"inspection.failed": trade.Report{}, "goods.accepted": map[string]any{}, "dispute.filed": x,
		"dispute.resolution_proposed": trade.Resolution{ID: "res_1", Kind: trade.PartialRefund, Amount: 50_000},
		"dispute.resolution_accepted": map[string]any{}, "dispute.resolution_rejected": map[string]any{},
		"dispute.escalated": map[string]any{"dispute_id": "dsp_1"}, "dispute.decided": map[string]any{},
		"order.refunded": map[string]any{}, "order.price_reduced": map[string]any{}, "dispute.closed": map[string]any{},
		"order.shipped": map[string]any{}, "funds.released": map[string]any{}, "order.completed": map[string]any{},
		"order.late": map[string]any{}, "order.cancelled": map[string]any{}, "guarantee.paid": map[string]any{},
		"message.posted": map[string]any{},
	} {
		out = append(out, event(o, typ, p))
	}
	return out
}

// TestInspectorNeverToldOfMoney runs every event type on an order in every state: an
// inspection company is told only that an inspection was booked (R15), only of events it may
// read (trade.EventVisible), and never of an amount.
func TestInspectorNeverToldOfMoney(t *testing.T) {
	for _, st := range []trade.State{trade.ContractProposed, trade.Confirmed, trade.InProduction, trade.InspectionPassed,
		trade.InspectionFailed, trade.Disputed, trade.Late, trade.BalancePaid} {
		o := sampleOrder(st)
		o.Disputes = []trade.Dispute{{ID: "dsp_1", WindowEndsAt: t0.Add(15 * 24 * time.Hour),
			Proposals: []trade.Resolution{{ID: "res_1", Kind: trade.PartialRefund, Amount: 50_000, Status: "open"}}}}
		for _, ev := range everyEvent(o) {
			for _, n := range notify.For(ev, o, parties).Notices {
				if n.To.OrgID != "insp" {
					continue
				}
				if n.Kind != notify.InspectionBooked || !trade.EventVisible(ev.Type, trade.RoleInspector) ||
					strings.Contains(n.Body+n.Title, "USD") || len(n.To.Roles) != 1 || n.To.Roles[0] != trade.RoleInspector {
					t.Errorf("%s in %s: the inspection company gets %+v", ev.Type, st, n)
				}
			}
		}
	}
}

// TestProposalGoesToTheOtherParty: the party that did not propose confirms (R4), and a proposal
// that was confirmed or replaced before the notifier saw it asks nothing.
func TestProposalGoesToTheOtherParty(t *testing.T) {
	o := sampleOrder(trade.ContractProposed)
	for by, want := range map[string]string{"supplier": "buyer", "buyer": "supplier"} {
		p := notify.For(event(o, "contract.proposed", map[string]any{"hash": "h2", "by": by, "total": 780_000}), o, parties)
		if len(p.Notices) != 1 || p.Notices[0].To.OrgID != want || p.Notices[0].Kind != notify.ContractToConfirm ||
			p.Notices[0].Link != "/orders/"+o.ID || !strings.Contains(p.Notices[0].Body, "USD 7,800.00") {
			t.Errorf("proposed by %s: %+v", by, p.Notices)
		}
	}
	if p := notify.For(event(o, "contract.proposed", map[string]any{"hash": "old", "by": "supplier"}), o, parties); len(p.Notices) != 0 {
		t.Errorf("a replaced proposal: %+v", p.Notices)
	}
	o.Proposal = nil
	if p := notify.For(event(o, "amendment.proposed", map[string]any{"hash": "h2", "by": "supplier"}), o, parties); len(p.Notices) != 0 {
		t.Errorf("a confirmed proposal: %+v", p.Notices)
	}
}

// TestFailedInspectionTellsBothParties: R16, the buyer is notified and may file a dispute; the
// supplier learns of it too.
func TestFailedInspectionTellsBothParties(t *testing.T) {
	o := sampleOrder(trade.InspectionFailed)
	p := notify.For(event(o, "inspection.failed", trade.Report{}), o, parties)
	if len(p.Notices) != 2 || p.Notices[0].To.OrgID != "buyer" || p.Notices[1].To.OrgID != "supplier" ||
		!strings.Contains(p.Notices[0].Body, "File a dispute") {
		t.Fatalf("%+v", p.Notices)
	}
}

// TestDisputeFiledSetsTheWindowReminder: R17, the supplier answers, and a reminder is set
// ReminderLead before its window ends.
func TestDisputeFiledSetsTheWindowReminder(t *testing.T) {
	o := sampleOrder(trade.Disputed)
	x := trade.Dispute{ID: "dsp_9", Reason: "too light", WindowEndsAt: t0.Add(15 * 24 * time.Hour)}
	if p := notify.For(event(o, "dispute.filed", x), o, parties); len(p.Notices)+len(p.Reminders) != 0 {
		t.Fatalf("a dispute settled before the notifier saw it: %+v", p)
	}
	o.Disputes = []trade.Dispute{x}
	p := notify.For(event(o, "dispute.filed", x), o, parties)
	if len(p.Notices) != 1 || p.Notices[0].To.OrgID != "supplier" || p.Notices[0].Kind != notify.DisputeFiled {
		t.Fatalf("notices %+v", p.Notices)
	}
	if len(p.Reminders) != 1 || p.Reminders[0].Key != "dispute_window/dsp_9" || !p.Reminders[0].DueAt.Equal(x.WindowEndsAt.Add(-notify.ReminderLead)) {
		t.Fatalf("reminders %+v", p.Reminders)
	}
}

// TestShipByReminderApplies judges a due shipping-date reminder against the order as it is.
func TestShipByReminderApplies(t *testing.T) {
	base := sampleOrder(trade.InProduction)
	rm := notify.Reminder{Key: "k", Kind: notify.ShipByNear, OrderID: base.ID, Ref: base.ShipBy.Format(time.DateOnly),
		DueAt: base.Deadline().Add(-notify.ReminderLead)}
	for name, c := range map[string]struct {
		change  func(o *trade.Order)
		now     time.Time
		outcome string
		to      []string
	}{
		"in production":       {func(*trade.Order) {}, rm.DueAt, "sent", []string{"supplier"}},
		"balance still open":  {func(o *trade.Order) { o.State = trade.InspectionPassed }, rm.DueAt, "sent", []string{"supplier", "buyer"}},
		"date moved":          {func(o *trade.Order) { o.ShipBy = o.ShipBy.AddDate(0, 0, 7) }, rm.DueAt, "stale: the shipping date moved", nil},
		"shipped":             {func(o *trade.Order) { o.State = trade.Shipped }, rm.DueAt, "stale: the order is shipped", nil},
		"date passed already": {func(*trade.Order) {}, base.Deadline(), "stale: the shipping date has passed", nil},
	} {
		o := sampleOrder(trade.InProduction)
		c.change(o)
		ns, outcome := notify.Remind(rm, o, parties, c.now)
		var to []string
		for _, n := range ns {
			to = append(to, n.To.OrgID)
		}
		if outcome != c.outcome || strings.Join(to, ",") != strings.Join(c.to, ",") {
			t.Errorf("%s: %q to %v, want %q to %v", name, outcome, to, c.outcome, c.to)
		}
	}
}

// TestComposeKeepsHeadersOnOneLine: a title cannot add a header, non-ASCII is encoded, and the
// body carries the order's link.
func TestComposeKeepsHeadersOnOneLine(t *testing.T) {
	msg := notify.Compose(notify.Mail{From: mail.Address{Name: "tradeassure", Address: "n@ta.test"},
		To: mail.Address{Name: "Zoë", Address: "zoe@people.test"}, Subject: "Pay\r\nBcc: evil@x.test", Text: "Pay 200 g/m² now",
		Link: "https://ta.test/orders/ord_1", Inbox: "https://ta.test/notifications", Date: t0,
		MessageID: notify.MessageID(42, "n@ta.test")})
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" || m.Header.Get("Subject") != "Pay Bcc: evil@x.test" ||
		m.Header.Get("Message-ID") != "<notification-42@ta.test>" || !strings.Contains(m.Header.Get("To"), "=?utf-8?") {
		t.Fatalf("headers: %v", m.Header)
	}
	if !bytes.Contains(msg, []byte("https://ta.test/orders/ord_1")) {
		t.Fatalf("no link:\n%s", msg)
	}
}

// TestBackoffGrowsAndIsBounded: each wait is at least the one before and at most BackoffMax
// plus a tenth.
func TestBackoffGrowsAndIsBounded(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= notify.AttemptsMax+5; n++ {
		d := notify.Backoff(99, n)
		if d < notify.BackoffBase || d > notify.BackoffMax+notify.BackoffMax/10 || d+d/10 < prev {
			t.Fatalf("attempt %d: %s after %s", n, d, prev)
		}
		prev = d
	}
}
