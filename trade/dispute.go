package trade

import (
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
)

// ResolutionKind is what a supplier offers to settle a dispute (R17).
type ResolutionKind string

const (
	FullRefund    ResolutionKind = "full_refund"
	PartialRefund ResolutionKind = "partial_refund" // a price reduction, refunded as far as paid
	Rework        ResolutionKind = "rework"         // rework and re-inspection
)

// Outcome is the arbiter's decision (R18).
type Outcome string

const (
	OutcomeFullRefund    Outcome = "refund_full"
	OutcomePartialRefund Outcome = "refund_partial"
	OutcomeNoRefund      Outcome = "no_refund"
)

// Refusal is a ground on which a quality refund is refused.
type Refusal string

const (
	RefusalUnclearSpec    Refusal = "unclear_specification"      // R19(a)
	RefusalNoInspection   Refusal = "no_inspection_at_placement" // R19(b)
	RefusalAfterArrival   Refusal = "found_after_arrival"        // R19(c)
	RefusalGoodsCompliant Refusal = "goods_compliant"            // R20: dissatisfied with compliant goods
)

// Resolution is one offer in a dispute.
type Resolution struct {
	ID     string         `json:"id"`
	Kind   ResolutionKind `json:"kind"`
	Amount int64          `json:"amount,omitempty"`
	Note   string         `json:"note,omitempty"`
	At     time.Time      `json:"at"`
	Status string         `json:"status"` // open, accepted, rejected, superseded
}

// Decision is the arbiter's written decision.
type Decision struct {
	Outcome  Outcome   `json:"outcome"`
	Amount   int64     `json:"amount"`
	Reasons  string    `json:"reasons"`
	Refusals []Refusal `json:"refusals"`        // the grounds that applied, R19(a)–(c) or R20
	Computed []Refusal `json:"computed"`        // the R19 grounds the platform found
	Basis    Basis     `json:"basis,omitempty"` // what the dispute was judged against (R5)
	Override string    `json:"override,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// Dispute is a buyer's claim against the supplier.
type Dispute struct {
	ID                string       `json:"id"`
	Reason            string       `json:"reason"`
	Requirements      []string     `json:"requirements"`
	FoundAfterArrival bool         `json:"found_after_arrival"`
	From              State        `json:"from"` // the state it was filed in, where a settlement without refund returns
	FiledAt           time.Time    `json:"filed_at"`
	WindowEndsAt      time.Time    `json:"window_ends_at"` // R17: the supplier's time to settle
	Proposals         []Resolution `json:"proposals"`
	EscalatedAt       *time.Time   `json:"escalated_at,omitempty"`
	Decision          *Decision    `json:"decision,omitempty"`
	Outcome           string       `json:"outcome,omitempty"` // how it ended
	ClosedAt          *time.Time   `json:"closed_at,omitempty"`
}

func (x *Dispute) openProposal() *Resolution {
	for i := range x.Proposals {
		if x.Proposals[i].Status == "open" {
			return &x.Proposals[i]
		}
	}
	return nil
}

func (d *decision) fileDispute(c FileDispute) error {
	o, now := d.o, d.env.Now
	if !text(c.Reason, true) {
		return fault.FieldErr("reason", "reason_required", "say what is wrong, in at most %d characters", TextMax)
	}
	if len(c.Requirements) > RequirementsMax {
		return fault.FieldErr("requirements", "too_many_requirements", "at most %d requirements", RequirementsMax)
	}
	x := Dispute{ID: d.nextID("dsp"), Reason: c.Reason, Requirements: c.Requirements,
		FoundAfterArrival: c.FoundAfterArrival || o.State == Released, From: o.State,
		FiledAt: now, WindowEndsAt: now.Add(d.env.Config.DisputeWindow)}
	o.Disputes = append(o.Disputes, x)
	o.State = Disputed
	d.timer(TimerDisputeWindow, "dispute_window/"+x.ID, x.WindowEndsAt, x.ID)
	d.event("dispute.filed", x)
	return nil
}

func (d *decision) proposeResolution(c ProposeResolution) error {
	o, now := d.o, d.env.Now
	x := o.OpenDispute()
	if !now.Before(x.WindowEndsAt) {
		return fault.New(fault.Conflict, "dispute_window_closed", "the window to settle closed on %s", x.WindowEndsAt.Format(time.DateOnly))
	}
	switch c.Kind {
	case FullRefund:
		c.Amount = 0
	case PartialRefund:
		if c.Amount <= 0 || c.Amount >= o.Total() {
			return fault.FieldErr("amount", "invalid_amount", "a partial refund is more than zero and less than the order total")
		}
		if c.Amount-o.Money.NetPaid() > o.Outstanding() {
			return fault.FieldErr("amount", "invalid_amount", "the reduction exceeds the order value")
		}
	case Rework:
		if x.From != InspectionFailed {
			return fault.FieldErr("kind", "rework_after_shipment", "rework is possible only before shipment")
		}
	default:
		return fault.FieldErr("kind", "invalid_resolution", "offer full_refund, partial_refund or rework")
	}
	if !text(c.Note, false) {
		return fault.FieldErr("note", "invalid_note", "at most %d characters", TextMax)
	}
	if p := x.openProposal(); p != nil {
		p.Status = "superseded"
	}
	r := Resolution{ID: d.nextID("res"), Kind: c.Kind, Amount: c.Amount, Note: c.Note, At: now, Status: "open"}
	x.Proposals = append(x.Proposals, r)
	d.event("dispute.resolution_proposed", r)
	return nil
}

func (d *decision) acceptResolution(c AcceptResolution) error {
	x := d.o.OpenDispute()
	p := x.openProposal()
	if p == nil || p.ID != c.ProposalID {
		return fault.FieldErr("proposal_id", "proposal_not_open", "that proposal is not open")
	}
	p.Status = "accepted"
	d.event("dispute.resolution_accepted", map[string]any{"proposal_id": p.ID, "kind": p.Kind, "amount": p.Amount})
	switch p.Kind {
	case FullRefund:
		return d.settle(x, OutcomeFullRefund, 0, "agreed_full_refund")
	case PartialRefund:
		return d.settle(x, OutcomePartialRefund, p.Amount, "agreed_partial_refund")
	default: // rework: back to production, and a new inspection decides (R17)
		d.closeDispute(x, "agreed_rework")
		d.o.State = InProduction
		d.rearmDeadline()
		return nil
	}
}

func (d *decision) rejectResolution(c RejectResolution) error {
	x := d.o.OpenDispute()
	p := x.openProposal()
	if p == nil || p.ID != c.ProposalID {
		return fault.FieldErr("proposal_id", "proposal_not_open", "that proposal is not open")
	}
	if !text(c.Note, false) {
		return fault.FieldErr("note", "invalid_note", "at most %d characters", TextMax)
	}
	p.Status = "rejected"
	d.event("dispute.resolution_rejected", map[string]any{"proposal_id": p.ID, "note": c.Note})
	return nil
}

func (d *decision) escalate(a Actor, c Escalate) error {
	o, now := d.o, d.env.Now
	x := o.OpenDispute()
	if a.Role == RoleSystem && (c.DisputeID != x.ID || now.Before(x.WindowEndsAt)) {
		return fault.New(fault.Conflict, "timer_stale", "the dispute window has not ended")
	}
	if p := x.openProposal(); p != nil {
		p.Status = "superseded"
	}
	x.EscalatedAt = &now
	o.State = Escalated
	d.event("dispute.escalated", map[string]any{"dispute_id": x.ID, "by": a.Role, "note": c.Note})
	return nil
}

// Grounds computes which R19 refusals apply to the open dispute: (a) the contract has no clear
// specification for what is disputed — nothing is named, or the dispute fails only on
// requirements the contract leaves out or the linter found unenforceable (see Basis), and the
// goods meet the industry standard (R5); (b) no inspection booked when the order was placed;
// (c) found only after the goods arrived.
func (o *Order) Grounds(x *Dispute) []Refusal {
	var out []Refusal
	switch o.Basis(x) {
	case BasisNothing:
		out = append(out, RefusalUnclearSpec)
	case BasisIndustryStandard:
		if !o.failsIndustryStandard() {
			out = append(out, RefusalUnclearSpec)
		}
	}
	if o.Inspection == nil || !o.Inspection.AtPlacement {
		out = append(out, RefusalNoInspection)
	}
	if x.FoundAfterArrival {
		out = append(out, RefusalAfterArrival)
	}
	return out
}

func (d *decision) decide(a Actor, c Decide) error {
	o := d.o
	x := o.OpenDispute()
	if !text(c.Reasons, true) || !text(c.Override, false) {
		return fault.FieldErr("reasons", "reasons_required", "write the reasons for the decision (at most %d characters)", TextMax)
	}
	computed := o.Grounds(x)
	switch c.Outcome {
	case OutcomeNoRefund:
		if len(c.Refusals) == 0 {
			return fault.FieldErr("refusals", "refusal_ground_required", "say which ground applies: %v or %s", computed, RefusalGoodsCompliant)
		}
		for _, r := range c.Refusals {
			if r != RefusalGoodsCompliant && !slices.Contains(computed, r) {
				return fault.FieldErr("refusals", "refusal_not_applicable", "%s does not apply to this dispute", r)
			}
		}
	case OutcomeFullRefund, OutcomePartialRefund:
		if len(computed) > 0 && strings.TrimSpace(c.Override) == "" {
			return fault.FieldErr("override", "refusal_applies", "a refund is refused on %v unless you give a reason to override", computed)
		}
		if len(c.Refusals) > 0 {
			return fault.FieldErr("refusals", "refusal_with_refund", "a refund decision names no refusal ground")
		}
		if c.Outcome == OutcomePartialRefund && (c.Amount <= 0 || c.Amount >= o.Total()) {
			return fault.FieldErr("amount", "invalid_amount", "a partial refund is more than zero and less than the order total")
		}
	default:
		return fault.FieldErr("outcome", "invalid_outcome", "decide refund_full, refund_partial or no_refund")
	}
	x.Decision = &Decision{Outcome: c.Outcome, Amount: c.Amount, Reasons: c.Reasons, Refusals: c.Refusals,
		Computed: computed, Basis: o.Basis(x), Override: c.Override, By: a.UserID, At: d.env.Now}
	d.event("dispute.decided", x.Decision)
	return d.settle(x, c.Outcome, c.Amount, "decided_"+string(c.Outcome))
}

// settle applies a dispute's outcome and closes it. A full refund ends the order; a partial one
// is a price reduction, refunded as far as the buyer paid, after which the order goes on.
func (d *decision) settle(x *Dispute, out Outcome, amount int64, how string) error {
	o := d.o
	switch out {
	case OutcomeFullRefund:
		paid := o.Money.NetPaid()
		if err := d.refund(paid, "refund_dispute"); err != nil {
			return err
		}
		d.closeDispute(x, how)
		d.close(Refunded)
		d.event("order.refunded", map[string]any{"reason": how, "amount": paid})
		return nil
	case OutcomePartialRefund:
		now := min(amount, o.Money.NetPaid())
		if err := d.refund(now, "refund_dispute"); err != nil {
			return err
		}
		o.Money.Reductions += amount
		d.event("order.price_reduced", map[string]any{"reduction": amount, "refunded": now, "total": o.Total()})
	}
	d.closeDispute(x, how)
	d.resume(x)
	return nil
}

func (d *decision) closeDispute(x *Dispute, how string) {
	now := d.env.Now
	x.Outcome, x.ClosedAt = how, &now
	d.event("dispute.closed", map[string]any{"dispute_id": x.ID, "outcome": how})
}

// resume returns the order to where the goods stand after a dispute without a full refund.
func (d *decision) resume(x *Dispute) {
	o := d.o
	if x.From == Released {
		o.State = Released
		d.timer(TimerCompletion, "completion", d.env.Now.Add(d.env.Config.CompletionWait), "")
		return
	}
	o.State = InspectionPassed // the goods are accepted as they are, at the agreed price
	d.rearmDeadline()
}
