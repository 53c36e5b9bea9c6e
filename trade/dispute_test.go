package trade_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// disputeCase says how the order of a dispute got there.
type disputeCase struct {
	bookInProduction  bool     // the inspection was booked only once production started: R19(b)
	afterRelease      bool     // the goods passed, shipped and were released before the dispute: R19(c)
	requirements      []string // what the buyer disputes: R19(a) when the contract does not specify it
	foundAfterArrival bool     // R19(c)
	limit             int64    // the supplier's coverage limit; 0 means the fixture's
	unclear           []string // what the platform's specification check found unenforceable (R5)
	standard          string   // "pass" or "fail": the failed report's industry-standard verdict (R5)
}

// disputed returns a kit whose order has an open dispute filed as dc says. The initial payment
// (and, after a release, the balance) was paid by T/T.
func disputed(t testing.TB, dc disputeCase) *kit {
	t.Helper()
	k := newKit(t, t0)
	if dc.limit > 0 {
		if err := k.supplier.SetCoverageLimit(money.New(dc.limit, usd)); err != nil {
			t.Fatal(err)
		}
	}
	k.place(nil)
	book := func() { k.do(buyer, trade.BookInspection{InspectorID: inspectorOrgID}) }
	if !dc.bookInProduction {
		book()
	}
	var lint *trade.SpecCheck
	if dc.unclear != nil {
		lint = &trade.SpecCheck{Unclear: dc.unclear, Findings: json.RawMessage(`[]`)}
	}
	k.do(supplier, trade.ProposeContract{Contract: validContract(k.now), Lint: lint})
	k.do(buyer, trade.ConfirmContract{Hash: k.o.Proposal.Hash})
	k.pay(trade.Initial, payment.TTWire)
	if dc.bookInProduction {
		book()
	}
	k.now = trade.Day(t0).AddDate(0, 0, 40).Add(9 * time.Hour)
	if dc.afterRelease {
		k.do(inspector, report(true))
		k.pay(trade.Balance, payment.TTWire)
		k.shipToday()
		k.do(system, trade.Release{})
		k.later(10 * 24 * time.Hour)
	} else {
		r := report(false)
		if dc.standard != "" {
			r.Verdict = &trade.Verdict{Accept: false, ContractVersion: 1}
			r.Standard = &trade.Verdict{Accept: dc.standard == "pass"}
		}
		k.do(inspector, r)
	}
	k.do(buyer, trade.FileDispute{Reason: "zippers are not YKK", Requirements: dc.requirements, FoundAfterArrival: dc.foundAfterArrival})
	return k
}

// TestInspectionReport ensures the booked inspector's report passes or rejects the batch; a
// rejection notifies the buyer (event inspection.failed), who may then file a dispute or
// accept the goods as they are; only the booked inspector may report, with a well-formed
// report. R15 R16
func TestInspectionReport(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		k := orderIn(t, trade.InProduction)
		k.do(inspector, report(false))
		r := k.o.Inspection.Reports[0]
		if k.o.State != trade.InspectionFailed || !k.hasEvent("inspection.failed") || r.InspectorID != inspectorOrgID || !r.SubmittedAt.Equal(k.now) {
			t.Fatalf("state %s events %v report %+v", k.o.State, k.fx.Events, r)
		}
		k.refuse(buyer, trade.Pay{Installment: trade.Balance, Method: payment.TTWire}, "transition_not_allowed")
		k.do(buyer, trade.AcceptGoods{Note: "we take them as they are"})
		if k.o.State != trade.InspectionPassed || !k.hasEvent("goods.accepted") {
			t.Fatalf("state %s events %v", k.o.State, k.fx.Events)
		}
		k.pay(trade.Balance, payment.TTWire)
		k.shipToday()
	})
	t.Run("passed", func(t *testing.T) {
		k := orderIn(t, trade.InProduction)
		k.do(inspector, report(true))
		if k.o.State != trade.InspectionPassed || !k.hasEvent("inspection.passed") {
			t.Fatalf("state %s events %v", k.o.State, k.fx.Events)
		}
	})
	bad := []struct {
		name string
		a    trade.Actor
		mod  func(r *trade.Report)
		want string
	}{
		{"another inspector", otherInspector, func(r *trade.Report) {}, "order_not_found"},
		{"the buyer", buyer, func(r *trade.Report) {}, "role_not_allowed"},
		{"negative count", inspector, func(r *trade.Report) { r.Major = -1 }, "invalid_report"},
		{"too many findings", inspector, func(r *trade.Report) { r.Findings = make([]trade.Finding, trade.RequirementsMax+1) }, "invalid_report"},
		{"summary too long", inspector, func(r *trade.Report) { r.Summary = strings.Repeat("s", trade.TextMax+1) }, "invalid_report"},
		{"photo not stored", inspector, func(r *trade.Report) { r.Photos = []trade.Attachment{{Name: "p.jpg", Ref: "x", Size: 1}} }, "invalid_attachment"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			k := orderIn(t, trade.InProduction)
			cmd := report(false)
			tc.mod(&cmd.Report)
			k.refuse(tc.a, cmd, tc.want)
		})
	}
	t.Run("nothing booked", func(t *testing.T) {
		k := newKit(t, t0)
		c := validContract(t0)
		k.place(&c)
		k.do(supplier, trade.ConfirmContract{Hash: k.o.Proposal.Hash})
		k.pay(trade.Initial, payment.TTWire)
		k.refuse(inspector, report(true), "order_not_found")
	})
}

// TestDisputePartialRefund ensures a partial refund the supplier offers and the buyer accepts
// is a price reduction: the buyer gets back min(amount, paid) at once, the order goes on to
// inspection_passed, and the balance still due is unchanged (or lower, when the reduction
// exceeds what was paid). R17
func TestDisputePartialRefund(t *testing.T) {
	tests := []struct {
		name            string
		amount          int64
		wantRefunded    int64
		wantOutstanding int64
	}{
		{"within what was paid", 1_000_00, 1_000_00, balanceDue},
		{"all that was paid", initialDue, initialDue, balanceDue},
		{"beyond what was paid", 6_000_00, initialDue, contractTotal - 6_000_00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := orderIn(t, trade.Disputed)
			id := k.propose(trade.PartialRefund, tc.amount)
			k.refuse(supplier, trade.AcceptResolution{ProposalID: id}, "role_not_allowed")
			k.do(buyer, trade.AcceptResolution{ProposalID: id})
			x := k.o.Disputes[0]
			if k.o.State != trade.InspectionPassed || x.ClosedAt == nil || x.Outcome != "agreed_partial_refund" || k.o.OpenDispute() != nil {
				t.Fatalf("state %s dispute %+v", k.o.State, x)
			}
			if k.balance(k.refundable()) != tc.wantRefunded || k.o.Money.Reductions != tc.amount ||
				k.o.Total() != contractTotal-tc.amount || k.o.Outstanding() != tc.wantOutstanding || !k.hasEvent("order.price_reduced") {
				t.Fatalf("refundable %d reductions %d total %d outstanding %d events %v", k.balance(k.refundable()),
					k.o.Money.Reductions, k.o.Total(), k.o.Outstanding(), k.fx.Events)
			}
			p := k.pay(trade.Balance, payment.TTWire)
			if p.Amount != tc.wantOutstanding {
				t.Errorf("balance instructions for %d, want %d", p.Amount, tc.wantOutstanding)
			}
			k.shipToday()
			k.do(system, trade.Release{})
			if k.balance(k.payable()) != contractTotal-tc.amount {
				t.Errorf("supplier gets %d, want %d", k.balance(k.payable()), contractTotal-tc.amount)
			}
		})
	}
}

// TestDisputeResolutions ensures the supplier's offers (full or partial refund, rework and
// re-inspection) are checked, one is open at a time, and the buyer accepts or rejects the open
// one only. R17
func TestDisputeResolutions(t *testing.T) {
	t.Run("full refund accepted", func(t *testing.T) {
		k := orderIn(t, trade.Disputed)
		k.do(buyer, trade.AcceptResolution{ProposalID: k.propose(trade.FullRefund, 123)})
		if k.o.State != trade.Refunded || k.balance(k.refundable()) != initialDue || k.balance(k.escrow()) != 0 || k.coverage != 0 {
			t.Errorf("state %s refundable %d escrow %d coverage %d", k.o.State, k.balance(k.refundable()), k.balance(k.escrow()), k.coverage)
		}
	})
	t.Run("rework and re-inspection", func(t *testing.T) {
		k := orderIn(t, trade.Disputed)
		k.do(buyer, trade.AcceptResolution{ProposalID: k.propose(trade.Rework, 0)})
		if k.o.State != trade.InProduction || k.o.Disputes[0].Outcome != "agreed_rework" {
			t.Fatalf("state %s outcome %s", k.o.State, k.o.Disputes[0].Outcome)
		}
		k.refuse(supplier, trade.Ship{ShippedOn: trade.Day(k.now), Carrier: "Maersk", Tracking: "1"}, "inspection_pending")
		// The buyer may book the re-inspection with another company; the failed report stays.
		k.do(buyer, trade.BookInspection{InspectorID: otherInspectorID})
		if len(k.o.Inspection.Reports) != 1 || !k.o.Inspection.AtPlacement {
			t.Fatalf("rebooking lost history: %+v", k.o.Inspection)
		}
		k.do(otherInspector, report(true))
		if k.o.State != trade.InspectionPassed || len(k.o.Inspection.Reports) != 2 {
			t.Errorf("state %s reports %d", k.o.State, len(k.o.Inspection.Reports))
		}
		k.refuse(buyer, trade.BookInspection{InspectorID: inspectorOrgID}, "transition_not_allowed")
	})
	t.Run("rework after shipment", func(t *testing.T) {
		k := disputed(t, disputeCase{afterRelease: true, requirements: []string{"Zipper"}})
		k.refuse(supplier, trade.ProposeResolution{Kind: trade.Rework}, "rework_after_shipment")
	})
	t.Run("superseded and rejected offers", func(t *testing.T) {
		k := orderIn(t, trade.Disputed)
		first := k.propose(trade.PartialRefund, 500_00)
		second := k.propose(trade.PartialRefund, 800_00)
		if k.o.OpenDispute().Proposals[0].Status != "superseded" {
			t.Errorf("first offer %+v", k.o.OpenDispute().Proposals[0])
		}
		k.refuse(buyer, trade.AcceptResolution{ProposalID: first}, "proposal_not_open")
		k.do(buyer, trade.RejectResolution{ProposalID: second, Note: "not enough"})
		if k.o.State != trade.Disputed || k.o.OpenDispute().Proposals[1].Status != "rejected" {
			t.Errorf("state %s offer %+v", k.o.State, k.o.OpenDispute().Proposals[1])
		}
		k.refuse(buyer, trade.AcceptResolution{ProposalID: second}, "proposal_not_open")
		k.refuse(buyer, trade.RejectResolution{ProposalID: second}, "proposal_not_open")
	})
	bad := []struct {
		name string
		cmd  trade.ProposeResolution
		want string
	}{
		{"partial refund of nothing", trade.ProposeResolution{Kind: trade.PartialRefund}, "invalid_amount"},
		{"partial refund of the total", trade.ProposeResolution{Kind: trade.PartialRefund, Amount: contractTotal}, "invalid_amount"},
		{"unknown kind", trade.ProposeResolution{Kind: "replacement"}, "invalid_resolution"},
		{"note too long", trade.ProposeResolution{Kind: trade.FullRefund, Note: strings.Repeat("n", trade.TextMax+1)}, "invalid_note"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			orderIn(t, trade.Disputed).refuse(supplier, tc.cmd, tc.want)
		})
	}
	t.Run("filing needs a reason", func(t *testing.T) {
		k := orderIn(t, trade.InspectionFailed)
		k.refuse(buyer, trade.FileDispute{Requirements: []string{"Zipper"}}, "reason_required")
		k.refuse(buyer, trade.FileDispute{Reason: "bad", Requirements: make([]string, trade.RequirementsMax+1)}, "too_many_requirements")
		k.refuse(supplier, trade.FileDispute{Reason: "bad"}, "role_not_allowed")
	})
}

// TestDisputeWindow ensures the supplier has 15 days from filing to settle, after which offers
// are refused and the system's timer hands the dispute to the platform; the timer is refused
// before the window ends or for another dispute, while a party may escalate at any time. R17 R21
func TestDisputeWindow(t *testing.T) {
	k := orderIn(t, trade.Disputed)
	x := *k.o.OpenDispute()
	if !x.WindowEndsAt.Equal(x.FiledAt.Add(15*24*time.Hour)) || x.From != trade.InspectionFailed {
		t.Fatalf("dispute %+v", x)
	}
	var timer *trade.Timer
	for _, tm := range k.fx.Timers {
		if tm.Kind == trade.TimerDisputeWindow {
			timer = &tm
		}
	}
	if timer == nil || !timer.DueAt.Equal(x.WindowEndsAt) || timer.Ref != x.ID {
		t.Fatalf("dispute window timer %+v", timer)
	}
	k.now = x.WindowEndsAt.Add(-time.Nanosecond)
	k.propose(trade.PartialRefund, 100_00)
	k.refuse(system, trade.Escalate{DisputeID: x.ID}, "timer_stale")
	k.now = x.WindowEndsAt
	k.refuse(supplier, trade.ProposeResolution{Kind: trade.FullRefund}, "dispute_window_closed")
	k.refuse(system, trade.Escalate{DisputeID: "dsp_other"}, "timer_stale")
	k.do(system, trade.Escalate{DisputeID: x.ID})
	got := k.o.Disputes[0]
	if k.o.State != trade.Escalated || got.EscalatedAt == nil || got.Proposals[0].Status != "superseded" {
		t.Errorf("state %s dispute %+v", k.o.State, got)
	}
	for _, a := range []trade.Actor{buyer, supplier} {
		t.Run("escalated early by the "+string(a.Role), func(t *testing.T) {
			k := orderIn(t, trade.Disputed)
			k.do(a, trade.Escalate{DisputeID: "whatever", Note: "we cannot agree"})
			if k.o.State != trade.Escalated {
				t.Errorf("state %s", k.o.State)
			}
		})
	}
}

// TestArbiterDecision ensures the arbiter decides an escalated dispute in writing: a full refund
// refunds everything paid and ends the order, a partial one reduces the price and the order
// goes on; the decision records who decided and which R19 grounds the platform computed. R18
func TestArbiterDecision(t *testing.T) {
	t.Run("full refund", func(t *testing.T) {
		k := orderIn(t, trade.Escalated)
		k.refuse(buyer, trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "x"}, "role_not_allowed")
		k.do(arbiter, trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "report: zippers unbranded; contract: YKK"})
		d := k.o.Disputes[0].Decision
		if k.o.State != trade.Refunded || k.balance(k.refundable()) != initialDue || k.balance(k.escrow()) != 0 || k.coverage != 0 {
			t.Errorf("state %s refundable %d escrow %d coverage %d", k.o.State, k.balance(k.refundable()), k.balance(k.escrow()), k.coverage)
		}
		if d == nil || d.By != arbiter.UserID || len(d.Computed) != 0 || !d.At.Equal(k.now) || !k.hasEvent("dispute.decided") {
			t.Errorf("decision %+v events %v", d, k.fx.Events)
		}
	})
	t.Run("partial refund", func(t *testing.T) {
		k := orderIn(t, trade.Escalated)
		k.do(arbiter, trade.Decide{Outcome: trade.OutcomePartialRefund, Amount: 2_000_00, Reasons: "3% of zippers unbranded"})
		if k.o.State != trade.InspectionPassed || k.balance(k.refundable()) != 2_000_00 || k.o.Total() != contractTotal-2_000_00 {
			t.Errorf("state %s refundable %d total %d", k.o.State, k.balance(k.refundable()), k.o.Total())
		}
	})
	bad := []struct {
		name string
		cmd  trade.Decide
		want string
	}{
		{"no reasons", trade.Decide{Outcome: trade.OutcomeFullRefund}, "reasons_required"},
		{"unknown outcome", trade.Decide{Outcome: "replace", Reasons: "x"}, "invalid_outcome"},
		{"partial of nothing", trade.Decide{Outcome: trade.OutcomePartialRefund, Reasons: "x"}, "invalid_amount"},
		{"partial of the total", trade.Decide{Outcome: trade.OutcomePartialRefund, Amount: contractTotal, Reasons: "x"}, "invalid_amount"},
		{"refund naming a refusal", trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "x", Refusals: []trade.Refusal{trade.RefusalGoodsCompliant}}, "refusal_with_refund"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			orderIn(t, trade.Escalated).refuse(arbiter, tc.cmd, tc.want)
		})
	}
}

// TestRefusalGrounds ensures Order.Grounds computes which R19 grounds apply — (a) the contract
// does not specify clearly what is disputed (left out, or found unenforceable by the linter when
// it was drafted) and the dispute fails on nothing it does specify clearly, while the goods meet
// the industry standard (R5), (b) no inspection was booked when the order was placed, (c) the
// issue was found only after arrival (always so once the goods were released) — that a refund is
// refused on them unless the arbiter gives a reason to override, and that no_refund names only
// grounds that apply. R5 R19
func TestRefusalGrounds(t *testing.T) {
	a, b, c := trade.RefusalUnclearSpec, trade.RefusalNoInspection, trade.RefusalAfterArrival
	tests := []struct {
		name string
		dc   disputeCase
		want []trade.Refusal
	}{
		{"none applies", disputeCase{requirements: []string{"Zipper"}}, nil},
		{"compliance requirement, other case and spaces", disputeCase{requirements: []string{" cpsia COMPLIANT ", "zipper"}}, nil},
		{"(a) not in the contract", disputeCase{requirements: []string{"Stitching"}}, []trade.Refusal{a}},
		{"(a) nothing named", disputeCase{}, []trade.Refusal{a}},
		{"(a) found unenforceable when drafted", disputeCase{unclear: []string{"Color"}, requirements: []string{"color"}}, []trade.Refusal{a}},
		{"a clear failure beside an unclear item", disputeCase{requirements: []string{"Zipper", "Stitching"}}, nil},
		{"(a) unclear, the goods meet the industry standard", disputeCase{standard: "pass", requirements: []string{"Stitching"}}, []trade.Refusal{a}},
		{"unclear, the goods fail the industry standard", disputeCase{standard: "fail", requirements: []string{"Stitching"}}, nil},
		{"unenforceable, the goods fail the industry standard", disputeCase{unclear: []string{"Color"}, standard: "fail",
			requirements: []string{"Color"}}, nil},
		{"(b) inspection booked in production", disputeCase{bookInProduction: true, requirements: []string{"Zipper"}}, []trade.Refusal{b}},
		{"(c) found after arrival", disputeCase{foundAfterArrival: true, requirements: []string{"Zipper"}}, []trade.Refusal{c}},
		{"(c) filed after release", disputeCase{afterRelease: true, requirements: []string{"Zipper"}}, []trade.Refusal{c}},
		{"(a)(b)(c)", disputeCase{bookInProduction: true, foundAfterArrival: true, requirements: []string{"Packaging"}}, []trade.Refusal{a, b, c}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := disputed(t, tc.dc)
			x := k.o.OpenDispute()
			if got := k.o.Grounds(x); !slices.Equal(got, tc.want) {
				t.Fatalf("Grounds = %v, want %v", got, tc.want)
			}
			k.do(buyer, trade.Escalate{DisputeID: x.ID})
			refund := trade.Decide{Outcome: trade.OutcomePartialRefund, Amount: 1_000_00, Reasons: "zippers unbranded"}
			if len(tc.want) == 0 {
				k.refuse(arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "x", Refusals: []trade.Refusal{a}}, "refusal_not_applicable")
				k.do(arbiter, refund)
				return
			}
			k.refuse(arbiter, refund, "refusal_applies")
			k.refuse(arbiter, trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "zippers unbranded"}, "refusal_applies")
			for _, r := range []trade.Refusal{a, b, c} {
				if !slices.Contains(tc.want, r) {
					k.refuse(arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "x", Refusals: []trade.Refusal{r}}, "refusal_not_applicable")
				}
			}
			override := k.o.Clone()
			refund.Override = "the defect is visible on the inspection photos"
			if _, err := override.Apply(arbiter, refund, env(k.now)); err != nil {
				t.Errorf("refund with an override: %v", err)
			} else if d := override.Disputes[0].Decision; d.Override == "" || !slices.Equal(d.Computed, tc.want) {
				t.Errorf("decision %+v", d)
			}
			k.do(arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "R19 applies", Refusals: tc.want})
			d := k.o.Disputes[0].Decision
			if !slices.Equal(d.Refusals, tc.want) || !slices.Equal(d.Computed, tc.want) || k.balance(k.refundable()) != 0 {
				t.Errorf("decision %+v refundable %d", d, k.balance(k.refundable()))
			}
			want := trade.InspectionPassed
			if tc.dc.afterRelease {
				want = trade.Released
			}
			if k.o.State != want {
				t.Errorf("state %s, want %s", k.o.State, want)
			}
		})
	}
}

// TestDissatisfiedBuyer ensures a buyer who is merely dissatisfied with goods that comply gets
// no refund: the arbiter decides no_refund on goods_compliant although no R19 ground applies,
// and must name a ground to refuse at all. R20
func TestDissatisfiedBuyer(t *testing.T) {
	k := disputed(t, disputeCase{requirements: []string{"Color"}})
	k.do(buyer, trade.Escalate{DisputeID: k.o.OpenDispute().ID})
	k.refuse(arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "colour matches Pantone 1935 C"}, "refusal_ground_required")
	k.do(arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "colour matches Pantone 1935 C",
		Refusals: []trade.Refusal{trade.RefusalGoodsCompliant}})
	if k.o.State != trade.InspectionPassed || len(k.fx.Transfers) != 0 || k.balance(k.refundable()) != 0 ||
		k.o.Disputes[0].Outcome != "decided_no_refund" || k.o.Outstanding() != balanceDue {
		t.Errorf("state %s transfers %v refundable %d dispute %+v", k.o.State, k.fx.Transfers, k.balance(k.refundable()), k.o.Disputes[0])
	}
}

// TestDisputeAfterRelease ensures a refund decided after the escrow was released is paid from
// the guarantee fund, up to the order's coverage, and becomes the supplier's debt; beyond the
// coverage it is refused. R14 R18 R22
func TestDisputeAfterRelease(t *testing.T) {
	tests := []struct {
		name   string
		limit  int64
		cmd    trade.Decide
		want   string
		refund int64
		state  trade.State
	}{
		{"full refund within coverage", 0, trade.Decide{Outcome: trade.OutcomeFullRefund}, "", contractTotal, trade.Refunded},
		{"full refund beyond coverage", 10_000_00, trade.Decide{Outcome: trade.OutcomeFullRefund}, "refund_exceeds_covered", 0, trade.Escalated},
		{"partial refund within coverage", 10_000_00, trade.Decide{Outcome: trade.OutcomePartialRefund, Amount: 10_000_00}, "", 10_000_00, trade.Released},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := disputed(t, disputeCase{afterRelease: true, requirements: []string{"Zipper"}, limit: tc.limit})
			k.do(buyer, trade.Escalate{DisputeID: k.o.OpenDispute().ID})
			cmd := tc.cmd
			cmd.Reasons, cmd.Override = "seams split on first wash", "defect latent; found by the buyer's lab"
			if tc.want != "" {
				k.refuse(arbiter, cmd, tc.want)
				return
			}
			k.do(arbiter, cmd)
			if k.o.State != tc.state || k.balance(k.refundable()) != tc.refund || k.balance(k.receivable()) != tc.refund ||
				k.o.Money.Guaranteed != tc.refund || k.balance(trade.FundAccount(usd)) != guaranteeFundSeed ||
				k.balance(k.payable()) != contractTotal || k.balance(k.escrow()) != 0 {
				t.Errorf("state %s refundable %d receivable %d guaranteed %d fund %d payable %d", k.o.State,
					k.balance(k.refundable()), k.balance(k.receivable()), k.o.Money.Guaranteed,
					k.balance(trade.FundAccount(usd)), k.balance(k.payable()))
			}
			if tc.state == trade.Released && !slices.ContainsFunc(k.fx.Timers, func(tm trade.Timer) bool { return tm.Kind == trade.TimerCompletion }) {
				t.Errorf("no completion timer after returning to released: %+v", k.fx.Timers)
			}
		})
	}
}

// TestDisputeBasis ensures a dispute is judged against the contract when what is disputed is
// stated clearly or a clear disputed requirement failed, and against the industry standard when
// its only failures are on requirements the contract left out or the linter found unclear; the
// decision records which. R5 R18
func TestDisputeBasis(t *testing.T) {
	tests := []struct {
		name string
		dc   disputeCase
		want trade.Basis
	}{
		{"clear and failed", disputeCase{requirements: []string{"Zipper"}}, trade.BasisContract},
		{"clear and passed", disputeCase{requirements: []string{"Color"}}, trade.BasisContract},
		{"clear failure beside an unclear item", disputeCase{requirements: []string{"Stitching", "zipper"}}, trade.BasisContract},
		{"not in the contract", disputeCase{requirements: []string{"Stitching"}}, trade.BasisIndustryStandard},
		{"found unenforceable", disputeCase{unclear: []string{"Zipper"}, requirements: []string{"Zipper"}}, trade.BasisIndustryStandard},
		{"nothing named", disputeCase{}, trade.BasisNothing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := disputed(t, tc.dc)
			x := k.o.OpenDispute()
			if got := k.o.Basis(x); got != tc.want {
				t.Fatalf("Basis = %s, want %s", got, tc.want)
			}
			k.do(buyer, trade.Escalate{DisputeID: x.ID})
			k.do(arbiter, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "x", Refusals: []trade.Refusal{trade.RefusalGoodsCompliant}})
			if d := k.o.Disputes[0].Decision; d.Basis != tc.want {
				t.Fatalf("decision basis %s, want %s", d.Basis, tc.want)
			}
		})
	}
}

// TestReportVerdict ensures the platform's verdict, not the inspector's call, decides whether
// the batch passed: the inspector's call is kept as a recommendation, the verdicts are frozen
// with the report, and verdicts a sender put inside the report are dropped. R16
func TestReportVerdict(t *testing.T) {
	forged := &trade.Verdict{Accept: true}
	t.Run("the verdict rejects what the inspector passed", func(t *testing.T) {
		k := orderIn(t, trade.InProduction)
		cmd := report(true)
		cmd.Verdict = &trade.Verdict{Accept: false, ContractVersion: 1, Discrepancies: json.RawMessage(`[{"kind":"requirement_failed"}]`)}
		cmd.Standard = &trade.Verdict{Accept: true}
		if cmd.Event() != trade.EvFailInspection {
			t.Fatalf("event %s", cmd.Event())
		}
		k.do(inspector, cmd)
		r := k.o.Inspection.Reports[0]
		if k.o.State != trade.InspectionFailed || r.Passed || r.InspectorPassed == nil || !*r.InspectorPassed ||
			r.Verdict == nil || string(r.Verdict.Discrepancies) != `[{"kind":"requirement_failed"}]` || r.Standard == nil || !r.Standard.Accept {
			t.Fatalf("state %s report %+v", k.o.State, r)
		}
	})
	t.Run("the verdict accepts what the inspector rejected", func(t *testing.T) {
		k := orderIn(t, trade.InProduction)
		cmd := report(false)
		cmd.Verdict = &trade.Verdict{Accept: true, ContractVersion: 1}
		k.do(inspector, cmd)
		if r := k.o.Inspection.Reports[0]; k.o.State != trade.InspectionPassed || !r.Passed || *r.InspectorPassed {
			t.Fatalf("state %s report %+v", k.o.State, r)
		}
	})
	t.Run("no verdict: the inspector decides, and nothing forged is kept", func(t *testing.T) {
		k := orderIn(t, trade.InProduction)
		cmd := report(false)
		cmd.Report.Verdict, cmd.Report.Standard, cmd.Report.InspectorPassed = forged, forged, new(bool)
		k.do(inspector, cmd)
		if r := k.o.Inspection.Reports[0]; k.o.State != trade.InspectionFailed || r.Verdict != nil || r.Standard != nil || r.InspectorPassed != nil {
			t.Fatalf("state %s report %+v", k.o.State, r)
		}
	})
}
