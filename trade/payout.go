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
// and sends only the rest. This file is the pure decision; escrow runs it in one transaction.

// TimerPayout pays out a supplier's payable balance in one currency: the automatic payout.
const TimerPayout TimerKind = "payout"

// PayoutStatus is where a payout is.
type PayoutStatus string

const (
	// PayoutSent: the remainder after netting left the platform through the payout rail.
	PayoutSent PayoutStatus = "sent"
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
// of Currency: PayableBefore = Netted + Sent.
type Payout struct {
	ID               string         `json:"id"`
	SupplierID       string         `json:"supplier_id"`
	Currency         money.Currency `json:"currency"`
	PayableBefore    int64          `json:"payable_before"`    // what the platform owed the supplier
	ReceivableBefore int64          `json:"receivable_before"` // what the supplier owed the platform (R14)
	Netted           int64          `json:"netted"`            // settled against that debt
	Sent             int64          `json:"sent"`              // sent to the supplier's bank
	Method           payment.Method `json:"method"`            // the rail the money left by
	Reference        string         `json:"reference"`         // what the supplier's bank statement shows
	Status           PayoutStatus   `json:"status"`
	Trigger          PayoutTrigger  `json:"trigger"`
	CreatedAt        time.Time      `json:"created_at"`
	TransferIDs      []string       `json:"transfer_ids"` // the ledger transfers it posted, netting first
}

// PayableAccount is what the platform owes a supplier in a currency: released, not paid out.
func PayableAccount(supplierID string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.SupplierPayable, Owner: supplierID, Currency: c}
}

// ReceivableAccount is what a supplier owes the platform in a currency (R14).
func ReceivableAccount(supplierID string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.SupplierReceivable, Owner: supplierID, Currency: c}
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

// PlanPayout decides a payout of a supplier's payable balance (natural sign, ≥ 0) given its
// receivable (what it owes, ≥ 0), both read under lock: the debt is netted first — a transfer
// supplier_payable → supplier_receivable of min(payable, receivable) — and the rest is sent —
// supplier_payable → rail_clearing of the payout rail. Nothing payable is refused.
func PlanPayout(id, supplierID string, c money.Currency, payable, receivable int64, trigger PayoutTrigger, now time.Time) (Payout, []ledger.Transfer, error) {
	if payable <= 0 {
		return Payout{}, nil, fault.New(fault.Conflict, "nothing_to_pay_out", "nothing is owed to this supplier in %s", c)
	}
	if receivable < 0 {
		receivable = 0 // a receivable never goes negative; the ledger refuses it
	}
	method, err := PayoutMethod(c)
	if err != nil {
		return Payout{}, nil, err
	}
	netted := min(payable, receivable)
	p := Payout{ID: id, SupplierID: supplierID, Currency: c, PayableBefore: payable, ReceivableBefore: receivable,
		Netted: netted, Sent: payable - netted, Method: method, Reference: PayoutReference(id), Status: PayoutSent,
		Trigger: trigger, CreatedAt: now}
	if p.Sent == 0 {
		p.Status = PayoutNetted
	}
	var out []ledger.Transfer
	post := func(suffix, code string, to ledger.Account, amount int64) error {
		if amount == 0 {
			return nil
		}
		t, err := ledger.NewTransfer("tr_"+id+"_"+suffix, code, c, "", now).
			Post(PayableAccount(supplierID, c), to, amount).Memo(p.Reference).Build()
		if err != nil {
			return err // a bug: amounts are positive and the accounts valid
		}
		out = append(out, t)
		p.TransferIDs = append(p.TransferIDs, t.ID)
		return nil
	}
	if err := post("net", "payout_netting", ReceivableAccount(supplierID, c), p.Netted); err != nil {
		return Payout{}, nil, err
	}
	if err := post("send", "payout", RailAccount(method, c), p.Sent); err != nil {
		return Payout{}, nil, err
	}
	return p, out, nil
}

// PayableCredit is one release that credited a supplier's payable account (R12, R14), and how
// much of it is still in the balance.
type PayableCredit struct {
	TransferID string    `json:"transfer_id"`
	Code       string    `json:"code"` // release or release_for_production
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
