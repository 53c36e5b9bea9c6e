package escrow

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Bank debits a buyer's business checking account for a Pay Later repayment (R11): the
// automatic debit on a due date or its retry, or an early payoff. This machine has no adapter
// for a real bank: with the sandbox on (Options.Sandbox.Enabled, serve --sandbox or --demo) the
// SandboxBank below answers, and says so; with it off, debit requests wait in the outbox until an
// operator records the bank's answer (RecordBankDebitResult) — nothing invents one.
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

// SandboxBankStore keeps the sandbox bank's settings and answers in the database, so that every
// process shares them and they survive a restart. The store implements it.
type SandboxBankStore interface {
	// SetSandboxFailing makes the sandbox refuse the buyer's debits from now on, or pay them.
	SetSandboxFailing(ctx context.Context, buyerID string, fail bool, at time.Time) error
	// SandboxFailing reports whether the sandbox refuses the buyer's debits.
	SandboxFailing(ctx context.Context, buyerID string) (bool, error)
	// SandboxDebit answers d once, in one transaction: the answer stored for d.Reference if there
	// is one, else paid unless the buyer's debits are set to fail, stored for good.
	SandboxDebit(ctx context.Context, d BankDebit, at time.Time) (bool, error)
	// SandboxDebits lists the debits the sandbox paid, oldest first, at most limit.
	SandboxDebits(ctx context.Context, limit int) ([]BankDebit, error)
}

// SandboxDebitsListMax bounds a list of the sandbox bank's debits.
const SandboxDebitsListMax = 1000

// SandboxBank is a simulated bank, used only with the sandbox on: it pays every debit unless told
// to refuse a buyer's, moves no money, and its answers are labelled sandbox in the API and the
// portal. It keeps each reference's answer in the database, so a debit asked again — after a
// worker died between the answer and its record, or from another process — gets the same answer
// and is not debited twice, as Bank requires.
type SandboxBank struct {
	store SandboxBankStore
	clock Clock
}

// NewSandboxBank returns a sandbox bank over st that pays every debit until told otherwise.
func NewSandboxBank(st SandboxBankStore, clock Clock) *SandboxBank {
	if clock == nil {
		clock = SystemClock{}
	}
	return &SandboxBank{store: st, clock: clock}
}

var _ Bank = (*SandboxBank)(nil)

// SetFailing makes the buyer's debits fail (an empty account) or go through again, for every
// process sharing the database.
func (b *SandboxBank) SetFailing(ctx context.Context, buyerID string, fail bool) error {
	if buyerID == "" {
		return fault.FieldErr("buyer_id", "buyer_required", "name the buyer whose debits the sandbox bank refuses or pays")
	}
	return b.store.SetSandboxFailing(ctx, buyerID, fail, b.clock.Now())
}

// Failing reports whether the buyer's debits are set to fail.
func (b *SandboxBank) Failing(ctx context.Context, buyerID string) (bool, error) {
	return b.store.SandboxFailing(ctx, buyerID)
}

// Debit pays d unless the buyer's debits are set to fail; the same reference gets the same
// answer, whenever and by whichever process it is asked.
func (b *SandboxBank) Debit(ctx context.Context, d BankDebit) (bool, error) {
	return b.store.SandboxDebit(ctx, d, b.clock.Now())
}

// Debits returns the debits the sandbox paid, oldest first (at most SandboxDebitsListMax).
func (b *SandboxBank) Debits(ctx context.Context) ([]BankDebit, error) {
	return b.store.SandboxDebits(ctx, SandboxDebitsListMax)
}
