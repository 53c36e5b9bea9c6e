// Package ledger is the double-entry, append-only book of every money movement. A transfer is a
// set of entries that sum to zero; it is never updated or deleted, and a correction is a new
// transfer. The package is pure: storage is an adapter's job.
package ledger

import (
	"fmt"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/money"
)

// Kind is the kind of an account (SPEC "Money").
type Kind string

// The account kinds. Each is kept per currency.
const (
	RailClearing       Kind = "rail_clearing"       // money in and out of the outside world, per rail
	Escrow             Kind = "escrow"              // held for one order
	SupplierPayable    Kind = "supplier_payable"    // released to a supplier, not yet paid out
	BuyerRefundable    Kind = "buyer_refundable"    // refunded to a buyer, not yet paid out
	FeeRevenue         Kind = "fee_revenue"         // fees the platform collected
	GuaranteeFund      Kind = "guarantee_fund"      // the platform's money that backs early releases (R14)
	SupplierReceivable Kind = "supplier_receivable" // what a supplier owes the platform (R14)
	Suspense           Kind = "suspense"            // money received without a matching order (R8)
	// PayoutsInTransit holds, per rail, what payouts told the rail to send to suppliers and the
	// rail has not yet confirmed sent: still owed, no longer the supplier's payable.
	PayoutsInTransit Kind = "payouts_in_transit"
	// The loan book of Pay Later (R11): the platform services loans a third-party lender owns.
	LoanReceivable Kind = "loan_receivable" // what a buyer owes the lender on one loan
	LenderFunding  Kind = "lender_funding"  // a lender's side of the loans the platform services
	CreditLoss     Kind = "credit_loss"     // what a lender wrote off: receivables of charged-off loans
)

// Kinds lists every kind.
var Kinds = []Kind{RailClearing, Escrow, SupplierPayable, BuyerRefundable, FeeRevenue, GuaranteeFund, SupplierReceivable, Suspense,
	PayoutsInTransit, LoanReceivable, LenderFunding, CreditLoss}

// DebitNormal reports whether the kind's balance grows with debits (an asset of the platform, or
// of the lender whose loans it services). The others are credit-normal: what the platform holds
// for, or owes to, someone.
func (k Kind) DebitNormal() bool {
	return k == RailClearing || k == SupplierReceivable || k == LoanReceivable || k == CreditLoss
}

// MayGoNegative reports whether the kind's natural balance may drop below zero. Only the rail
// clearing accounts may: they mirror the outside world, and reconciliation watches them.
func (k Kind) MayGoNegative() bool { return k == RailClearing }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Account names one account: a kind, whose it is, and its currency.
type Account struct {
	Kind     Kind
	Owner    string // order ID, organization ID, rail, or "platform"
	Currency money.Currency
}

// Platform is the owner of platform-wide accounts.
const Platform = "platform"

// ID is the account's stable identifier, "kind:owner:CUR".
func (a Account) ID() string { return string(a.Kind) + ":" + a.Owner + ":" + string(a.Currency) }

func (a Account) String() string { return a.ID() }

// ParseAccountID parses an ID made by Account.ID.
func ParseAccountID(s string) (Account, error) {
	i, j := strings.Index(s, ":"), strings.LastIndex(s, ":")
	if i <= 0 || j <= i+1 || j == len(s)-1 {
		return Account{}, fmt.Errorf("parse account id %q: want kind:owner:CUR", s)
	}
	a := Account{Kind: Kind(s[:i]), Owner: s[i+1 : j], Currency: money.Currency(s[j+1:])}
	if !a.Kind.Valid() || !a.Currency.Valid() {
		return Account{}, fmt.Errorf("parse account id %q: unknown kind or currency", s)
	}
	return a, nil
}

// Entry is one leg of a transfer: a positive Amount debits the account, a negative one credits it.
type Entry struct {
	Account Account
	Amount  int64
}

// Transfer is a balanced set of entries that commit together.
type Transfer struct {
	ID       string // unique; derived from the command that made it, so a retry cannot post twice
	Code     string // what it is, e.g. "payment_received", "release", "refund"
	Currency money.Currency
	OrderID  string // "" for movements not about one order
	Memo     string
	At       time.Time
	Entries  []Entry
}

// EntriesMax bounds the legs of one transfer.
const EntriesMax = 16

// Validate checks that t is well formed and balanced. A failure is a bug in whoever built t.
func (t Transfer) Validate() error {
	if t.ID == "" || t.Code == "" {
		return fmt.Errorf("transfer: id and code are required")
	}
	if !t.Currency.Valid() {
		return fmt.Errorf("transfer %s: unknown currency %q", t.ID, t.Currency)
	}
	if len(t.Entries) < 2 || len(t.Entries) > EntriesMax {
		return fmt.Errorf("transfer %s: %d entries, want 2..%d", t.ID, len(t.Entries), EntriesMax)
	}
	var sum money.Amount = money.Zero(t.Currency)
	for _, e := range t.Entries {
		if e.Amount == 0 {
			return fmt.Errorf("transfer %s: zero entry on %s", t.ID, e.Account)
		}
		if e.Account.Currency != t.Currency {
			return fmt.Errorf("transfer %s: entry on %s in another currency", t.ID, e.Account)
		}
		if !e.Account.Kind.Valid() || e.Account.Owner == "" {
			return fmt.Errorf("transfer %s: bad account %q", t.ID, e.Account.ID())
		}
		var err error
		if sum, err = sum.Add(money.New(e.Amount, t.Currency)); err != nil {
			return fmt.Errorf("transfer %s: %w", t.ID, err)
		}
	}
	if !sum.IsZero() {
		return fmt.Errorf("transfer %s: entries sum to %d, not zero", t.ID, sum.Minor)
	}
	return nil
}

// Builder assembles a transfer from movements of money between accounts.
type Builder struct {
	t   Transfer
	err error
}

// NewTransfer starts a transfer.
func NewTransfer(id, code string, cur money.Currency, orderID string, at time.Time) *Builder {
	return &Builder{t: Transfer{ID: id, Code: code, Currency: cur, OrderID: orderID, At: at}}
}

// Post debits one account and credits another with amount (> 0). A zero amount is skipped, so
// callers need not special-case an empty installment.
func (b *Builder) Post(debit, credit Account, amount int64) *Builder {
	switch {
	case b.err != nil, amount == 0:
	case amount < 0:
		b.err = fmt.Errorf("transfer %s: negative posting %d", b.t.ID, amount)
	default:
		b.t.Entries = append(b.t.Entries, Entry{debit, amount}, Entry{credit, -amount})
	}
	return b
}

// Memo sets the memo.
func (b *Builder) Memo(s string) *Builder { b.t.Memo = s; return b }

// Empty reports whether nothing was posted.
func (b *Builder) Empty() bool { return len(b.t.Entries) == 0 }

// Build validates and returns the transfer.
func (b *Builder) Build() (Transfer, error) {
	if b.err != nil {
		return Transfer{}, b.err
	}
	return b.t, b.t.Validate()
}
