package trade

import (
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
)

// Command is a request to change an order. Each command maps to one event of the table.
type Command interface{ Event() Event }

// ProposeContract drafts (or counters) the purchase contract (R4). Lint is the specification
// check of Contract that the platform computed (R5); a client's is never taken.
type ProposeContract struct {
	Contract Contract
	Lint     *SpecCheck
}

// ConfirmContract freezes the proposal; Hash is the proposal the confirming party saw.
type ConfirmContract struct{ Hash string }

// ProposeAmendment proposes a changed contract after confirmation (R4), with the platform's
// specification check of it (R5).
type ProposeAmendment struct {
	Contract Contract
	Lint     *SpecCheck
}

// ConfirmAmendment accepts the proposed amendment.
type ConfirmAmendment struct{ Hash string }

// BookInspection books a pre-shipment inspection with a QC partner (R15).
type BookInspection struct {
	InspectorID string
	AQL         AQL
}

// Pay issues payment instructions for an installment (R6): "Send initial payment", "Pay the balance".
type Pay struct {
	Installment Installment
	Method      payment.Method
	// CreditLine is the buyer's Pay Later line (R11), for Method pay_later: set by the use case
	// once it has checked that the buyer has one to draw on; a client's is never taken.
	CreditLine string
	// PayTo is the platform's account the buyer pays into (R8), named on the instructions: set
	// by the use case from the platform's configuration; a client's is never taken.
	PayTo *payment.CollectionAccount
	// Simulated marks a Pay Later payment on a sandbox server (R11): the sandbox pays for the
	// lender, so the payment is labelled sandbox like the sandbox rail's. Set by the use case; a
	// client's is never taken.
	Simulated bool
}

// ReceivePayment records money that arrived for a payment, from a rail or out of suspense.
type ReceivePayment struct {
	PaymentID string
	Amount    money.Amount
	Source    ledger.Account // the rail clearing or suspense account the money comes from
}

// ExpirePayment lapses unpaid payment instructions.
type ExpirePayment struct{ PaymentID string }

// SubmitReport is the inspector's report (R16): pass_inspection or fail_inspection. Verdict and
// Standard are the platform's verdicts on it (see Verdict), set by the escrow layer; with a
// Verdict, it — not the inspector's Passed — decides the event.
type SubmitReport struct {
	Report   Report
	Verdict  *Verdict
	Standard *Verdict
}

// AcceptGoods is the buyer accepting a rejected batch as it is, without a refund.
type AcceptGoods struct{ Note string }

// FileDispute opens a dispute (R17).
type FileDispute struct {
	Reason            string
	Requirements      []string // the contract attributes disputed
	FoundAfterArrival bool     // R19(c)
}

// ProposeResolution is the supplier's offer to settle a dispute (R17).
type ProposeResolution struct {
	Kind   ResolutionKind
	Amount int64 // for a partial refund
	Note   string
}

// AcceptResolution is the buyer accepting the supplier's open proposal.
type AcceptResolution struct{ ProposalID string }

// RejectResolution is the buyer refusing it.
type RejectResolution struct {
	ProposalID string
	Note       string
}

// Escalate hands the dispute to the platform: by a party at any time, by the system when the
// supplier's window ends (R17).
type Escalate struct {
	DisputeID string
	Note      string
}

// Decide is the arbiter's decision (R18, R19).
type Decide struct {
	Outcome  Outcome
	Amount   int64 // for a partial refund
	Reasons  string
	Refusals []Refusal // which R19/R20 grounds applied, when refusing
	Override string    // why a refund is granted although an R19 ground applies
}

// Ship records the shipment.
type Ship struct {
	ShippedOn    time.Time
	Carrier      string
	Tracking     string
	BillOfLading string
}

// Release pays the escrow to the supplier after an on-time shipment (R12).
type Release struct{}

// Complete closes a released order: the buyer confirms receipt, or the claim window ends.
type Complete struct{}

// DeadlinePassed is the shipping-date timer; Deadline is the one it was set for.
type DeadlinePassed struct{ Deadline time.Time }

// Refund refunds a late order in full (R13).
type Refund struct{}

// Cancel cancels an order before any money arrived.
type Cancel struct{ Reason string }

func (ProposeContract) Event() Event   { return EvProposeContract }
func (ConfirmContract) Event() Event   { return EvConfirmContract }
func (ProposeAmendment) Event() Event  { return EvProposeAmendment }
func (ConfirmAmendment) Event() Event  { return EvConfirmAmendment }
func (BookInspection) Event() Event    { return EvBookInspection }
func (Pay) Event() Event               { return EvPay }
func (ReceivePayment) Event() Event    { return EvReceivePayment }
func (ExpirePayment) Event() Event     { return EvExpirePayment }
func (AcceptGoods) Event() Event       { return EvAcceptGoods }
func (FileDispute) Event() Event       { return EvFileDispute }
func (ProposeResolution) Event() Event { return EvProposeResolution }
func (AcceptResolution) Event() Event  { return EvAcceptResolution }
func (RejectResolution) Event() Event  { return EvRejectResolution }
func (Escalate) Event() Event          { return EvEscalate }
func (Decide) Event() Event            { return EvDecide }
func (Ship) Event() Event              { return EvShip }
func (Release) Event() Event           { return EvRelease }
func (Complete) Event() Event          { return EvComplete }
func (DeadlinePassed) Event() Event    { return EvDeadlinePassed }
func (Refund) Event() Event            { return EvRefund }
func (Cancel) Event() Event            { return EvCancel }

// Event is pass_inspection or fail_inspection, as the report says.
func (c SubmitReport) Event() Event {
	if c.Verdict != nil {
		if c.Verdict.Accept {
			return EvPassInspection
		}
		return EvFailInspection
	}
	if c.Report.Passed {
		return EvPassInspection
	}
	return EvFailInspection
}
