package escrow

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/credit"
)

// LoanRecord is a Pay Later loan as the store keeps it: the domain's loan, and the order payment
// it finances (R11).
type LoanRecord struct {
	credit.Loan
	PaymentID string    `json:"payment_id"`
	CreatedAt time.Time `json:"created_at"`
	// BankDebit is the loan's newest debit request: pending while the bank worker waits for the
	// bank's answer, then its outcome. Filled when the loan is read through the Service; the
	// store never keeps it in the loan.
	BankDebit *DebitRequest `json:"bank_debit,omitempty"`
	// Disbursement is the loan's newest request for the lender to pay into the order's escrow:
	// requested while the lender worker waits for the lender, then recorded. Filled like
	// BankDebit.
	Disbursement *LenderRequest `json:"disbursement_request,omitempty"`
}

// CreditReader reads Pay Later state. The store's readers and transactions implement it beside
// Reader; the credit use cases reach it by a type assertion, so a Store without Pay Later still
// runs every other use case.
type CreditReader interface {
	// CreditApplications lists a buyer's applications, newest first, at most limit.
	CreditApplications(ctx context.Context, buyerID string, limit int) ([]credit.Application, error)
	// CreditApplicationsPage lists up to limit (1..PageSizeMax) of a buyer's applications after
	// the application after ("" for the first page), newest first: by submission time, then ID.
	CreditApplicationsPage(ctx context.Context, buyerID, after string, limit int) ([]credit.Application, error)
	CreditLine(ctx context.Context, id string) (credit.Line, error)
	// OpenCreditLine returns the buyer's line that is not closed (at most one), or ErrNotFound.
	OpenCreditLine(ctx context.Context, buyerID string) (credit.Line, error)
	Loan(ctx context.Context, id string) (LoanRecord, error)
	// LoansOfLine lists a line's loans by ID, at most limit (1..credit.StatementLoansMax).
	LoansOfLine(ctx context.Context, lineID string, limit int) ([]LoanRecord, error)
	// LoansOfLinePage lists up to limit (1..PageSizeMax) of a line's loans with an ID after
	// after, by ID.
	LoansOfLinePage(ctx context.Context, lineID, after string, limit int) ([]LoanRecord, error)
	// LoansOfOrder lists the loans that finance an order's payments, by ID.
	LoansOfOrder(ctx context.Context, orderID string) ([]LoanRecord, error)
	// LatestCreditLine returns the buyer's line that is not closed or, when every line is
	// closed, the one opened last; ErrNotFound when the buyer never had one.
	LatestCreditLine(ctx context.Context, buyerID string) (credit.Line, error)
	// CreditStatement returns a line's stored statement of a closed month, or ErrNotFound.
	CreditStatement(ctx context.Context, lineID string, p credit.Period) (credit.Statement, error)
	// CreditStatements lists a buyer's stored statements, newest month first, at most limit
	// (1..StatementsListMax).
	CreditStatements(ctx context.Context, buyerID string, limit int) ([]credit.Statement, error)
	// CreditStatementsPage lists up to limit (1..PageSizeMax) of a buyer's stored statements
	// after the statement after (its StatementKey; the zero key for the first page), newest
	// month first, then by line ID, descending.
	CreditStatementsPage(ctx context.Context, buyerID string, after StatementKey, limit int) ([]credit.Statement, error)
}

// StatementsListMax bounds a list of stored statements: ten years of months.
const StatementsListMax = 120

// CreditTx writes Pay Later state in a transaction. Rows are locked in a stable order — an
// order, then its buyer's credit line, then the line's loans — so two commands never deadlock.
type CreditTx interface {
	CreditReader
	InsertCreditApplication(ctx context.Context, a credit.Application) error // ErrDuplicate
	// InsertCreditLine stores a new line; ErrDuplicate when its ID exists or the buyer already
	// has a line that is not closed.
	InsertCreditLine(ctx context.Context, l credit.Line) error
	// LockCreditLine reads a line and locks it until commit: every change to the line's credit
	// (reserve, draw, restore) happens under this lock, so concurrent draws cannot pass its limit.
	LockCreditLine(ctx context.Context, id string) (credit.Line, error)
	UpdateCreditLine(ctx context.Context, l credit.Line) error // ErrNotFound
	// InsertLoan stores a new loan; ErrDuplicate when its ID exists or the payment it finances
	// already has a loan that was accepted.
	InsertLoan(ctx context.Context, l LoanRecord) error
	LockLoan(ctx context.Context, id string) (LoanRecord, error) // locked until commit
	// InsertCreditStatement stores a closed statement for good; ErrDuplicate when the line's
	// statement of that month is stored already. Stored statements are never updated.
	InsertCreditStatement(ctx context.Context, st credit.Statement) error
	// UpdateLoan writes l if the stored version is prevVersion, else ErrConflict; ErrDuplicate
	// when accepting it would give its payment a second accepted loan.
	UpdateLoan(ctx context.Context, l LoanRecord, prevVersion int) error
}
