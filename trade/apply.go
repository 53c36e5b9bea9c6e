package trade

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
)

// Place creates an order at checkout (R1, R2): the buyer names an eligible supplier, the
// shipping date, and confirms that the order must comply with the contract's quality
// requirements. A contract may come with it as the buyer's proposal.
type Place struct {
	SupplierID          string
	Currency            money.Currency
	ShipBy              time.Time
	ComplianceConfirmed bool
	Contract            *Contract
	Lint                *SpecCheck // the platform's specification check of Contract (R5)
}

// PlaceOrder validates a checkout and returns the new order. env.Supplier is the supplier named.
func PlaceOrder(id string, a Actor, p Place, env Env) (*Order, Effects, error) {
	if a.Role != RoleBuyer {
		return nil, Effects{}, fault.New(fault.Forbidden, "role_not_allowed", "only a buyer places orders")
	}
	s := env.Supplier
	if s.ID != p.SupplierID || s.Kind != KindSupplier {
		return nil, Effects{}, fault.FieldErr("supplier_id", "supplier_not_found", "no such supplier")
	}
	if !s.Eligibility.Eligible { // R1
		return nil, Effects{}, fault.New(fault.Conflict, "supplier_not_eligible",
			"%s cannot receive Trade Assurance orders", s.Name)
	}
	if !p.ComplianceConfirmed { // R2
		return nil, Effects{}, fault.FieldErr("compliance_confirmed", "compliance_not_confirmed",
			"confirm that the order must comply with the quality requirements of the purchase contract")
	}
	if !p.Currency.Valid() {
		return nil, Effects{}, fault.FieldErr("currency", "unknown_currency", "unknown currency %q", string(p.Currency))
	}
	if err := validShipBy(p.ShipBy, env.Now); err != nil {
		return nil, Effects{}, err
	}
	o := &Order{ID: id, BuyerID: a.OrgID, SupplierID: s.ID, Currency: p.Currency, State: Draft, Version: 1,
		PlacedAt: env.Now, UpdatedAt: env.Now, ShipBy: p.ShipBy, ComplianceConfirmed: true}
	d := &decision{o: o, env: env}
	d.event("order.placed", map[string]any{"buyer_id": o.BuyerID, "supplier_id": o.SupplierID,
		"currency": o.Currency, "ship_by": o.ShipBy.Format(time.DateOnly), "compliance_confirmed": true})
	if p.Contract != nil {
		if err := d.proposeContract(a, *p.Contract, p.Lint); err != nil {
			return nil, Effects{}, err
		}
		o.State = ContractProposed
	}
	return o, d.fx, nil
}

// Apply decides cmd on the order: it checks the lifecycle table, the actor's role and
// ownership, then the command's own rules, changes o and returns the effects to write in the
// same transaction. On error o may have been partly changed: discard it (see Clone).
func (o *Order) Apply(a Actor, cmd Command, env Env) (Effects, error) {
	ev := cmd.Event()
	// Who may do this at all is checked before whether it can be done now, so a role that may
	// never issue the event always gets the same answer whatever the order's state.
	if !o.Visible(a) {
		return Effects{}, fault.New(fault.NotFound, "order_not_found", "no such order")
	}
	if !slices.Contains(RolesFor(ev), a.Role) {
		return Effects{}, fault.New(fault.Forbidden, "role_not_allowed", "a %s cannot %s", a.Role, strings.ReplaceAll(string(ev), "_", " "))
	}
	t, ok := Lookup(o.State, ev)
	if !ok {
		return Effects{}, fault.New(fault.Conflict, "transition_not_allowed",
			"cannot %s an order that is %s", strings.ReplaceAll(string(ev), "_", " "), o.State)
	}
	if !t.Allows(a.Role) { // a role allowed the event elsewhere in the table, but not in this state
		return Effects{}, fault.New(fault.Forbidden, "role_not_allowed", "a %s cannot %s an order that is %s",
			a.Role, strings.ReplaceAll(string(ev), "_", " "), o.State)
	}
	d := &decision{o: o, env: env}
	if err := d.apply(a, cmd); err != nil {
		return Effects{}, err
	}
	if !slices.Contains(t.To, o.State) {
		panic(fmt.Sprintf("trade: %s from %s led to %s, not in table %v", ev, t.From, o.State, t.To))
	}
	o.Version++
	o.UpdatedAt = env.Now
	return d.fx, nil
}

// Visible reports whether a may see the order at all.
func (o *Order) Visible(a Actor) bool {
	switch a.Role {
	case RoleBuyer:
		return a.OrgID == o.BuyerID
	case RoleSupplier:
		return a.OrgID == o.SupplierID
	case RoleInspector:
		return o.Inspection != nil && a.OrgID == o.Inspection.InspectorID
	case RoleArbiter, RoleAdmin, RoleSystem:
		return true
	}
	return false
}

func (d *decision) apply(a Actor, cmd Command) error {
	switch c := cmd.(type) {
	case ProposeContract:
		if err := d.proposeContract(a, c.Contract, c.Lint); err != nil {
			return err
		}
		d.o.State = ContractProposed
		return nil
	case ConfirmContract:
		return d.confirmContract(a, c.Hash)
	case ProposeAmendment:
		return d.proposeAmendment(a, c.Contract, c.Lint)
	case ConfirmAmendment:
		return d.confirmAmendment(a, c.Hash)
	case BookInspection:
		return d.bookInspection(c)
	case Pay:
		return d.pay(c)
	case ReceivePayment:
		return d.receivePayment(c)
	case ExpirePayment:
		return d.expirePayment(c)
	case SubmitReport:
		return d.submitReport(a, c)
	case AcceptGoods:
		d.o.State = InspectionPassed
		d.event("goods.accepted", map[string]any{"note": c.Note})
		return nil
	case FileDispute:
		return d.fileDispute(c)
	case ProposeResolution:
		return d.proposeResolution(c)
	case AcceptResolution:
		return d.acceptResolution(c)
	case RejectResolution:
		return d.rejectResolution(c)
	case Escalate:
		return d.escalate(a, c)
	case Decide:
		return d.decide(a, c)
	case Ship:
		return d.ship(c)
	case Release:
		return d.release()
	case Complete:
		return d.complete()
	case DeadlinePassed:
		return d.deadlinePassed(c)
	case Refund:
		paid := d.o.Money.NetPaid()
		if err := d.refund(paid, "refund_late"); err != nil {
			return err
		}
		d.close(Refunded)
		d.event("order.refunded", map[string]any{"reason": "shipped_late", "amount": paid})
		return nil
	case Cancel:
		return d.cancel(c)
	}
	return fault.New(fault.Invalid, "unknown_command", "unknown command %T", cmd)
}

// proposeContract records a proposal with its specification check (R5), which the platform
// computed from the same contract; nil when it was not computed.
func (d *decision) proposeContract(a Actor, c Contract, lint *SpecCheck) error {
	o := d.o
	if c.Currency != o.Currency {
		return fault.FieldErr("currency", "currency_mismatch", "the contract must be in the order currency %s", o.Currency)
	}
	if c.Terms.InitialBP == 0 {
		c.Terms.InitialBP = d.env.Config.InitialBP
	}
	if err := c.Validate(d.env.Now); err != nil {
		return err
	}
	o.Proposal = &Proposal{Contract: c, Hash: c.Hash(), ProposedBy: a.OrgID, ProposedAt: d.env.Now, Lint: lint}
	total, _ := c.Total()
	d.event("contract.proposed", map[string]any{"hash": o.Proposal.Hash, "by": a.OrgID, "total": total, "unclear": unclearOf(lint)})
	return nil
}

// takeProposal checks that the confirming party is the other one and saw this proposal (R4).
func (d *decision) takeProposal(a Actor, hash string) (*Proposal, error) {
	p := d.o.Proposal
	switch {
	case p == nil:
		return nil, fault.New(fault.Conflict, "no_proposal", "there is nothing to confirm")
	case p.ProposedBy == a.OrgID:
		return nil, fault.New(fault.Conflict, "own_proposal", "the other party must confirm a proposal")
	case hash != p.Hash:
		return nil, fault.FieldErr("hash", "proposal_changed", "the proposal changed since you read it; review it again")
	}
	if err := validShipBy(p.Contract.ShipBy, d.env.Now); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decision) freeze(a Actor, p *Proposal) {
	o := d.o
	o.Contracts = append(o.Contracts, ContractVersion{Version: len(o.Contracts) + 1, Contract: p.Contract,
		Hash: p.Hash, ProposedBy: p.ProposedBy, ConfirmedBy: a.OrgID, ProposedAt: p.ProposedAt, ConfirmedAt: d.env.Now,
		Lint: p.Lint})
	o.Proposal = nil
	o.ShipBy = p.Contract.ShipBy
	d.timer(TimerShippingDeadline, "shipping_deadline", o.Deadline(), "")
}

func (d *decision) confirmContract(a Actor, hash string) error {
	o, s := d.o, d.env.Supplier
	p, err := d.takeProposal(a, hash)
	if err != nil {
		return err
	}
	if !s.Eligibility.Eligible { // R1 holds at confirmation too
		return fault.New(fault.Conflict, "supplier_not_eligible", "%s cannot receive Trade Assurance orders", s.Name)
	}
	d.freeze(a, p)
	o.Policy = s.Policy
	if o.Policy == "" {
		o.Policy = d.env.Config.Policy
	}
	d.reserveCoverage() // R22: consumed when the order is confirmed
	initial, _ := p.Contract.Initial()
	d.event("contract.confirmed", map[string]any{"version": 1, "hash": p.Hash, "total": o.Total(),
		"initial": initial, "coverage": o.Coverage, "coverage_currency": o.CoverageCurrency, "release_policy": o.Policy})
	o.State = Confirmed
	return nil
}

// reserveCoverage sets the order's coverage to min(total, what the supplier has available plus
// what the order already holds), and asks the store to move the difference (R22).
func (d *decision) reserveCoverage() {
	o, cov := d.o, d.env.Supplier.Coverage
	if cov.Currency != o.Currency {
		return // no FX: an order in another currency than the limit is not covered
	}
	want := min(o.Total(), cov.Available()+o.Coverage)
	d.fx.CoverageDelta += want - o.Coverage
	o.Coverage, o.CoverageCurrency = want, cov.Currency
}

func (d *decision) restoreCoverage() {
	d.fx.CoverageDelta -= d.o.Coverage
}

func (d *decision) proposeAmendment(a Actor, c Contract, lint *SpecCheck) error {
	o := d.o
	if c.Terms.InitialBP == 0 {
		c.Terms.InitialBP = o.Contract().Contract.Terms.InitialBP
	}
	if c.Currency != o.Currency {
		return fault.FieldErr("currency", "currency_mismatch", "the contract must stay in %s", o.Currency)
	}
	if err := c.Validate(d.env.Now); err != nil {
		return err
	}
	total, _ := c.Total()
	if total-o.Money.Reductions < o.Money.NetPaid() {
		return fault.FieldErr("line_items", "total_below_paid", "the new total is less than what the buyer already paid")
	}
	o.Proposal = &Proposal{Contract: c, Hash: c.Hash(), ProposedBy: a.OrgID, ProposedAt: d.env.Now, Lint: lint}
	d.event("amendment.proposed", map[string]any{"hash": o.Proposal.Hash, "by": a.OrgID, "total": total,
		"ship_by": c.ShipBy.Format(time.DateOnly), "unclear": unclearOf(lint)})
	return nil
}

func (d *decision) confirmAmendment(a Actor, hash string) error {
	o := d.o
	p, err := d.takeProposal(a, hash)
	if err != nil {
		return err
	}
	total, _ := p.Contract.Total()
	if total-o.Money.Reductions < o.Money.NetPaid() {
		return fault.New(fault.Conflict, "total_below_paid", "the new total is less than what the buyer already paid")
	}
	d.freeze(a, p)
	d.reserveCoverage()
	if o.State == Late { // R13: the buyer agreed a new date
		o.State, o.ResumeState = o.ResumeState, ""
	}
	if o.State == BalancePaid && o.Outstanding() > 0 { // the total rose: the buyer pays the difference
		o.State = InspectionPassed
		if o.Inspection == nil || len(o.Inspection.Reports) == 0 {
			o.State = InProduction
		}
	}
	d.event("amendment.confirmed", map[string]any{"version": len(o.Contracts), "hash": p.Hash, "total": o.Total(),
		"ship_by": o.ShipBy.Format(time.DateOnly), "coverage": o.Coverage})
	return nil
}

func (d *decision) bookInspection(c BookInspection) error {
	o := d.o
	if c.InspectorID == "" {
		return fault.FieldErr("inspector_id", "inspector_required", "choose an inspection company")
	}
	if c.AQL == (AQL{}) {
		c.AQL = DefaultAQL
	}
	if !text(c.AQL.Critical, true) || !text(c.AQL.Major, true) || !text(c.AQL.Minor, true) {
		return fault.FieldErr("aql", "invalid_aql", "give an AQL for critical, major and minor defects")
	}
	if o.Inspection == nil {
		o.Inspection = &Inspection{BookedAt: d.env.Now, AtPlacement: o.State != InProduction}
	} else if r := o.Inspection.Reports; len(r) > 0 && r[len(r)-1].Passed {
		return fault.New(fault.Conflict, "inspection_reported", "the inspection already passed")
	}
	// A rebooking (another company, or a re-inspection after rework) keeps the first booking's
	// time and standing (R19b) and every report so far: they are evidence.
	o.Inspection.InspectorID, o.Inspection.AQL = c.InspectorID, c.AQL
	d.event("inspection.booked", map[string]any{"inspector_id": c.InspectorID, "at_placement": o.Inspection.AtPlacement, "aql": c.AQL})
	return nil
}

// inspectionClear reports whether nothing stops the goods from moving on: no inspection was
// booked, or the latest report passed, or the buyer accepted the goods.
func (o *Order) inspectionClear() bool {
	return o.Inspection == nil || o.State == InspectionPassed || o.State == BalancePaid
}

func (d *decision) pay(c Pay) error {
	o, now := d.o, d.env.Now
	var amount int64
	switch c.Installment {
	case Initial:
		if o.State != Confirmed {
			return fault.New(fault.Conflict, "installment_not_due", "the initial payment is paid once, after confirmation")
		}
		amount, _ = o.Contract().Contract.Initial()
	case Balance:
		if o.State == Confirmed {
			return fault.New(fault.Conflict, "installment_not_due", "send the initial payment first")
		}
		if !o.inspectionClear() {
			return fault.New(fault.Conflict, "inspection_pending", "the balance is due after the inspection passed")
		}
		amount = o.Outstanding()
	default:
		return fault.FieldErr("installment", "invalid_installment", "installment must be initial or balance")
	}
	if amount <= 0 {
		return fault.New(fault.Conflict, "nothing_due", "nothing is due")
	}
	if p := o.pendingPayment(); p != nil {
		return fault.New(fault.Conflict, "payment_pending", "payment instructions for the %s payment are already out (reference %s)", p.Installment, p.Reference)
	}
	if c.Method == payment.PayLater { // R11: the lender pays into escrow once the buyer accepts a loan agreement
		if c.CreditLine == "" {
			return fault.FieldErr("method", "pay_later_requires_credit_line", "Pay Later needs an approved credit line")
		}
		if o.Currency != "USD" {
			return fault.FieldErr("method", "pay_later_usd_only", "Pay Later is available in USD only, not %s", o.Currency)
		}
	}
	q, err := d.env.Config.Fees.Quote(c.Method, amt(o, amount), now)
	if err != nil {
		return err
	}
	id := d.nextID("pay")
	p := Payment{ID: id, Installment: c.Installment, Method: c.Method, Amount: amount, Fee: q.Fee.Minor,
		FeeCollector: q.Collector, Total: q.Total.Minor, Reference: reference(id), Status: PaymentPending,
		CreatedAt: now, ExpiresAt: now.Add(d.env.Config.PaymentExpiry), PayTo: c.PayTo,
		Sandbox: c.PayTo != nil && c.PayTo.Sandbox || c.Method == payment.PayLater && c.Simulated}
	o.Payments = append(o.Payments, p)
	d.timer(TimerPaymentExpiry, "payment_expiry/"+id, p.ExpiresAt, id)
	d.event("payment.initiated", p)
	return nil
}

// reference is the short code a buyer quotes so incoming money can be matched (R8).
func reference(paymentID string) string {
	h := sha256.Sum256([]byte(paymentID))
	return "TA" + strings.ToUpper(hex.EncodeToString(h[:6]))
}

func (d *decision) receivePayment(c ReceivePayment) error {
	o := d.o
	p := o.findPayment(c.PaymentID)
	if p == nil {
		return fault.New(fault.NotFound, "payment_not_found", "no such payment on this order")
	}
	if c.Amount.Currency != o.Currency || c.Amount.Minor != p.Total {
		return fault.New(fault.Conflict, "amount_mismatch", "received %s, expected %s", c.Amount, amt(o, p.Total))
	}
	if err := validSource(c.Source, o); err != nil {
		return err
	}
	if o.State.Terminal() || o.State == Shipped || o.State == Released || p.Status == PaymentReceived ||
		o.live(p.Installment) != p || p.Amount > o.Outstanding() {
		// The order moved on, the installment is paid already, or the instructions are out of date
		// (an amendment lowered the total): the money goes back to the buyer, never beyond the contract.
		o.Money.Returned += p.Total
		returned := map[string]any{"payment_id": p.ID, "amount": p.Total}
		if c.Source == SandboxAccount(o.Currency) {
			returned["sandbox"] = true
		}
		d.event("payment.returned", returned)
		return d.transfer("payment_returned", p.Reference, posting{c.Source, o.refundableAcct(), p.Total})
	}
	now := d.env.Now
	p.Status, p.ReceivedAt = PaymentReceived, &now
	d.retire("payment_expiry/" + p.ID)
	fee := int64(0)
	if p.FeeCollector == payment.CollectedByPlatform {
		fee = p.Fee
	}
	if err := d.transfer("payment_received", p.Reference,
		posting{c.Source, o.escrow(), p.Amount}, posting{c.Source, FeeAccount(p.Method, o.Currency), fee}); err != nil {
		return err
	}
	o.Money.Paid += p.Amount
	o.Money.FeesCollected += fee
	received := map[string]any{"payment_id": p.ID, "installment": p.Installment, "amount": p.Amount, "fee": fee}
	if c.Source == SandboxAccount(o.Currency) {
		received["sandbox"] = true // simulated money: the sandbox rail delivered it
	}
	d.event("payment.received", received)
	switch {
	case p.Installment == Initial && o.State == Confirmed:
		o.State = InProduction
		return d.releaseForProduction(p.Amount)
	case p.Installment == Balance && o.Outstanding() <= 0 &&
		(o.State == InspectionPassed || o.State == InProduction && o.Inspection == nil):
		o.State = BalancePaid
		d.rearmDeadline()
	}
	return nil
}

// validSource checks that money for an order comes from a rail or from suspense, in its currency.
func validSource(a ledger.Account, o *Order) error {
	if (a.Kind != ledger.RailClearing && a.Kind != ledger.Suspense) || a.Currency != o.Currency || a.Owner == "" {
		return fault.FieldErr("source", "invalid_source", "money for an order comes from a payment rail or suspense, in %s", o.Currency)
	}
	return nil
}

// rearmDeadline sets the shipping-deadline timer due now when the date has passed while the
// order could not become late (disputed, or waiting for the buyer's balance): the deadline then
// takes effect as soon as the order can be late (R13, R21).
func (d *decision) rearmDeadline() {
	if !d.env.Now.Before(d.o.Deadline()) {
		d.timer(TimerShippingDeadline, "shipping_deadline", d.env.Now, "")
	}
}

// releaseForProduction pays the initial payment to the supplier at once when its policy says so,
// as far as the order's coverage guarantees it (R14).
func (d *decision) releaseForProduction(initial int64) error {
	o := d.o
	if o.Policy != ReleaseInitialForProduction || o.CoverageCurrency != o.Currency {
		return nil
	}
	early := min(initial, o.Coverage-o.Money.ReleasedEarly)
	if early <= 0 {
		return nil
	}
	o.Money.Released += early
	o.Money.ReleasedEarly += early
	d.event("funds.released_for_production", map[string]any{"amount": early, "guaranteed_up_to": o.Coverage})
	return d.transfer("release_for_production", "", posting{o.escrow(), o.payable(), early})
}

func (d *decision) expirePayment(c ExpirePayment) error {
	p := d.o.findPayment(c.PaymentID)
	if p == nil || p.Status != PaymentPending {
		return fault.New(fault.Conflict, "payment_not_pending", "the payment is not pending")
	}
	if d.env.Now.Before(p.ExpiresAt) {
		return fault.New(fault.Conflict, "payment_not_expired", "the payment instructions are still valid")
	}
	p.Status = PaymentExpired
	d.event("payment.expired", map[string]any{"payment_id": p.ID, "installment": p.Installment})
	return nil
}

// submitReport records the report; with the platform's verdict, the verdict decides whether
// the batch passed and the inspector's own call is kept as a recommendation (R16).
func (d *decision) submitReport(a Actor, c SubmitReport) error {
	o, r := d.o, c.Report
	if o.Inspection == nil {
		return fault.New(fault.Conflict, "inspection_not_booked", "no inspection is booked")
	}
	if len(r.Findings) > RequirementsMax || len(r.Photos) > AttachmentsMax || !text(r.Summary, false) || r.SampleSize < 0 ||
		r.Critical < 0 || r.Major < 0 || r.Minor < 0 {
		return fault.FieldErr("report", "invalid_report", "a report has at most %d findings and %d photos, and no negative counts", RequirementsMax, AttachmentsMax)
	}
	if err := validAttachments("report.photos", r.Photos, AttachmentsMax, ""); err != nil {
		return err
	}
	r.InspectorID, r.SubmittedAt = a.OrgID, d.env.Now
	r.InspectorPassed, r.Verdict, r.Standard = nil, c.Verdict, c.Standard // the platform's, never the sender's
	if c.Verdict != nil {
		recommended := r.Passed
		r.InspectorPassed, r.Passed = &recommended, c.Verdict.Accept
	}
	o.Inspection.Reports = append(o.Inspection.Reports, r)
	if r.Passed {
		o.State = InspectionPassed
		d.event("inspection.passed", r)
		return nil
	}
	o.State = InspectionFailed
	d.event("inspection.failed", r) // R16: the buyer is notified and may file a dispute
	return nil
}

func (d *decision) ship(c Ship) error {
	o, now := d.o, d.env.Now
	if !now.Before(o.Deadline()) || c.ShippedOn.After(o.ShipBy) {
		return fault.New(fault.Conflict, "shipping_deadline_passed", "the shipping date %s has passed", o.ShipBy.Format(time.DateOnly))
	}
	if c.ShippedOn.IsZero() || !c.ShippedOn.Equal(Day(c.ShippedOn)) || c.ShippedOn.After(Day(now)) || c.ShippedOn.Before(Day(o.PlacedAt)) {
		return fault.FieldErr("shipped_on", "invalid_ship_date", "the ship date must be a date between placing the order and today")
	}
	if !text(c.Carrier, true) || !text(c.Tracking, true) || !text(c.BillOfLading, false) {
		return fault.FieldErr("carrier", "shipment_details_required", "give the carrier and the tracking number")
	}
	if !o.inspectionClear() {
		return fault.New(fault.Conflict, "inspection_pending", "the goods must pass the booked inspection first")
	}
	if o.Outstanding() > 0 {
		return fault.New(fault.Conflict, "balance_unpaid", "the balance has not been received")
	}
	o.Shipment = &Shipment{ShippedOn: c.ShippedOn, Carrier: c.Carrier, Tracking: c.Tracking, BillOfLading: c.BillOfLading, RecordedAt: now}
	o.State = Shipped
	d.retire("shipping_deadline")
	d.timer(TimerRelease, "release", now.Add(d.env.Config.ReleaseDelay), "")
	d.event("order.shipped", o.Shipment)
	return nil
}

func (d *decision) release() error {
	o := d.o
	held := o.Money.Held()
	if err := d.transfer("release", "", posting{o.escrow(), o.payable(), held}); err != nil {
		return err
	}
	o.Money.Released += held
	o.State = Released
	d.timer(TimerCompletion, "completion", d.env.Now.Add(d.env.Config.CompletionWait), "")
	d.event("funds.released", map[string]any{"amount": held, "released_total": o.Money.Released})
	return nil
}

func (d *decision) complete() error {
	d.close(Completed)
	d.event("order.completed", map[string]any{"released": d.o.Money.Released})
	return nil
}

// close ends the order, gives the supplier its coverage back (R22) and retires the order's
// pending deadlines: none of them can apply to a closed order.
func (d *decision) close(s State) {
	now := d.env.Now
	d.o.State, d.o.ClosedAt = s, &now
	d.restoreCoverage()
	d.fx.RetireAll = true
}

func (d *decision) deadlinePassed(c DeadlinePassed) error {
	o := d.o
	if c.Deadline.Before(o.Deadline()) { // set for a date an amendment moved later
		return fault.New(fault.Conflict, "timer_stale", "the shipping date changed")
	}
	if d.env.Now.Before(o.Deadline()) {
		return fault.New(fault.Conflict, "deadline_not_reached", "the shipping date has not passed")
	}
	if o.State == Confirmed { // nothing was paid: the order lapses
		d.expirePending()
		d.close(Cancelled)
		d.event("order.cancelled", map[string]any{"reason": "shipping_date_passed_unpaid"})
		return nil
	}
	if o.State == InspectionPassed && o.Outstanding() > 0 {
		return fault.New(fault.Conflict, "balance_unpaid", "the buyer has not paid the balance: the supplier is not late")
	}
	o.ResumeState, o.State = o.State, Late
	d.event("order.late", map[string]any{"ship_by": o.ShipBy.Format(time.DateOnly)}) // R13
	return nil
}

func (d *decision) expirePending() {
	for i := range d.o.Payments {
		if p := &d.o.Payments[i]; p.Status == PaymentPending {
			p.Status = PaymentExpired
			d.event("payment.expired", map[string]any{"payment_id": p.ID, "installment": p.Installment})
		}
	}
}

func (d *decision) cancel(c Cancel) error {
	o := d.o
	if o.Money.Paid > 0 {
		return fault.New(fault.Conflict, "payment_received", "money was received: the order can no longer be cancelled")
	}
	if !text(c.Reason, false) {
		return fault.FieldErr("reason", "invalid_reason", "at most %d characters", TextMax)
	}
	d.expirePending()
	d.close(Cancelled)
	d.event("order.cancelled", map[string]any{"reason": c.Reason})
	return nil
}

// refundable is the most that can be refunded now: what escrow holds, plus released money the
// platform guarantees up to the order's coverage (R14, R22).
func (o *Order) refundable() int64 { return o.Money.Held() + o.guaranteeRoom() }

func (o *Order) guaranteeRoom() int64 {
	if o.CoverageCurrency != o.Currency {
		return 0
	}
	return max(0, min(o.Money.Released, o.Coverage)-o.Money.Guaranteed)
}

// refund pays x back to the buyer: from escrow first, then from the guarantee fund for money
// already released, which becomes a debt of the supplier (R14).
func (d *decision) refund(x int64, code string) error {
	o := d.o
	if x <= 0 {
		return nil
	}
	if x > o.refundable() {
		return fault.New(fault.Conflict, "refund_exceeds_covered",
			"at most %s can be refunded: the rest was released beyond the coverage", amt(o, o.refundable()))
	}
	fromEscrow := min(x, o.Money.Held())
	rest := x - fromEscrow
	if err := d.transfer(code, "", posting{o.escrow(), o.refundableAcct(), fromEscrow}); err != nil {
		return err
	}
	o.Money.Refunded += fromEscrow
	if rest == 0 {
		return nil
	}
	fund := FundAccount(o.Currency)
	if err := d.transfer("guarantee_refund", code, posting{fund, o.refundableAcct(), rest}); err != nil {
		return err
	}
	if err := d.transfer("supplier_debt", code, posting{o.receivable(), fund, rest}); err != nil {
		return err
	}
	o.Money.Guaranteed += rest
	d.event("guarantee.paid", map[string]any{"amount": rest, "supplier_id": o.SupplierID})
	return nil
}
