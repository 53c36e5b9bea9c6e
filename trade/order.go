package trade

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
)

// Installment is which part of the order value a payment is for (R6).
type Installment string

const (
	Initial Installment = "initial" // the deposit, or 100% up front
	Balance Installment = "balance"
)

// PaymentStatus is where one installment's payment is.
type PaymentStatus string

const (
	PaymentPending  PaymentStatus = "pending"  // instructions issued; money not yet arrived
	PaymentReceived PaymentStatus = "received" // in escrow
	PaymentExpired  PaymentStatus = "expired"  // instructions lapsed unpaid
)

// Payment is one installment paid through the platform (R8): the only money protection covers.
type Payment struct {
	ID           string            `json:"id"`
	Installment  Installment       `json:"installment"`
	Method       payment.Method    `json:"method"`
	Amount       int64             `json:"amount"` // owed to the escrow
	Fee          int64             `json:"fee"`
	FeeCollector payment.Collector `json:"fee_collector"`
	Total        int64             `json:"total"`     // what the buyer sends: Amount + Fee if the platform collects it
	Reference    string            `json:"reference"` // quoted by the buyer so incoming money can be matched
	Status       PaymentStatus     `json:"status"`
	CreatedAt    time.Time         `json:"created_at"`
	ExpiresAt    time.Time         `json:"expires_at"`
	ReceivedAt   *time.Time        `json:"received_at,omitempty"`
	// PayTo is the platform's account the buyer sends the money to (R8); none for Pay Later,
	// which the lender pays.
	PayTo *payment.CollectionAccount `json:"pay_to,omitempty" doc:"Where the buyer sends the money: the platform's designated account for the method and currency (R8). Absent for Pay Later, which the lender pays."`
	// Sandbox marks instructions of the built-in sandbox rail: it delivers the money by itself,
	// and no real money moves; for Pay Later, the sandbox pays for the lender.
	Sandbox bool `json:"sandbox" doc:"True when the sandbox issued these instructions (serve --sandbox): the payment is simulated, the sandbox delivers it by itself (for Pay Later, once the lender accepts to pay), and no real money moves."`
}

// AQL holds the acceptance quality limits of an inspection, per defect class (R5 default:
// 0 critical, 2.5 major, 4.0 minor).
type AQL struct {
	Critical string `json:"critical"`
	Major    string `json:"major"`
	Minor    string `json:"minor"`
}

// DefaultAQL is the industry standard of R5.
var DefaultAQL = AQL{Critical: "0", Major: "2.5", Minor: "4.0"}

// Finding is one checked requirement in an inspection report.
type Finding struct {
	Attribute string `json:"attribute"`
	Measured  string `json:"measured"`
	Pass      bool   `json:"pass"`
	Note      string `json:"note,omitempty"`
}

// Report is what the inspector submits (R16).
type Report struct {
	Passed      bool         `json:"passed"`
	SampleSize  int          `json:"sample_size"`
	Critical    int          `json:"critical"`
	Major       int          `json:"major"`
	Minor       int          `json:"minor"`
	Findings    []Finding    `json:"findings"`
	Photos      []Attachment `json:"photos"`
	Summary     string       `json:"summary"`
	InspectorID string       `json:"inspector_id"`
	SubmittedAt time.Time    `json:"submitted_at"`
	// Verdict is the platform's verdict against the contract, which decides Passed (R16);
	// InspectorPassed is then what the inspector recommended. Standard judges the defect
	// counts alone against the industry standard (R5). The platform sets all three.
	InspectorPassed *bool    `json:"inspector_passed,omitempty"`
	Verdict         *Verdict `json:"verdict,omitempty"`
	Standard        *Verdict `json:"industry_standard,omitempty"`
}

// Inspection is the pre-shipment inspection booked with a QC partner (R15).
type Inspection struct {
	InspectorID string    `json:"inspector_id"`
	BookedAt    time.Time `json:"booked_at"`
	// AtPlacement is true when the booking was made before production started, i.e. "when the
	// order was placed" in the sense of R19(b).
	AtPlacement bool     `json:"at_placement"`
	AQL         AQL      `json:"aql"`
	Reports     []Report `json:"reports"`
}

// Shipment records how and when the goods left.
type Shipment struct {
	ShippedOn    time.Time `json:"shipped_on"` // date
	Carrier      string    `json:"carrier"`
	Tracking     string    `json:"tracking_number"`
	BillOfLading string    `json:"bill_of_lading"`
	RecordedAt   time.Time `json:"recorded_at"`
}

// Tally is what the escrow of an order has seen, in minor units of the order currency. The
// order's escrow account balance always equals Held().
type Tally struct {
	Paid          int64 `json:"paid"`           // into escrow
	FeesCollected int64 `json:"fees_collected"` // beside the escrow, to fee revenue
	Released      int64 `json:"released"`       // escrow → supplier payable, in all
	ReleasedEarly int64 `json:"released_early"` // the part released before shipment (R14)
	Refunded      int64 `json:"refunded"`       // escrow → buyer refundable
	Guaranteed    int64 `json:"guaranteed"`     // refunded from the guarantee fund (R14)
	Returned      int64 `json:"returned"`       // stray money sent back to the buyer, never in escrow
	Reductions    int64 `json:"reductions"`     // agreed price reductions (partial refunds)
}

// Held is the escrow balance the order should have.
func (t Tally) Held() int64 { return t.Paid - t.Released - t.Refunded }

// NetPaid is what the buyer has paid and not had back.
func (t Tally) NetPaid() int64 { return t.Paid - t.Refunded - t.Guaranteed }

// Order is one Trade Assurance order and everything that happened to it.
type Order struct {
	ID                  string            `json:"id"`
	BuyerID             string            `json:"buyer_id"`
	SupplierID          string            `json:"supplier_id"`
	Currency            money.Currency    `json:"currency"`
	State               State             `json:"state"`
	ResumeState         State             `json:"resume_state,omitempty"` // where a late order returns after a new date
	Version             int64             `json:"version"`                // bumped by every change: optimistic concurrency
	PlacedAt            time.Time         `json:"placed_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
	ShipBy              time.Time         `json:"ship_by"`              // the shipping date in force (R2)
	ComplianceConfirmed bool              `json:"compliance_confirmed"` // the buyer's checkout confirmation (R2)
	Proposal            *Proposal         `json:"proposal,omitempty"`
	Contracts           []ContractVersion `json:"contracts"`
	Policy              ReleasePolicy     `json:"release_policy"`
	Coverage            int64             `json:"coverage"` // reserved from the supplier's limit (R22)
	CoverageCurrency    money.Currency    `json:"coverage_currency,omitempty"`
	Payments            []Payment         `json:"payments"`
	Inspection          *Inspection       `json:"inspection,omitempty"`
	Shipment            *Shipment         `json:"shipment,omitempty"`
	Disputes            []Dispute         `json:"disputes"`
	Money               Tally             `json:"money"`
	ClosedAt            *time.Time        `json:"closed_at,omitempty"`
}

// Contract returns the confirmed contract in force, or nil before the first confirmation.
func (o *Order) Contract() *ContractVersion {
	if len(o.Contracts) == 0 {
		return nil
	}
	return &o.Contracts[len(o.Contracts)-1]
}

// Total is the agreed order value after price reductions.
func (o *Order) Total() int64 {
	c := o.Contract()
	if c == nil {
		return 0
	}
	t, _ := c.Contract.Total() // validated when confirmed
	return t - o.Money.Reductions
}

// Outstanding is what the buyer still owes.
func (o *Order) Outstanding() int64 { return o.Total() - o.Money.NetPaid() }

// payment returns the latest payment of an installment that is not expired.
func (o *Order) live(inst Installment) *Payment {
	for i := len(o.Payments) - 1; i >= 0; i-- {
		if p := &o.Payments[i]; p.Installment == inst && p.Status != PaymentExpired {
			return p
		}
	}
	return nil
}

// pendingPayment returns a payment whose instructions are out and unpaid, if any.
func (o *Order) pendingPayment() *Payment {
	for i := range o.Payments {
		if o.Payments[i].Status == PaymentPending {
			return &o.Payments[i]
		}
	}
	return nil
}

func (o *Order) findPayment(id string) *Payment {
	for i := range o.Payments {
		if o.Payments[i].ID == id {
			return &o.Payments[i]
		}
	}
	return nil
}

// OpenDispute returns the dispute that is not closed, if any.
func (o *Order) OpenDispute() *Dispute {
	for i := range o.Disputes {
		if o.Disputes[i].ClosedAt == nil {
			return &o.Disputes[i]
		}
	}
	return nil
}

// Deadline is the instant the shipping date passes: the end of ShipBy, UTC.
func (o *Order) Deadline() time.Time { return o.ShipBy.AddDate(0, 0, 1) }

// Clone returns a deep copy, so a caller can keep the original when a command fails.
func (o *Order) Clone() *Order {
	b, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("marshal order: %v", err))
	}
	var c Order
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("unmarshal order: %v", err))
	}
	return &c
}

// Accounts of an order.
func (o *Order) escrow() ledger.Account {
	return ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: o.Currency}
}
func (o *Order) payable() ledger.Account {
	return ledger.Account{Kind: ledger.SupplierPayable, Owner: o.SupplierID, Currency: o.Currency}
}
func (o *Order) refundableAcct() ledger.Account {
	return ledger.Account{Kind: ledger.BuyerRefundable, Owner: o.BuyerID, Currency: o.Currency}
}
func (o *Order) receivable() ledger.Account {
	return ledger.Account{Kind: ledger.SupplierReceivable, Owner: o.SupplierID, Currency: o.Currency}
}

// RailAccount is the clearing account of a payment method in a currency.
func RailAccount(m payment.Method, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.RailClearing, Owner: string(m), Currency: c}
}

// SandboxRail owns the clearing account of the built-in sandbox rail.
const SandboxRail = "sandbox"

// SandboxAccount is the clearing account of the sandbox rail in c: every payment the sandbox
// delivers is debited to it, whatever the method, so the ledger tells simulated money from
// money a real rail received.
func SandboxAccount(c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.RailClearing, Owner: SandboxRail, Currency: c}
}

// SuspenseAccount holds unmatched money received on a rail (R8).
func SuspenseAccount(m payment.Method, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.Suspense, Owner: string(m), Currency: c}
}

// FeeAccount is where collected fees go.
func FeeAccount(m payment.Method, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.FeeRevenue, Owner: string(m), Currency: c}
}

// FundAccount is the guarantee fund in a currency.
func FundAccount(c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.GuaranteeFund, Owner: ledger.Platform, Currency: c}
}
