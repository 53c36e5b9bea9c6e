package trade

import (
	"fmt"
	"slices"
	"strings"
)

// State is where an order is in its lifecycle.
type State string

// The states. Terminal states: completed, refunded, cancelled.
const (
	Draft            State = "draft"             // placed at checkout; the contract is being drafted
	ContractProposed State = "contract_proposed" // one party proposed the contract; the other must confirm
	Confirmed        State = "confirmed"         // contract frozen; awaiting the initial payment
	InProduction     State = "in_production"     // initial payment received
	InspectionPassed State = "inspection_passed" // the inspector accepted the batch (or the buyer accepted the goods)
	InspectionFailed State = "inspection_failed" // the inspector rejected the batch (R16)
	Disputed         State = "disputed"          // dispute open; the supplier's window runs (R17)
	Escalated        State = "escalated"         // the arbiter decides (R18)
	BalancePaid      State = "balance_paid"      // everything paid; ready to ship
	Shipped          State = "shipped"           // shipped on or before the shipping date
	Released         State = "released"          // escrow released to the supplier (R12)
	Completed        State = "completed"
	Late             State = "late" // the shipping date passed unshipped (R13)
	Refunded         State = "refunded"
	Cancelled        State = "cancelled"
)

// States lists every state in lifecycle order.
var States = []State{Draft, ContractProposed, Confirmed, InProduction, InspectionPassed, InspectionFailed,
	Disputed, Escalated, BalancePaid, Shipped, Released, Completed, Late, Refunded, Cancelled}

// Terminal reports whether no transition leaves s (except the return of stray money).
func (s State) Terminal() bool { return s == Completed || s == Refunded || s == Cancelled }

// Event is what happens to an order: one verb per transition, used in the API, the UI and docs.
type Event string

// The events.
const (
	EvProposeContract   Event = "propose_contract"
	EvConfirmContract   Event = "confirm_contract"
	EvProposeAmendment  Event = "propose_amendment"
	EvConfirmAmendment  Event = "confirm_amendment"
	EvBookInspection    Event = "book_inspection"
	EvPay               Event = "pay"             // issue payment instructions for an installment
	EvReceivePayment    Event = "receive_payment" // the rail confirms the money arrived
	EvExpirePayment     Event = "expire_payment"
	EvPassInspection    Event = "pass_inspection"
	EvFailInspection    Event = "fail_inspection"
	EvAcceptGoods       Event = "accept_goods" // the buyer accepts a rejected batch as it is
	EvFileDispute       Event = "file_dispute"
	EvProposeResolution Event = "propose_resolution"
	EvAcceptResolution  Event = "accept_resolution"
	EvRejectResolution  Event = "reject_resolution"
	EvEscalate          Event = "escalate"
	EvDecide            Event = "decide"
	EvShip              Event = "ship"
	EvRelease           Event = "release"
	EvComplete          Event = "complete"
	EvDeadlinePassed    Event = "deadline_passed"
	EvRefund            Event = "refund" // the buyer takes a refund of a late order (R13)
	EvCancel            Event = "cancel"
)

// Events lists every event.
var Events = []Event{EvProposeContract, EvConfirmContract, EvProposeAmendment, EvConfirmAmendment,
	EvBookInspection, EvPay, EvReceivePayment, EvExpirePayment, EvPassInspection, EvFailInspection,
	EvAcceptGoods, EvFileDispute, EvProposeResolution, EvAcceptResolution, EvRejectResolution, EvEscalate,
	EvDecide, EvShip, EvRelease, EvComplete, EvDeadlinePassed, EvRefund, EvCancel}

// Transition is one row of the lifecycle table: in state From, event On may be issued by one of
// Actors and leads to one of To. Where To has several states the command's data picks one.
type Transition struct {
	From   State
	On     Event
	To     []State
	Actors []Role
}

var (
	parties   = []Role{RoleBuyer, RoleSupplier}
	buyer     = []Role{RoleBuyer}
	supplier  = []Role{RoleSupplier}
	inspector = []Role{RoleInspector}
	system    = []Role{RoleSystem}
)

func to(s ...State) []State { return s }

// preShipment are the states in which the contract can be amended and money may still arrive.
var amendable = []State{Confirmed, InProduction, InspectionPassed, InspectionFailed, BalancePaid}

// Table is the lifecycle: every allowed (state, event) pair. Anything absent is refused.
var Table = buildTable()

func buildTable() []Transition {
	t := []Transition{
		{Draft, EvProposeContract, to(ContractProposed), parties},
		{ContractProposed, EvProposeContract, to(ContractProposed), parties},
		{ContractProposed, EvConfirmContract, to(Confirmed), parties},

		{Draft, EvBookInspection, to(Draft), buyer},
		{ContractProposed, EvBookInspection, to(ContractProposed), buyer},
		{Confirmed, EvBookInspection, to(Confirmed), buyer},
		{InProduction, EvBookInspection, to(InProduction), buyer},

		{Confirmed, EvPay, to(Confirmed), buyer},
		{InProduction, EvPay, to(InProduction), buyer},
		{InspectionPassed, EvPay, to(InspectionPassed), buyer},

		{Confirmed, EvReceivePayment, to(Confirmed, InProduction), system},
		{InProduction, EvReceivePayment, to(InProduction, BalancePaid), system},
		{InspectionPassed, EvReceivePayment, to(InspectionPassed, BalancePaid), system},

		{InProduction, EvPassInspection, to(InspectionPassed), inspector},
		{InProduction, EvFailInspection, to(InspectionFailed), inspector},
		{InspectionFailed, EvAcceptGoods, to(InspectionPassed), buyer},
		{InspectionFailed, EvFileDispute, to(Disputed), buyer},
		{Released, EvFileDispute, to(Disputed), buyer},

		{Disputed, EvProposeResolution, to(Disputed), supplier},
		{Disputed, EvAcceptResolution, to(Refunded, InspectionPassed, InProduction, Released), buyer},
		{Disputed, EvRejectResolution, to(Disputed), buyer},
		{Disputed, EvEscalate, to(Escalated), []Role{RoleBuyer, RoleSupplier, RoleSystem}},
		{Escalated, EvDecide, to(Refunded, InspectionPassed, Released), []Role{RoleArbiter}},

		{InProduction, EvShip, to(Shipped), supplier},
		{InspectionPassed, EvShip, to(Shipped), supplier},
		{BalancePaid, EvShip, to(Shipped), supplier},
		{Shipped, EvRelease, to(Released), []Role{RoleSystem, RoleAdmin}},
		{Released, EvComplete, to(Completed), []Role{RoleBuyer, RoleSystem}},

		{Confirmed, EvDeadlinePassed, to(Cancelled), system},
		{InProduction, EvDeadlinePassed, to(Late), system},
		{InspectionPassed, EvDeadlinePassed, to(Late), system},
		{InspectionFailed, EvDeadlinePassed, to(Late), system},
		{BalancePaid, EvDeadlinePassed, to(Late), system},
		{Late, EvRefund, to(Refunded), buyer},

		{Draft, EvCancel, to(Cancelled), parties},
		{ContractProposed, EvCancel, to(Cancelled), parties},
		{Confirmed, EvCancel, to(Cancelled), parties},
	}
	for _, s := range amendable {
		t = append(t, Transition{s, EvProposeAmendment, to(s), parties})
		if s != BalancePaid {
			t = append(t, Transition{s, EvConfirmAmendment, to(s), parties})
		}
	}
	// A higher total after the balance was paid sends the order back to await the difference.
	t = append(t, Transition{BalancePaid, EvConfirmAmendment, to(BalancePaid, InspectionPassed, InProduction), parties})
	t = append(t,
		Transition{Late, EvProposeAmendment, to(Late), parties},
		// A late order was paid (an unpaid one is cancelled at the deadline), so it resumes in production or later.
		Transition{Late, EvConfirmAmendment, to(InProduction, InspectionPassed, InspectionFailed, BalancePaid), parties},
		Transition{Late, EvReceivePayment, to(Late), system},
		Transition{InspectionFailed, EvReceivePayment, to(InspectionFailed), system},
		Transition{Disputed, EvReceivePayment, to(Disputed), system},
		Transition{Escalated, EvReceivePayment, to(Escalated), system},
	)
	// Money can arrive after its order moved on: it is returned to the buyer, never lost.
	for _, s := range []State{Draft, ContractProposed, BalancePaid, Shipped, Released, Completed, Refunded, Cancelled} {
		t = append(t, Transition{s, EvReceivePayment, to(s), system})
	}
	// Payment instructions expire whatever the order's state.
	for _, s := range States {
		t = append(t, Transition{s, EvExpirePayment, to(s), system})
	}
	return t
}

// Lookup returns the row for (s, e), if the table has one.
func Lookup(s State, e Event) (Transition, bool) {
	for _, t := range Table {
		if t.From == s && t.On == e {
			return t, true
		}
	}
	return Transition{}, false
}

// RolesFor lists the roles that may issue e in some state.
func RolesFor(e Event) []Role {
	var out []Role
	for _, t := range Table {
		if t.On != e {
			continue
		}
		for _, r := range t.Actors {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// Allows reports whether role may issue e in s.
func (t Transition) Allows(r Role) bool { return slices.Contains(t.Actors, r) }

// Mermaid renders the table as a Mermaid state diagram; docs/architecture.md embeds its output.
// Self-loops on bookkeeping events (payments, expiries, bookings) are left out for legibility.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n    [*] --> draft: place\n")
	seen := map[string]bool{}
	for _, t := range Table {
		for _, s := range t.To {
			if s == t.From {
				continue
			}
			line := fmt.Sprintf("    %s --> %s: %s\n", t.From, s, t.On)
			if !seen[line] {
				seen[line] = true
				b.WriteString(line)
			}
		}
	}
	for _, s := range States {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}
