package notify

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Parties are the names of an order's buyer and supplier, for the text of a notice.
type Parties struct {
	Buyer    string
	Supplier string
}

// For is what an event of an order asks for: who must act, and which reminders to set. It
// reads the event and the order as it is when the event is handled (normally within a second
// of the event): a request the order no longer needs — a proposal already confirmed or
// replaced, a payment already made, an offer already answered — is not sent. An inspection
// company is told only of events it may read (trade.EventVisible), and never of money.
func For(ev escrow.Event, o *trade.Order, p Parties) Plan {
	if o == nil || ev.Stream != o.ID {
		return Plan{} // not this order's event: ForSubject judges the others
	}
	r := rules{ev: ev, o: o, p: p}
	if rule, ok := eventRules[ev.Type]; ok {
		rule(&r)
	}
	return r.plan(ev.Type)
}

// rules builds one event's plan.
type rules struct {
	ev      escrow.Event
	o       *trade.Order
	p       Parties
	notices []Notice
	remind  []Reminder
}

// eventRules are the events that ask someone to act, by type.
var eventRules = map[string]func(*rules){
	"contract.proposed":           func(r *rules) { r.proposed(ContractToConfirm, "contract") },
	"amendment.proposed":          func(r *rules) { r.proposed(AmendmentToConfirm, "amendment") },
	"contract.confirmed":          (*rules).confirmed,
	"amendment.confirmed":         (*rules).amended,
	"inspection.booked":           (*rules).booked,
	"inspection.passed":           (*rules).balanceDue,
	"goods.accepted":              (*rules).balanceDue,
	"payment.expired":             (*rules).expired,
	"inspection.failed":           (*rules).failed,
	"dispute.filed":               (*rules).disputeFiled,
	"dispute.resolution_proposed": (*rules).offered,
	"dispute.escalated":           (*rules).escalated,
	"order.late":                  (*rules).late,
}

func (r *rules) payload(v any) bool { return json.Unmarshal(r.ev.Payload, v) == nil }

func (r *rules) tell(k Kind, org string, role trade.Role, title, body string) {
	r.notices = append(r.notices, Notice{Kind: k, To: Recipient{OrgID: org, Roles: []trade.Role{role}},
		OrderID: r.o.ID, Title: clip(title, TitleMax), Body: clip(body, BodyMax), Link: OrderLink(r.o.ID)})
}

func (r *rules) buyer(k Kind, title, body string) {
	r.tell(k, r.o.BuyerID, trade.RoleBuyer, title, body)
}
func (r *rules) supplier(k Kind, title, body string) {
	r.tell(k, r.o.SupplierID, trade.RoleSupplier, title, body)
}

// plan drops what an inspection company may not read (a guard: no rule above asks for it).
func (r *rules) plan(typ string) Plan {
	out := Plan{Reminders: r.remind}
	for _, n := range r.notices {
		if r.o.Inspection != nil && n.To.OrgID == r.o.Inspection.InspectorID && !trade.EventVisible(typ, trade.RoleInspector) {
			continue
		}
		out.Notices = append(out.Notices, n)
	}
	return out
}

// OrderLink is an order's page in the portal.
func OrderLink(orderID string) string { return "/orders/" + orderID }

func (r *rules) amount(minor int64) string { return money.New(minor, r.o.Currency).Display() }

func (r *rules) ref() string { return ShortRef(r.o.ID) }

// ShortRef is the part of an order ID people read: its last 8 characters.
func ShortRef(id string) string {
	if len(id) > 8 {
		return id[len(id)-8:]
	}
	return id
}

// proposed: the party that did not propose must confirm, while the proposal is still open (R4).
func (r *rules) proposed(k Kind, what string) {
	var pl struct {
		Hash  string `json:"hash"`
		By    string `json:"by"`
		Total int64  `json:"total"`
	}
	if !r.payload(&pl) || r.o.Proposal == nil || r.o.Proposal.Hash != pl.Hash {
		return // confirmed or replaced since
	}
	title := fmt.Sprintf("Confirm the %s of order %s", what, r.ref())
	switch pl.By {
	case r.o.SupplierID:
		r.buyer(k, title, fmt.Sprintf("%s proposed the %s of order %s, total %s, to ship by %s. Review it and confirm it, or propose changes.",
			r.p.Supplier, what, r.ref(), r.amount(pl.Total), r.o.Proposal.Contract.ShipBy.Format(time.DateOnly)))
	case r.o.BuyerID:
		r.supplier(k, title, fmt.Sprintf("%s proposed the %s of order %s, total %s, to ship by %s. Review it and confirm it, or propose changes.",
			r.p.Buyer, what, r.ref(), r.amount(pl.Total), r.o.Proposal.Contract.ShipBy.Format(time.DateOnly)))
	}
}

// confirmed: the buyer sends the initial payment (R6); the shipping date gets its reminder.
func (r *rules) confirmed() {
	var pl struct {
		Initial int64 `json:"initial"`
	}
	if r.payload(&pl) && r.o.State == trade.Confirmed && pl.Initial > 0 {
		r.buyer(PaymentDue, fmt.Sprintf("Send the initial payment for order %s", r.ref()),
			fmt.Sprintf("The contract of order %s is confirmed. Send the initial payment of %s so that %s can start production; "+
				"the order is cancelled if nothing is paid by the shipping date %s.",
				r.ref(), r.amount(pl.Initial), r.p.Supplier, r.o.ShipBy.Format(time.DateOnly)))
	}
	r.shipByReminder()
}

// amended: a confirmed amendment may move the shipping date, which gets a new reminder.
func (r *rules) amended() { r.shipByReminder() }

func (r *rules) shipByReminder() {
	if r.o.ShipBy.IsZero() || r.o.State.Terminal() || r.o.Shipment != nil {
		return
	}
	date := r.o.ShipBy.Format(time.DateOnly)
	r.remind = append(r.remind, Reminder{Key: "ship_by/" + r.o.ID + "/" + date, Kind: ShipByNear, OrderID: r.o.ID,
		Ref: date, DueAt: r.o.Deadline().Add(-ReminderLead)})
}

// booked: the inspection company has a batch to inspect (R15). No money in the text.
func (r *rules) booked() {
	var pl struct {
		InspectorID string `json:"inspector_id"`
	}
	if !r.payload(&pl) || r.o.Inspection == nil || r.o.Inspection.InspectorID != pl.InspectorID || pl.InspectorID == "" {
		return // rebooked with another company since
	}
	r.tell(InspectionBooked, pl.InspectorID, trade.RoleInspector, fmt.Sprintf("Inspection booked for order %s", r.ref()),
		fmt.Sprintf("%s booked a pre-shipment inspection of order %s from %s. Inspect the batch and submit your report before the shipping date.",
			r.p.Buyer, r.ref(), r.p.Supplier))
}

// balanceDue: once the goods passed (or the buyer accepted them), the buyer pays the balance
// before the supplier can ship.
func (r *rules) balanceDue() {
	if r.o.State != trade.InspectionPassed || r.o.Outstanding() <= 0 {
		return
	}
	r.buyer(PaymentDue, fmt.Sprintf("Pay the balance of order %s", r.ref()),
		fmt.Sprintf("The goods of order %s are cleared to ship. Pay the balance of %s: %s ships once it has arrived.",
			r.ref(), r.amount(r.o.Outstanding()), r.p.Supplier))
}

// expired: payment instructions lapsed unpaid; the buyer issues new ones while it is still due.
func (r *rules) expired() {
	var pl struct {
		Installment trade.Installment `json:"installment"`
	}
	if !r.payload(&pl) || r.o.State.Terminal() || r.o.Outstanding() <= 0 {
		return
	}
	if pl.Installment == trade.Initial && r.o.State != trade.Confirmed {
		return
	}
	r.buyer(PaymentDue, fmt.Sprintf("Payment instructions expired for order %s", r.ref()),
		fmt.Sprintf("The instructions for the %s payment of order %s expired before the money arrived. Start the payment again from the order.",
			pl.Installment, r.ref()))
}

// failed: the batch was rejected (R16): the buyer may dispute or accept, the supplier is told.
func (r *rules) failed() {
	r.buyer(InspectionFailed, fmt.Sprintf("Inspection failed for order %s", r.ref()),
		fmt.Sprintf("The inspection rejected the batch of order %s. File a dispute to be refunded or to have the goods reworked, or accept the goods as they are.", r.ref()))
	r.supplier(InspectionFailed, fmt.Sprintf("Inspection failed for order %s", r.ref()),
		fmt.Sprintf("The inspection rejected the batch of order %s. %s may file a dispute; talk to them in the order's messages.", r.ref(), r.p.Buyer))
}

// disputeFiled: the supplier has the dispute window to settle (R17), while the dispute is
// open; the window gets a reminder.
func (r *rules) disputeFiled() {
	var x trade.Dispute
	if open := r.o.OpenDispute(); !r.payload(&x) || x.ID == "" || open == nil || open.ID != x.ID {
		return // settled since
	}
	r.supplier(DisputeFiled, fmt.Sprintf("Dispute filed on order %s", r.ref()),
		fmt.Sprintf("%s filed a dispute on order %s: %q. Offer a full or partial refund or rework by %s; after that the platform decides.",
			r.p.Buyer, r.ref(), x.Reason, x.WindowEndsAt.Format("2006-01-02 15:04 MST")))
	r.remind = append(r.remind, Reminder{Key: "dispute_window/" + x.ID, Kind: DisputeWindowNear, OrderID: r.o.ID,
		Ref: x.ID, DueAt: x.WindowEndsAt.Add(-ReminderLead)})
}

// offered: the buyer accepts or rejects the supplier's offer while it is open (R17).
func (r *rules) offered() {
	var res trade.Resolution
	x := r.o.OpenDispute()
	if !r.payload(&res) || x == nil || x.EscalatedAt != nil {
		return
	}
	open := false
	for _, p := range x.Proposals {
		open = open || p.ID == res.ID && p.Status == "open"
	}
	if !open {
		return
	}
	offer := map[trade.ResolutionKind]string{trade.FullRefund: "a full refund", trade.Rework: "rework and a new inspection",
		trade.PartialRefund: "a partial refund of " + r.amount(res.Amount)}[res.Kind]
	r.buyer(ResolutionProposed, fmt.Sprintf("Answer the offer on order %s", r.ref()),
		fmt.Sprintf("%s offers %s to settle the dispute on order %s. Accept or reject it.", r.p.Supplier, offer, r.ref()))
}

// escalated: an arbiter of the platform decides (R18).
func (r *rules) escalated() {
	if r.o.State != trade.Escalated {
		return // decided since
	}
	r.tell(DisputeEscalated, ledger.Platform, trade.RoleArbiter, fmt.Sprintf("Dispute to decide on order %s", r.ref()),
		fmt.Sprintf("The dispute between %s and %s on order %s was escalated. Compare the contract with the inspection report and decide.",
			r.p.Buyer, r.p.Supplier, r.ref()))
}

// late: the shipping date passed unshipped (R13): a new date by amendment, or a refund.
func (r *rules) late() {
	if r.o.State != trade.Late {
		return
	}
	date := r.o.ShipBy.Format(time.DateOnly)
	r.buyer(OrderLate, fmt.Sprintf("Order %s did not ship by %s", r.ref(), date),
		fmt.Sprintf("%s did not ship order %s by %s. Take a full refund, or agree a new shipping date by confirming an amendment.",
			r.p.Supplier, r.ref(), date))
	r.supplier(OrderLate, fmt.Sprintf("Order %s did not ship by %s", r.ref(), date),
		fmt.Sprintf("Order %s did not ship by %s. Propose an amendment with a new date; %s may take a full refund instead.",
			r.ref(), date, r.p.Buyer))
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
