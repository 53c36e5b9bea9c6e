package trade

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
)

// Payouts: money released to a supplier (R12) waits in its supplier_payable account until the
// platform pays it out to the supplier's bank. A payout first settles what the supplier owes the
// platform — the supplier_receivable a refund paid from the guarantee fund left behind (R14) —
// and asks the rail to send the rest: that money waits in payouts_in_transit until the rail
// confirms the wire left (sent) or the bank returns it (returned, back to the payable). This file
// is the pure decision; payout_lifecycle.go is the rail's answers; escrow runs both in
// transactions.

// TimerPayout pays out a supplier's payable balance in one currency: the automatic payout.
const TimerPayout TimerKind = "payout"

// PayoutStatus is where a payout is.
type PayoutStatus string

const (
	// PayoutRequested: the rail was told to send the remainder after netting; the money waits in
	// payouts_in_transit until the rail confirms the wire left, or the bank returns it.
	PayoutRequested PayoutStatus = "requested"
	// PayoutSent: the rail confirmed the wire left, with the bank's reference and value date.
	PayoutSent PayoutStatus = "sent"
	// PayoutReturned: the bank returned the payout (the supplier's account was wrong or closed);
	// the money is the supplier's payable again and its designated account is flagged.
	PayoutReturned PayoutStatus = "returned"
	// PayoutNetted: the whole payable went to settle the supplier's debt; nothing was sent.
	PayoutNetted PayoutStatus = "netted"
)

// PayoutTrigger says who asked for a payout.
type PayoutTrigger string

const (
	PayoutByAdmin   PayoutTrigger = "admin"     // "Pay out now"
	PayoutAutomatic PayoutTrigger = "automatic" // the daily timer after a release
)

// PayoutReferenceMax bounds a payout's reference: SWIFT MT103 field 20 holds 16 characters.
const PayoutReferenceMax = 16

// Payout is one payout of a supplier's payable balance in one currency. Amounts are minor units
// of Currency: PayableBefore = Netted + Sent. The first part is fixed when the payout is
// requested; the rail's answer fills in the rest.
type Payout struct {
	ID               string         `json:"id"`
	SupplierID       string         `json:"supplier_id"`
	Currency         money.Currency `json:"currency"`
	PayableBefore    int64          `json:"payable_before"`    // what the platform owed the supplier
	ReceivableBefore int64          `json:"receivable_before"` // what the supplier owed the platform (R14)
	Netted           int64          `json:"netted"`            // settled against that debt
	Sent             int64          `json:"sent"`              // what the rail is told to send to the supplier's bank
	Method           payment.Method `json:"method"`            // the rail the money leaves by
	Reference        string         `json:"reference"`         // what the supplier's bank statement shows
	Status           PayoutStatus   `json:"status"`
	Trigger          PayoutTrigger  `json:"trigger"`
	// Sandbox: requested while the sandbox ran; the sandbox payout rail answers it, its money
	// moves on the sandbox's accounts (payouts_in_transit:sandbox, rail_clearing:sandbox) and no
	// real money moves.
	Sandbox     bool      `json:"sandbox"`
	CreatedAt   time.Time `json:"created_at"`
	TransferIDs []string  `json:"transfer_ids"` // the ledger transfers it posted, in order

	// The rail's answer (or the one an operator read on the bank's report).
	BankReference string     `json:"bank_reference,omitempty"` // the bank's reference of the wire
	ValueDate     *time.Time `json:"value_date,omitempty"`     // the day the wire left (00:00 UTC)
	SentAt        *time.Time `json:"sent_at,omitempty"`        // when the confirmation was recorded
	ReturnedAt    *time.Time `json:"returned_at,omitempty"`    // when the return was recorded
	ReturnDate    *time.Time `json:"return_date,omitempty"`    // the day the bank returned it
	ReturnReason  string     `json:"return_reason,omitempty"`  // why, as the bank said
	RecordedBy    string     `json:"recorded_by,omitempty"`    // "rail:<name>" or "admin:<user>", last answer

	// The send outbox: while requested, the payout rail's worker asks the rail with the payout's
	// ID as the reference. Attention: no answer after the worker's attempts; an operator records
	// the bank's answer.
	Attempts      int       `json:"attempts,omitempty"`
	NextAttemptAt time.Time `json:"-"`
	LastError     string    `json:"last_error,omitempty"`
	Attention     bool      `json:"attention,omitempty"`
	LeaseOwner    string    `json:"-"`
	LeaseUntil    time.Time `json:"-"`
}

// Rail is the owner of the accounts the payout's money moves through: its method, or the
// sandbox for a sandbox payout.
func (p Payout) Rail() string {
	if p.Sandbox {
		return SandboxRail
	}
	return string(p.Method)
}

// PayableAccount is what the platform owes a supplier in a currency: released, not paid out.
func PayableAccount(supplierID string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.SupplierPayable, Owner: supplierID, Currency: c}
}

// ReceivableAccount is what a supplier owes the platform in a currency (R14).
func ReceivableAccount(supplierID string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.SupplierReceivable, Owner: supplierID, Currency: c}
}

// InTransitAccount holds what payouts told a rail to send in c and the rail has not confirmed.
// rail is a payment method, or SandboxRail.
func InTransitAccount(rail string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.PayoutsInTransit, Owner: rail, Currency: c}
}

// ClearingAccount is the clearing account of rail (a payment method, or SandboxRail) in c.
func ClearingAccount(rail string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.RailClearing, Owner: rail, Currency: c}
}

// payoutMethods are the rails a payout may leave by, in order of preference: the supplier's
// designated bank account by T/T (rails.md §2.1), an international wire where it takes the
// currency, else a local transfer. Neither carries a fee the platform collects: the banks'
// charges are theirs (R10, rails.md §0).
var payoutMethods = []payment.Method{payment.TTWire, payment.TTLocal}

// PayoutMethod returns the rail a payout in c leaves by, or a refusal when no rail pays out c.
func PayoutMethod(c money.Currency) (payment.Method, error) {
	for _, m := range payoutMethods {
		if mi, err := payment.Info(m); err == nil && mi.Accepts(c) {
			return m, nil
		}
	}
	return "", fault.New(fault.Conflict, "payout_rail_unavailable", "no payout rail pays out %s", c)
}

// PayoutTimerKey names the one live automatic-payout timer of a supplier in a currency.
func PayoutTimerKey(supplierID string, c money.Currency) string {
	return "payout/" + supplierID + "/" + string(c)
}

// NextPayoutAt is when the automatic payout after a release at t runs: the next 00:00 UTC,
// plus delay.
func NextPayoutAt(t time.Time, delay time.Duration) time.Time {
	return Day(t).AddDate(0, 0, 1).Add(delay)
}

// PayoutReference is the reference a payout carries to the supplier's bank: "TAP" and 13
// characters of a hash of its ID, upper case, within SWIFT's 16.
func PayoutReference(id string) string {
	h := sha256.Sum256([]byte(id))
	return "TAP" + strings.ToUpper(hex.EncodeToString(h[:]))[:PayoutReferenceMax-3]
}

// PayoutPlan is what a payout is decided from: the supplier's payable (natural sign, ≥ 0) and
// receivable (what it owes, ≥ 0), both read under lock, and whether its designated account is
// flagged by a returned payout.
type PayoutPlan struct {
	ID         string
	SupplierID string
	Currency   money.Currency
	Payable    int64
	Receivable int64
	Trigger    PayoutTrigger
	Sandbox    bool // the sandbox payout rail answers it: simulated, no money moves
	Flagged    bool // a payout was returned and no admin has cleared the account since
	Now        time.Time
}

// PlanPayout decides a payout: the debt is netted first — a transfer supplier_payable →
// supplier_receivable of min(payable, receivable) — and the rest is requested from the rail —
// supplier_payable → payouts_in_transit of the payout's rail, where it waits for the rail's
// answer. Nothing payable, no rail for the currency, or a flagged account is refused.
func PlanPayout(in PayoutPlan) (Payout, []ledger.Transfer, error) {
	c := in.Currency
	if in.Payable <= 0 {
		return Payout{}, nil, fault.New(fault.Conflict, "nothing_to_pay_out", "nothing is owed to this supplier in %s", c)
	}
	receivable := max(in.Receivable, 0) // a receivable never goes negative; the ledger refuses it
	method, err := PayoutMethod(c)
	if err != nil {
		return Payout{}, nil, err
	}
	netted := min(in.Payable, receivable)
	if in.Flagged && in.Payable > netted {
		return Payout{}, nil, fault.New(fault.Conflict, "payout_account_flagged",
			"a payout to this supplier was returned by the bank: an admin must clear its designated account before money is sent again")
	}
	p := Payout{ID: in.ID, SupplierID: in.SupplierID, Currency: c, PayableBefore: in.Payable, ReceivableBefore: receivable,
		Netted: netted, Sent: in.Payable - netted, Method: method, Reference: PayoutReference(in.ID), Status: PayoutRequested,
		Trigger: in.Trigger, Sandbox: in.Sandbox, CreatedAt: in.Now, NextAttemptAt: in.Now}
	if p.Sent == 0 {
		p.Status, p.NextAttemptAt = PayoutNetted, time.Time{}
	}
	var out []ledger.Transfer
	post := func(suffix, code string, to ledger.Account, amount int64) error {
		if amount == 0 {
			return nil
		}
		t, err := ledger.NewTransfer("tr_"+in.ID+"_"+suffix, code, c, "", in.Now).
			Post(PayableAccount(in.SupplierID, c), to, amount).Memo(p.Reference).Build()
		if err != nil {
			return err // a bug: amounts are positive and the accounts valid
		}
		out = append(out, t)
		p.TransferIDs = append(p.TransferIDs, t.ID)
		return nil
	}
	if err := post("net", CodePayoutNetting, ReceivableAccount(in.SupplierID, c), p.Netted); err != nil {
		return Payout{}, nil, err
	}
	if err := post("req", CodePayoutRequested, InTransitAccount(p.Rail(), c), p.Sent); err != nil {
		return Payout{}, nil, err
	}
	return p, out, nil
}

// PayableCredit is one release that credited a supplier's payable account (R12, R14), and how
// much of it is still in the balance.
type PayableCredit struct {
	TransferID string    `json:"transfer_id"`
	Code       string    `json:"code"` // release, release_for_production, or payout_returned (a payout the bank returned)
	OrderID    string    `json:"order_id"`
	At         time.Time `json:"at"`
	Amount     int64     `json:"amount"`
	Unpaid     int64     `json:"unpaid"` // the part still owed: payouts pay the oldest releases first
}

// PayableComposition names the releases that make up a payable balance: payouts and netting pay
// the oldest releases first, so the balance is the newest releases, the oldest of them perhaps
// in part. credits are newest first; the result is too, and stops once the balance is covered.
func PayableComposition(balance int64, credits []PayableCredit) []PayableCredit {
	var out []PayableCredit
	for _, c := range credits {
		if balance <= 0 {
			break
		}
		c.Unpaid = min(c.Amount, balance)
		balance -= c.Unpaid
		out = append(out, c)
	}
	return out
}
