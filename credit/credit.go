// Package credit is the pure domain of Pay Later (R11): a US business applies for a line of
// credit from a third-party lender, finances an order payment for one to six months, and repays
// it in monthly installments of equal principal plus a fee on the original principal.
//
// Everything here is a plain type or a pure function of its inputs: no I/O, no clock (time is
// a parameter), no lender API. A transition takes the current state, the command and now, and
// returns the new state plus its Effects — ledger transfers, events, timers — or a *fault.Error.
// The use-case layer (escrow) runs it in one database transaction; the lender and the buyer's
// bank are asked by workers outside any transaction (the lender and debit outboxes).
//
// All amounts are USD (R11); the package refuses any other currency with pay_later_usd_only.
package credit

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

// USD is the only currency of Pay Later (R11).
const USD money.Currency = "USD"

// Country is the only country of Pay Later: US businesses only (R11). ISO 3166-1 alpha-2.
const Country = "US"

// Stable reasons that clients and tests assert on.
const (
	ReasonUSDOnly        = "pay_later_usd_only"
	ReasonUSOnly         = "pay_later_us_only"
	ReasonLimitExceeded  = "credit_limit_exceeded"
	ReasonLineFrozen     = "credit_line_frozen"
	ReasonLineClosed     = "credit_line_closed"
	ReasonNotAllowed     = "transition_not_allowed"
	ReasonRoleNotAllowed = "role_not_allowed"
	ReasonInvalidAmount  = "invalid_amount"
	ReasonInvalidTerm    = "invalid_term"
	ReasonNothingDue     = "nothing_due"
)

// Role is who issues a command on a loan.
type Role string

// The roles.
const (
	RoleBuyer  Role = "buyer"  // the borrowing business
	RoleLender Role = "lender" // the lender's adapter (disbursements, debit results)
	RoleSystem Role = "system" // durable timers and the order's own use cases (a refund)
	RoleAdmin  Role = "admin"  // platform staff
)

// TimerKind is a durable deadline the use case stores and fires (R21).
type TimerKind string

// The timers.
const (
	// TimerDisburse fires Disburse at the expected disbursement time: the built-in lender pays
	// into the order's escrow then (R11: 1–3 working days after the agreement).
	TimerDisburse TimerKind = "pay_later_disburse"
	// TimerDebit fires the automatic debit of an installment on its due date.
	TimerDebit TimerKind = "pay_later_debit"
	// TimerDebitRetry retries a refused automatic debit DebitRetryBusinessDays US business days
	// after it (see Loan.RetryTimers).
	TimerDebitRetry TimerKind = "pay_later_debit_retry"
	// TimerChargeOff charges a loan off once it has been past due for ChargeOffDaysPastDue days.
	TimerChargeOff TimerKind = "pay_later_charge_off"
	// TimerStatement closes a line's monthly statement at the end of its period and stores it.
	TimerStatement TimerKind = "pay_later_statement"
	// TimerFundsOverdue marks a disbursement the lender accepted to pay overdue when its money
	// has not arrived by the end of the latest disbursement day (Agreement.FundsDeadline).
	TimerFundsOverdue TimerKind = "pay_later_funds_overdue"
)

// Timer asks for a command at DueAt. Key makes it unique: setting the same key again replaces
// the pending timer.
type Timer struct {
	Key    string    `json:"key"`
	Kind   TimerKind `json:"kind"`
	LoanID string    `json:"loan_id"`
	DueAt  time.Time `json:"due_at"`
}

// Event is one fact to append to the loan's audit log and publish.
type Event struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

// Effects is everything a transition asks the use case to write in the same transaction as the
// loan and its line.
type Effects struct {
	// Transfers move real money between accounts the ledger already knows: the lender's
	// clearing, the order's escrow, the buyer's refundable balance. They pass
	// ledger.Transfer.Validate.
	Transfers []ledger.Transfer
	// LoanBook mirrors the loan itself — principal drawn, fees billed, credits, the buyer's
	// payments, a charge-off — on the loan book's accounts (ledger.LoanReceivable,
	// ledger.LenderFunding, ledger.CreditLoss; see docs/pay-later.md). Each is balanced
	// (checked where built); the use case posts them in the loan's transaction.
	LoanBook []ledger.Transfer
	Events   []Event
	Timers   []Timer
}

// usd returns minor units of USD.
func usd(minor int64) money.Amount { return money.New(minor, USD) }

// requireUSD refuses an amount in any currency but USD (R11).
func requireUSD(field string, a money.Amount) error {
	if a.Currency != USD {
		return fault.FieldErr(field, ReasonUSDOnly, "Pay Later is available in USD only, not %s", currencyName(a.Currency))
	}
	return nil
}

func currencyName(c money.Currency) string {
	if c == "" {
		return "an amount without a currency"
	}
	return fmt.Sprintf("%q", string(c))
}

// CheckEligible refuses Pay Later for a buyer outside the US or a payment in another currency
// than USD (R11). Checkout calls it before offering Pay Later as a method.
func CheckEligible(buyerCountry string, currency money.Currency) error {
	if buyerCountry != Country {
		return fault.FieldErr("country", ReasonUSOnly, "Pay Later is available to US businesses only")
	}
	if currency != USD {
		return fault.FieldErr("currency", ReasonUSDOnly, "Pay Later is available in USD only, not %s", currencyName(currency))
	}
	return nil
}
