package trade_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// The fixture's organizations, currencies and clock. Every test starts at t0 unless it needs a
// date in the fee history (R10).
const (
	buyerOrgID        = "org_buyer"
	supplierOrgID     = "org_supplier"
	inspectorOrgID    = "org_qc"
	otherBuyerOrgID   = "org_other_buyer"
	otherSupplierID   = "org_other_supplier"
	otherInspectorID  = "org_other_qc"
	coverageLimitUSD  = 20_000_00    // the supplier's limit (R22)
	guaranteeFundSeed = 1_000_000_00 // what the platform put into the guarantee fund (R14)

	// The fixture contract: 1000 × 12.50 + 500 × 8.00, 30% initial (R6).
	contractTotal = 16_500_00
	initialDue    = 4_950_00
	balanceDue    = 11_550_00
)

var (
	usd = money.Currency("USD")
	eur = money.Currency("EUR")
	t0  = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)

	buyer          = trade.Actor{Role: trade.RoleBuyer, OrgID: buyerOrgID, UserID: "u_buyer"}
	supplier       = trade.Actor{Role: trade.RoleSupplier, OrgID: supplierOrgID, UserID: "u_supplier"}
	inspector      = trade.Actor{Role: trade.RoleInspector, OrgID: inspectorOrgID, UserID: "u_qc"}
	arbiter        = trade.Actor{Role: trade.RoleArbiter, OrgID: "platform", UserID: "u_arbiter"}
	admin          = trade.Actor{Role: trade.RoleAdmin, OrgID: "platform", UserID: "u_admin"}
	system         = trade.System
	otherBuyer     = trade.Actor{Role: trade.RoleBuyer, OrgID: otherBuyerOrgID, UserID: "u_other_buyer"}
	otherSupplier  = trade.Actor{Role: trade.RoleSupplier, OrgID: otherSupplierID, UserID: "u_other_supplier"}
	otherInspector = trade.Actor{Role: trade.RoleInspector, OrgID: otherInspectorID, UserID: "u_other_qc"}
)

// commandSeq makes every Env.ID unique within the test binary, so transfer IDs never collide.
var commandSeq atomic.Int64

// newSupplier returns an eligible supplier (R1) with a USD 20,000.00 coverage limit (R22).
func newSupplier(t testing.TB) trade.Org {
	t.Helper()
	s, err := trade.NewOrg(supplierOrgID, trade.KindSupplier, "Ningbo Garments Co.", "CN", t0.AddDate(-1, 0, 0))
	if err != nil {
		t.Fatalf("new supplier: %v", err)
	}
	if err := s.SetEligibility(true, "Gold Supplier, verified", "u_admin", t0.AddDate(0, -6, 0)); err != nil {
		t.Fatalf("set eligibility: %v", err)
	}
	if err := s.SetCoverageLimit(money.New(coverageLimitUSD, usd)); err != nil {
		t.Fatalf("set coverage limit: %v", err)
	}
	return s
}

// newBuyer and newInspector return the other organizations of the fixture.
func newBuyer(t testing.TB) trade.Org {
	t.Helper()
	b, err := trade.NewOrg(buyerOrgID, trade.KindBuyer, "Portland Outdoor LLC", "US", t0.AddDate(-1, 0, 0))
	if err != nil {
		t.Fatalf("new buyer: %v", err)
	}
	return b
}

func newInspector(t testing.TB) trade.Org {
	t.Helper()
	i, err := trade.NewOrg(inspectorOrgID, trade.KindInspector, "QIMA", "HK", t0.AddDate(-1, 0, 0))
	if err != nil {
		t.Fatalf("new inspector: %v", err)
	}
	return i
}

// env is the Env of one command at now, with the default configuration and a fresh supplier.
func env(now time.Time) trade.Env {
	s, _ := trade.NewOrg(supplierOrgID, trade.KindSupplier, "Ningbo Garments Co.", "CN", t0.AddDate(-1, 0, 0))
	_ = s.SetEligibility(true, "Gold Supplier, verified", "u_admin", t0.AddDate(0, -6, 0))
	_ = s.SetCoverageLimit(money.New(coverageLimitUSD, usd))
	return trade.Env{Now: now, Config: trade.DefaultConfig(), Supplier: s, ID: fmt.Sprintf("cmd%d", commandSeq.Add(1))}
}

// validContract is a USD purchase contract placed at placed: two line items, quantifiable quality
// and compliance requirements (R3, R5), FOB, shipping 60 days after placement, 30% initial (R6).
func validContract(placed time.Time) trade.Contract {
	return trade.Contract{
		Currency: usd,
		Incoterm: "FOB",
		ShipBy:   trade.Day(placed).AddDate(0, 0, 60),
		Terms:    trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{
			{Description: "Hoodie, organic cotton, navy, size M", Quantity: 1000, Unit: "pcs", UnitPrice: 12_50},
			{Description: "Hoodie, organic cotton, navy, size L", Quantity: 500, Unit: "pcs", UnitPrice: 8_00},
		},
		Quality: []trade.Requirement{
			{Attribute: "Fabric", Requirement: "organic cotton, 200 gsm", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"},
			{Attribute: "Zipper", Requirement: "YKK"},
			{Attribute: "Color", Requirement: "Pantone 1935 C"},
		},
		Compliance: []trade.Requirement{{Attribute: "CPSIA compliant", Requirement: "yes"}},
		Attachments: []trade.Attachment{{Name: "label.pdf", Ref: "sha256:" + hex64('a'), Size: 2048,
			MediaType: "application/pdf"}},
	}
}

// hex64 is 64 hex digits, the length of a SHA-256 reference.
func hex64(c byte) string { return string(slices.Repeat([]byte{c}, 64)) }

// kit drives one order through real commands and keeps everything a store would: the running
// ledger balances (every transfer applied, the guarantee fund pre-funded), the supplier's used
// coverage, and the clock.
type kit struct {
	t        testing.TB
	now      time.Time
	cfg      trade.Config
	supplier trade.Org
	o        *trade.Order
	bal      ledger.Balances
	coverage int64           // the sum of every CoverageDelta: what this order uses of the limit
	fx       trade.Effects   // the effects of the last successful command
	events   []string        // every event type, in order
	timers   []trade.Timer   // every timer set, in order
	ids      map[string]bool // every transfer ID posted
}

// newKit returns a kit at start with the guarantee fund pre-funded in USD.
func newKit(t testing.TB, start time.Time) *kit {
	t.Helper()
	k := &kit{t: t, now: start, cfg: trade.DefaultConfig(), supplier: newSupplier(t), bal: ledger.Balances{}, ids: map[string]bool{}}
	k.fund(usd)
	return k
}

// fund puts money into the guarantee fund from the T/T rail, so guarantee refunds can post (R14).
func (k *kit) fund(c money.Currency) {
	k.t.Helper()
	tr, err := ledger.NewTransfer(fmt.Sprintf("fund_%s_%d", c, commandSeq.Add(1)), "fund_guarantee", c, "", k.now).
		Post(trade.RailAccount(payment.TTWire, c), trade.FundAccount(c), guaranteeFundSeed).Build()
	if err != nil {
		k.t.Fatalf("build funding transfer: %v", err)
	}
	if err := k.bal.Apply(tr); err != nil {
		k.t.Fatalf("fund guarantee: %v", err)
	}
}

// env is the Env of the next command: the kit's clock, configuration and supplier.
func (k *kit) env() trade.Env {
	return trade.Env{Now: k.now, Config: k.cfg, Supplier: k.supplier, ID: fmt.Sprintf("cmd%d", commandSeq.Add(1))}
}

// later advances the clock.
func (k *kit) later(d time.Duration) { k.now = k.now.Add(d) }

// place runs PlaceOrder for the buyer with the fixture's ship-by date and compliance confirmed.
func (k *kit) place(contract *trade.Contract) {
	k.t.Helper()
	id := fmt.Sprintf("ord%d", commandSeq.Add(1))
	o, fx, err := trade.PlaceOrder(id, buyer, trade.Place{SupplierID: supplierOrgID, Currency: usd,
		ShipBy: trade.Day(k.now).AddDate(0, 0, 60), ComplianceConfirmed: true, Contract: contract}, k.env())
	if err != nil {
		k.t.Fatalf("place order: %v", err)
	}
	k.o = o
	k.post(fx)
}

// try applies cmd to a clone of the order; on success the clone becomes the order and its
// effects are posted, on error the order is left as it was.
func (k *kit) try(a trade.Actor, cmd trade.Command) (trade.Effects, error) {
	k.t.Helper()
	c := k.o.Clone()
	fx, err := c.Apply(a, cmd, k.env())
	if err != nil {
		if _, ok := fault.As(err); !ok {
			k.t.Fatalf("%T by %s in %s: not a domain error: %v", cmd, a.Role, k.o.State, err)
		}
		return fx, err
	}
	k.o = c
	k.post(fx)
	return fx, nil
}

// do applies cmd and fails the test on error.
func (k *kit) do(a trade.Actor, cmd trade.Command) trade.Effects {
	k.t.Helper()
	from := k.o.State
	fx, err := k.try(a, cmd)
	if err != nil {
		k.t.Fatalf("%T by %s in %s: %v", cmd, a.Role, from, err)
	}
	return fx
}

// refuse applies cmd, wants it refused with reason, and checks the order did not change.
func (k *kit) refuse(a trade.Actor, cmd trade.Command, reason string) {
	k.t.Helper()
	before := k.o.Version
	_, err := k.try(a, cmd)
	if got := fault.ReasonOf(err); got != reason {
		k.t.Fatalf("%T by %s in %s: got %v, want reason %s", cmd, a.Role, k.o.State, err, reason)
	}
	if k.o.Version != before {
		k.t.Fatalf("%T was refused but the order changed", cmd)
	}
}

// post applies the effects to the kit's ledger and coverage, failing on a broken invariant.
func (k *kit) post(fx trade.Effects) {
	k.t.Helper()
	for _, tr := range fx.Transfers {
		if k.ids[tr.ID] {
			k.t.Fatalf("transfer ID %s posted twice", tr.ID)
		}
		k.ids[tr.ID] = true
		if err := tr.Validate(); err != nil {
			k.t.Fatalf("transfer %s: %v", tr.ID, err)
		}
		if err := k.bal.Apply(tr); err != nil {
			k.t.Fatalf("apply transfer %s (%s): %v", tr.ID, tr.Code, err)
		}
	}
	k.coverage += fx.CoverageDelta
	k.supplier.Coverage.Used += fx.CoverageDelta
	for _, e := range fx.Events {
		k.events = append(k.events, e.Type)
	}
	k.timers = append(k.timers, fx.Timers...)
	k.fx = fx
}

// balance is the natural balance of an account.
func (k *kit) balance(a ledger.Account) int64 { return ledger.Natural(a.Kind, k.bal[a.ID()]) }

// Accounts of the kit's order.
func (k *kit) escrow() ledger.Account {
	return ledger.Account{Kind: ledger.Escrow, Owner: k.o.ID, Currency: k.o.Currency}
}
func (k *kit) payable() ledger.Account {
	return ledger.Account{Kind: ledger.SupplierPayable, Owner: supplierOrgID, Currency: k.o.Currency}
}
func (k *kit) refundable() ledger.Account {
	return ledger.Account{Kind: ledger.BuyerRefundable, Owner: buyerOrgID, Currency: k.o.Currency}
}
func (k *kit) receivable() ledger.Account {
	return ledger.Account{Kind: ledger.SupplierReceivable, Owner: supplierOrgID, Currency: k.o.Currency}
}

// lastPayment is the order's newest payment.
func (k *kit) lastPayment() trade.Payment {
	k.t.Helper()
	if len(k.o.Payments) == 0 {
		k.t.Fatalf("no payment on the order")
	}
	return k.o.Payments[len(k.o.Payments)-1]
}

// instruct issues payment instructions for an installment and returns the payment.
func (k *kit) instruct(inst trade.Installment, m payment.Method) trade.Payment {
	k.t.Helper()
	k.do(buyer, trade.Pay{Installment: inst, Method: m})
	return k.lastPayment()
}

// arrive delivers the whole of p from its rail.
func (k *kit) arrive(p trade.Payment) trade.Effects {
	k.t.Helper()
	return k.do(system, trade.ReceivePayment{PaymentID: p.ID, Amount: money.New(p.Total, k.o.Currency),
		Source: trade.RailAccount(p.Method, k.o.Currency)})
}

// pay issues instructions for an installment and delivers the money a day later.
func (k *kit) pay(inst trade.Installment, m payment.Method) trade.Payment {
	k.t.Helper()
	p := k.instruct(inst, m)
	k.later(24 * time.Hour)
	k.arrive(p)
	return p
}

// shipToday ships the goods today.
func (k *kit) shipToday() {
	k.t.Helper()
	k.do(supplier, trade.Ship{ShippedOn: trade.Day(k.now), Carrier: "Maersk", Tracking: "MAEU1234567", BillOfLading: "BL-778"})
}

// deadline moves the clock to the shipping deadline and fires the timer (R13, R21).
func (k *kit) deadline() {
	k.t.Helper()
	k.now = k.o.Deadline()
	k.do(system, trade.DeadlinePassed{Deadline: k.o.Deadline()})
}

// file opens a dispute about the named requirements.
func (k *kit) file(reqs ...string) *trade.Dispute {
	k.t.Helper()
	k.do(buyer, trade.FileDispute{Reason: "zippers are not YKK", Requirements: reqs})
	return k.o.OpenDispute()
}

// propose is the supplier's offer in the open dispute; it returns the proposal's ID.
func (k *kit) propose(kind trade.ResolutionKind, amount int64) string {
	k.t.Helper()
	k.do(supplier, trade.ProposeResolution{Kind: kind, Amount: amount, Note: "offer"})
	x := k.o.OpenDispute()
	return x.Proposals[len(x.Proposals)-1].ID
}

// amendShipBy proposes (by the supplier) and confirms (by the buyer) a new shipping date.
func (k *kit) amendShipBy(shipBy time.Time) {
	k.t.Helper()
	c := k.o.Contract().Contract
	c.ShipBy = shipBy
	k.do(supplier, trade.ProposeAmendment{Contract: c})
	k.do(buyer, trade.ConfirmAmendment{Hash: k.o.Proposal.Hash})
}

// report is an inspection report.
func report(passed bool) trade.SubmitReport {
	r := trade.Report{Passed: passed, SampleSize: 125, Summary: "AQL II 2.5/4.0",
		Findings: []trade.Finding{{Attribute: "Zipper", Measured: "YKK", Pass: true}}}
	if !passed {
		r.Major = 9
		r.Findings = []trade.Finding{{Attribute: "Zipper", Measured: "unbranded", Pass: false}}
	}
	return trade.SubmitReport{Report: r}
}

// hasEvent reports whether the last command emitted an event of type typ.
func (k *kit) hasEvent(typ string) bool {
	for _, e := range k.fx.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// orderIn drives a fresh order to s with real commands only, starting at t0. The route is the
// usual one: the buyer places the order and books the inspection at placement (R15), the
// supplier proposes the contract and the buyer confirms it, the 30% initial payment arrives by
// T/T, the inspector reports, the balance arrives, the supplier ships, the system releases.
//
//	draft, cancelled (an unpaid initial payment out, then cancelled in confirmed),
//	contract_proposed, confirmed, in_production, late (deadline in production), refunded (late),
//	inspection_failed, disputed, escalated (by the buyer),
//	inspection_passed, balance_paid, shipped, released, completed.
func orderIn(t testing.TB, s trade.State) *kit {
	t.Helper()
	k := newKit(t, t0)
	k.place(nil)
	k.later(time.Hour)
	k.do(buyer, trade.BookInspection{InspectorID: inspectorOrgID})
	if s == trade.Draft {
		return k
	}
	k.later(time.Hour)
	k.do(supplier, trade.ProposeContract{Contract: validContract(k.now)})
	if s == trade.ContractProposed {
		return k
	}
	k.later(time.Hour)
	k.do(buyer, trade.ConfirmContract{Hash: k.o.Proposal.Hash})
	switch s {
	case trade.Confirmed:
		return k
	case trade.Cancelled:
		k.instruct(trade.Initial, payment.TTWire)
		k.do(buyer, trade.Cancel{Reason: "found another supplier"})
		return k
	}
	k.pay(trade.Initial, payment.TTWire)
	switch s {
	case trade.InProduction:
		return k
	case trade.Late, trade.Refunded:
		k.deadline()
		if s == trade.Refunded {
			k.do(buyer, trade.Refund{})
		}
		return k
	}
	k.now = trade.Day(t0).AddDate(0, 0, 40).Add(9 * time.Hour)
	switch s {
	case trade.InspectionFailed, trade.Disputed, trade.Escalated:
		k.do(inspector, report(false))
		if s == trade.InspectionFailed {
			return k
		}
		k.later(time.Hour)
		x := k.file("Zipper")
		if s == trade.Escalated {
			k.later(time.Hour)
			k.do(buyer, trade.Escalate{DisputeID: x.ID, Note: "no answer"})
		}
		return k
	}
	k.do(inspector, report(true))
	if s == trade.InspectionPassed {
		return k
	}
	k.pay(trade.Balance, payment.TTWire)
	if s == trade.BalancePaid {
		return k
	}
	k.later(time.Hour)
	k.shipToday()
	if s == trade.Shipped {
		return k
	}
	k.do(system, trade.Release{})
	if s == trade.Released {
		return k
	}
	k.later(72 * time.Hour)
	k.do(buyer, trade.Complete{})
	if s != trade.Completed {
		t.Fatalf("orderIn: no route to %s", s)
	}
	return k
}

// TestOrderIn ensures the fixture reaches every state of the lifecycle with real commands, with
// the ledger consistent on the way (R12).
func TestOrderIn(t *testing.T) {
	for _, s := range trade.States {
		t.Run(string(s), func(t *testing.T) {
			k := orderIn(t, s)
			if k.o.State != s {
				t.Fatalf("state = %s, want %s", k.o.State, s)
			}
			if v := ledger.CheckBalances(k.bal); len(v) > 0 {
				t.Errorf("ledger violations: %v", v)
			}
			if got := k.balance(k.escrow()); got != k.o.Money.Held() {
				t.Errorf("escrow balance = %d, Held() = %d", got, k.o.Money.Held())
			}
		})
	}
}
