package trade_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// actorFor is the actor of the order's own organizations (or the platform) acting as r.
func actorFor(r trade.Role) trade.Actor {
	switch r {
	case trade.RoleBuyer:
		return buyer
	case trade.RoleSupplier:
		return supplier
	case trade.RoleInspector:
		return inspector
	case trade.RoleArbiter:
		return arbiter
	case trade.RoleAdmin:
		return admin
	}
	return system
}

var allRoles = []trade.Role{trade.RoleBuyer, trade.RoleSupplier, trade.RoleInspector, trade.RoleArbiter, trade.RoleAdmin, trade.RoleSystem}

// representative returns a well-formed command for ev on k's order and the actor who normally
// issues it. With setup, it first issues what the command needs to be able to succeed (an open
// proposal to confirm or accept, payment instructions for money to arrive on) and moves the
// clock where a timer would fire; setup commands are issued only where the table allows them.
func representative(k *kit, ev trade.Event, setup bool) (trade.Actor, trade.Command) {
	k.t.Helper()
	o := k.o
	allowed := func(e trade.Event) bool { _, ok := trade.Lookup(o.State, e); return setup && ok }
	switch ev {
	case trade.EvProposeContract:
		return supplier, trade.ProposeContract{Contract: validContract(k.now)}
	case trade.EvConfirmContract:
		hash := ""
		if o.Proposal != nil {
			hash = o.Proposal.Hash
		}
		return buyer, trade.ConfirmContract{Hash: hash}
	case trade.EvProposeAmendment, trade.EvConfirmAmendment:
		c := validContract(k.now)
		if o.Contract() != nil {
			c = o.Contract().Contract
		}
		c.ShipBy = trade.Day(k.now).AddDate(0, 0, 30)
		if ev == trade.EvProposeAmendment {
			return supplier, trade.ProposeAmendment{Contract: c}
		}
		if allowed(trade.EvProposeAmendment) {
			k.do(supplier, trade.ProposeAmendment{Contract: c})
		}
		hash := ""
		if o := k.o; o.Proposal != nil {
			hash = o.Proposal.Hash
		}
		return buyer, trade.ConfirmAmendment{Hash: hash}
	case trade.EvBookInspection:
		return buyer, trade.BookInspection{InspectorID: inspectorOrgID}
	case trade.EvPay:
		if o.State == trade.Confirmed {
			return buyer, trade.Pay{Installment: trade.Initial, Method: payment.TTWire}
		}
		return buyer, trade.Pay{Installment: trade.Balance, Method: payment.TTWire}
	case trade.EvReceivePayment, trade.EvExpirePayment:
		if allowed(trade.EvPay) && !hasPending(o) {
			_, pay := representative(k, trade.EvPay, false)
			if _, err := k.try(buyer, pay); err != nil {
				k.t.Logf("setup %T in %s: %v", pay, k.o.State, err)
			}
		}
		p := trade.Payment{ID: "pay_unknown", Total: 1, Method: payment.TTWire}
		if n := len(k.o.Payments); n > 0 {
			p = k.o.Payments[n-1]
		}
		if ev == trade.EvExpirePayment {
			if setup && p.Status == trade.PaymentPending {
				k.now = p.ExpiresAt
			}
			return system, trade.ExpirePayment{PaymentID: p.ID}
		}
		return system, trade.ReceivePayment{PaymentID: p.ID, Amount: money.New(p.Total, usd), Source: trade.RailAccount(p.Method, usd)}
	case trade.EvPassInspection:
		return inspector, report(true)
	case trade.EvFailInspection:
		return inspector, report(false)
	case trade.EvAcceptGoods:
		return buyer, trade.AcceptGoods{Note: "we will sell them as seconds"}
	case trade.EvFileDispute:
		return buyer, trade.FileDispute{Reason: "zippers are not YKK", Requirements: []string{"Zipper"}}
	case trade.EvProposeResolution:
		return supplier, trade.ProposeResolution{Kind: trade.PartialRefund, Amount: 1_000_00, Note: "discount"}
	case trade.EvAcceptResolution, trade.EvRejectResolution:
		if allowed(trade.EvProposeResolution) {
			k.do(supplier, trade.ProposeResolution{Kind: trade.PartialRefund, Amount: 1_000_00, Note: "discount"})
		}
		id := "res_unknown"
		if x := k.o.OpenDispute(); x != nil && len(x.Proposals) > 0 {
			id = x.Proposals[len(x.Proposals)-1].ID
		}
		if ev == trade.EvAcceptResolution {
			return buyer, trade.AcceptResolution{ProposalID: id}
		}
		return buyer, trade.RejectResolution{ProposalID: id, Note: "not enough"}
	case trade.EvEscalate:
		id := "dsp_unknown"
		if x := o.OpenDispute(); x != nil {
			id = x.ID
		}
		return buyer, trade.Escalate{DisputeID: id, Note: "please decide"}
	case trade.EvDecide:
		return arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "the goods meet the contract",
			Refusals: []trade.Refusal{trade.RefusalGoodsCompliant}}
	case trade.EvShip:
		return supplier, trade.Ship{ShippedOn: trade.Day(k.now), Carrier: "Maersk", Tracking: "MAEU1234567"}
	case trade.EvRelease:
		return system, trade.Release{}
	case trade.EvComplete:
		return buyer, trade.Complete{}
	case trade.EvDeadlinePassed:
		if setup {
			k.now = o.Deadline()
		}
		return system, trade.DeadlinePassed{Deadline: o.Deadline()}
	case trade.EvRefund:
		return buyer, trade.Refund{}
	case trade.EvCancel:
		return buyer, trade.Cancel{Reason: "changed plans"}
	}
	k.t.Fatalf("no representative command for %s", ev)
	return trade.Actor{}, nil
}

func hasPending(o *trade.Order) bool {
	return slices.ContainsFunc(o.Payments, func(p trade.Payment) bool { return p.Status == trade.PaymentPending })
}

// refusedBy lists, for the pairs of the table whose representative command cannot succeed on
// the fixture's order, the guard it runs into. Every other pair of the table must succeed.
var refusedBy = map[string]string{
	"draft/receive_payment":             "payment_not_found",   // no payment can exist before confirmation
	"contract_proposed/receive_payment": "payment_not_found",   // idem
	"in_production/pay":                 "inspection_pending",  // the balance waits for the booked inspection
	"in_production/ship":                "inspection_pending",  // idem
	"inspection_passed/ship":            "balance_unpaid",      // the balance has not arrived
	"inspection_passed/deadline_passed": "balance_unpaid",      // the buyer, not the supplier, is late
	"draft/expire_payment":              "payment_not_pending", // nothing to expire
	"contract_proposed/expire_payment":  "payment_not_pending", // idem
	"in_production/expire_payment":      "payment_not_pending", // the initial payment arrived
	"inspection_failed/expire_payment":  "payment_not_pending", // idem
	"disputed/expire_payment":           "payment_not_pending", // idem
	"escalated/expire_payment":          "payment_not_pending", // idem
	"balance_paid/expire_payment":       "payment_not_pending", // the balance arrived
	"shipped/expire_payment":            "payment_not_pending", // idem
	"released/expire_payment":           "payment_not_pending", // idem
	"completed/expire_payment":          "payment_not_pending", // idem
	"late/expire_payment":               "payment_not_pending", // the initial payment arrived
	"refunded/expire_payment":           "payment_not_pending", // idem
	"cancelled/expire_payment":          "payment_not_pending", // cancelling expired the instructions
}

// TestTableEveryPair ensures every (state, event) pair is decided by the lifecycle table:
// a pair absent from trade.Table is refused with transition_not_allowed whatever the command
// holds, and a pair present in it, issued by an allowed actor, either lands in one of the row's
// To states or stops at a guard of the command's own rules (listed in refusedBy) — never at the
// table. R4 R6 R12 R13 R16 R17 R18.
func TestTableEveryPair(t *testing.T) {
	for _, s := range trade.States {
		for _, ev := range trade.Events {
			name := string(s) + "/" + string(ev)
			t.Run(name, func(t *testing.T) {
				k := orderIn(t, s)
				row, present := trade.Lookup(s, ev)
				a, cmd := representative(k, ev, present)
				if cmd.Event() != ev {
					t.Fatalf("representative %T is %s, not %s", cmd, cmd.Event(), ev)
				}
				if k.o.State != s {
					t.Fatalf("setup moved the order to %s", k.o.State)
				}
				_, err := k.try(a, cmd)
				if !present {
					if fault.ReasonOf(err) != "transition_not_allowed" || fault.CodeOf(err) != fault.Conflict {
						t.Fatalf("%s is not in the table: got %v, want conflict transition_not_allowed", name, err)
					}
					return
				}
				if !row.Allows(a.Role) {
					t.Fatalf("representative actor %s is not allowed by the row %v", a.Role, row.Actors)
				}
				want := refusedBy[name]
				if err != nil {
					if got := fault.ReasonOf(err); got == "transition_not_allowed" || got != want {
						t.Fatalf("%s by %s: got %v, want guard %q", name, a.Role, err, want)
					}
					return
				}
				if want != "" {
					t.Fatalf("%s succeeded, want guard %s", name, want)
				}
				if !slices.Contains(row.To, k.o.State) {
					t.Fatalf("%s led to %s, not one of %v", name, k.o.State, row.To)
				}
			})
		}
	}
}

// TestTableRoles ensures each row admits only its actors: every other role of the order's own
// organizations is refused with role_not_allowed (order_not_found where the role cannot see
// the order, i.e. an inspector who is not the booked one), and a buyer, supplier or inspector
// of another organization is told the order does not exist. R1 R12 R18 R23.
func TestTableRoles(t *testing.T) {
	orders := map[trade.State]*kit{}
	for _, row := range trade.Table {
		if orders[row.From] == nil {
			orders[row.From] = orderIn(t, row.From)
		}
		base := orders[row.From]
		name := string(row.From) + "/" + string(row.On)
		t.Run(name, func(t *testing.T) {
			k := &kit{t: t, now: base.now, cfg: base.cfg, supplier: base.supplier, o: base.o.Clone(), bal: clone(base.bal), ids: map[string]bool{}}
			_, cmd := representative(k, row.On, false)
			type probe struct {
				a    trade.Actor
				want string
			}
			var probes []probe
			for _, r := range allRoles {
				if row.Allows(r) {
					continue
				}
				a := actorFor(r)
				want := "role_not_allowed"
				if !k.o.Visible(a) {
					want = "order_not_found"
				}
				probes = append(probes, probe{a, want})
			}
			for _, a := range []trade.Actor{otherBuyer, otherSupplier, otherInspector} {
				probes = append(probes, probe{a, "order_not_found"})
			}
			for _, p := range probes {
				_, err := k.try(p.a, cmd)
				if got := fault.ReasonOf(err); got != p.want {
					t.Errorf("%s (%s) issuing %s: got %v, want %s", p.a.Role, p.a.OrgID, row.On, err, p.want)
				}
				wantCode := fault.Forbidden
				if p.want == "order_not_found" {
					wantCode = fault.NotFound
				}
				if fault.CodeOf(err) != wantCode {
					t.Errorf("%s (%s): code %s, want %s", p.a.Role, p.a.OrgID, fault.CodeOf(err), wantCode)
				}
			}
		})
	}
}

func clone[M ~map[K]V, K comparable, V any](m M) M {
	c := make(M, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestVisibility ensures an order is visible to its own buyer and supplier, to the booked
// inspector only, and to platform staff and the system; an inspector is visible only once
// booked. R15 R23.
func TestVisibility(t *testing.T) {
	draft := newKit(t, t0)
	draft.place(nil)
	booked := orderIn(t, trade.Draft)
	tests := []struct {
		name string
		k    *kit
		a    trade.Actor
		want bool
	}{
		{"buyer", booked, buyer, true},
		{"supplier", booked, supplier, true},
		{"booked inspector", booked, inspector, true},
		{"inspector before booking", draft, inspector, false},
		{"another inspector", booked, otherInspector, false},
		{"arbiter", booked, arbiter, true},
		{"admin", booked, admin, true},
		{"system", booked, system, true},
		{"another buyer", booked, otherBuyer, false},
		{"another supplier", booked, otherSupplier, false},
		{"buyer acting as supplier", booked, trade.Actor{Role: trade.RoleSupplier, OrgID: buyerOrgID}, false},
		{"unknown role", booked, trade.Actor{Role: "guest", OrgID: buyerOrgID}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.k.o.Visible(tc.a); got != tc.want {
				t.Errorf("Visible(%v) = %v, want %v", tc.a, got, tc.want)
			}
		})
	}
}

// TestTableShape ensures the table is well formed: every state and event it names is listed,
// no pair appears twice, every row has actors and targets, terminal states are left only by
// the return of stray money and the expiry of instructions, and every non-terminal state can
// be left. R12 R13 R21.
func TestTableShape(t *testing.T) {
	seen := map[string]bool{}
	leaves := map[trade.State]bool{}
	for _, row := range trade.Table {
		key := string(row.From) + "/" + string(row.On)
		if seen[key] {
			t.Errorf("%s appears twice", key)
		}
		seen[key] = true
		if !slices.Contains(trade.States, row.From) || !slices.Contains(trade.Events, row.On) {
			t.Errorf("%s names an unknown state or event", key)
		}
		if len(row.Actors) == 0 || len(row.To) == 0 {
			t.Errorf("%s has no actors or no targets", key)
		}
		for _, s := range row.To {
			if !slices.Contains(trade.States, s) {
				t.Errorf("%s leads to unknown state %s", key, s)
			}
			if s != row.From {
				leaves[row.From] = true
			}
		}
		if row.From.Terminal() && (row.On != trade.EvReceivePayment && row.On != trade.EvExpirePayment || !slices.Equal(row.To, []trade.State{row.From})) {
			t.Errorf("terminal %s has row %s → %v", row.From, row.On, row.To)
		}
	}
	for _, s := range trade.States {
		if !s.Terminal() && !leaves[s] {
			t.Errorf("non-terminal %s cannot be left", s)
		}
	}
}

// TestMermaid ensures the diagram derived from the table shows every transition that changes
// the state, and every terminal state. R12 R13 R17.
func TestMermaid(t *testing.T) {
	m := trade.Mermaid()
	if !strings.HasPrefix(m, "stateDiagram-v2\n") {
		t.Fatalf("Mermaid() does not start with stateDiagram-v2:\n%s", m)
	}
	for _, row := range trade.Table {
		for _, s := range row.To {
			line := fmt.Sprintf("%s --> %s: %s\n", row.From, s, row.On)
			if s == row.From {
				if strings.Contains(m, line) {
					t.Errorf("self-loop %q is drawn", line)
				}
				continue
			}
			if !strings.Contains(m, line) {
				t.Errorf("Mermaid() lacks %q", line)
			}
		}
	}
	for _, s := range trade.States {
		if s.Terminal() && !strings.Contains(m, string(s)+" --> [*]") {
			t.Errorf("Mermaid() lacks the end of %s", s)
		}
	}
}
