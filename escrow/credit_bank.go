package escrow

import (
	"context"
	"sync"
	"time"

	"github.com/tradeassure/tradeassure/money"
)

// Bank debits a buyer's business checking account for a Pay Later repayment (R11): the
// automatic debit on a due date, or an early payoff. The sandbox below is the first adapter;
// a real one goes through the lender's or an ACH provider's API.
type Bank interface {
	// Debit asks for d and reports whether it went through: false is the bank's refusal
	// (insufficient funds, a closed account), an error an outage. It is called inside the
	// command's transaction, which may be retried: asking again with the same Reference must
	// give the same answer and never debit twice.
	Debit(ctx context.Context, d BankDebit) (bool, error)
}

// BankDebit is one automatic debit from the buyer's business checking account to the lender.
type BankDebit struct {
	BuyerID   string       `json:"buyer_id"`
	LoanID    string       `json:"loan_id"`
	Amount    money.Amount `json:"amount"`
	Reference string       `json:"reference"` // unique per loan version: a retry repeats it
	At        time.Time    `json:"at"`
}

// SandboxBank is a bank in memory that pays every debit unless told to refuse a buyer's. It
// remembers each reference's answer, so a retried transaction sees the same outcome.
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
