package escrow

import (
	"context"
	"sync"
	"time"

	"github.com/tradeassure/tradeassure/money"
)

// Bank debits a buyer's business checking account for a Pay Later repayment (R11): the
// automatic debit on a due date or its retry, or an early payoff. The sandbox below is the first
// adapter; a real one goes through the lender's or an ACH provider's API.
//
// The bank is never called inside a database transaction. A command records a debit request
// (the debit outbox, credit_debits.go); the bank worker claims it with a lease, calls Debit
// outside any transaction, and records the answer in a transaction of its own. So Debit may take
// seconds, time out, or be asked again: a worker that dies after the bank answered but before
// the answer was recorded leaves its lease to lapse, and another worker asks again with the
// same Reference.
type Bank interface {
	// Debit asks for d and reports whether it went through: false is the bank's refusal
	// (insufficient funds, a closed account), an error means no answer (an outage, a timeout:
	// the worker asks again later). Asking again with the same Reference must give the same
	// answer as the first time and never debit twice; the Reference is unique per request.
	Debit(ctx context.Context, d BankDebit) (bool, error)
}

// BankDebit is one automatic debit from the buyer's business checking account to the lender.
type BankDebit struct {
	BuyerID      string       `json:"buyer_id"`
	LoanID       string       `json:"loan_id"`
	Kind         DebitKind    `json:"kind"`
	Amount       money.Amount `json:"amount"`
	AccountLast4 string       `json:"account_last4"` // the linked business checking account
	Reference    string       `json:"reference"`     // the debit request's ID: asking again repeats it
	At           time.Time    `json:"at"`            // when the debit was requested
}

// SandboxBank is a bank in memory that pays every debit unless told to refuse a buyer's. It
// remembers each reference's answer, so a debit asked again — after a worker died between the
// answer and its record — gets the same answer and is not debited twice, as Bank requires.
type SandboxBank struct {
	mu      sync.Mutex
	failing map[string]bool // buyer ID → refuse its debits
	answers map[string]bool // reference → the answer given
	debits  []BankDebit     // the debits that went through, oldest first
}

// NewSandboxBank returns a sandbox bank that pays every debit.
func NewSandboxBank() *SandboxBank {
	return &SandboxBank{failing: map[string]bool{}, answers: map[string]bool{}}
}

var _ Bank = (*SandboxBank)(nil)

// SetFailing makes the buyer's debits fail (an empty account) or go through again.
func (b *SandboxBank) SetFailing(buyerID string, fail bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failing[buyerID] = fail
}

// Debit pays d unless the buyer's debits are set to fail; the same reference gets the same answer.
func (b *SandboxBank) Debit(_ context.Context, d BankDebit) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok, seen := b.answers[d.Reference]; seen {
		return ok, nil
	}
	ok := !b.failing[d.BuyerID]
	b.answers[d.Reference] = ok
	if ok {
		b.debits = append(b.debits, d)
	}
	return ok, nil
}

// Debits returns the debits that went through, oldest first.
func (b *SandboxBank) Debits() []BankDebit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BankDebit(nil), b.debits...)
}
