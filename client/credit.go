package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"time"

	"github.com/tradeassure/tradeassure/money"
)

// Pay Later (R11): iterators over a buyer's applications, loans and closed statements, and an
// admin's bank debit and lender outboxes, page after page. The types carry what a script reads;
// GET the same paths for every field (docs/pay-later.md).

// CreditApplication is an application for a Pay Later line with the lender's decision, once
// recorded. Identifiers are masked.
type CreditApplication struct {
	ID          string          `json:"id"`
	BuyerID     string          `json:"buyer_id"`
	Channel     string          `json:"channel"` // checkout or in_advance
	OrderID     string          `json:"order_id,omitempty"`
	Status      string          `json:"status"` // submitted, approved, declined or more_information_needed
	SubmittedAt time.Time       `json:"submitted_at"`
	Decision    *CreditDecision `json:"decision,omitempty"` // nil while submitted
}

// CreditDecision is the lender's decision on an application, with every reason.
type CreditDecision struct {
	Status  string       `json:"status"`
	Limit   money.Amount `json:"limit"` // zero unless approved
	Reasons []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reasons"`
	DecidedAt time.Time `json:"decided_at"`
}

// Loan is a loan of a buyer's line: its state, principal, live schedule and what it costs now.
type Loan struct {
	ID        string `json:"id"`
	LineID    string `json:"line_id"`
	BuyerID   string `json:"buyer_id"`
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"` // the order payment it finances
	State     string `json:"state"`      // agreement_pending, agreed, disbursed, active, past_due, paid_off, charged_off, cancelled
	Agreement struct {
		Principal  money.Amount `json:"principal"`
		TermMonths int          `json:"term_months"`
		TotalCost  money.Amount `json:"total_cost"`
		APR        int64        `json:"apr"` // in millionths: 123400 is 12.34%
	} `json:"agreement"`
	Installments []struct {
		N       int          `json:"n"`
		DueDate time.Time    `json:"due_date"`
		Total   money.Amount `json:"total"`
		Status  string       `json:"status"`
		Paid    money.Amount `json:"paid"`
	} `json:"installments"`
	Balance     money.Amount `json:"balance"`      // what the buyer owes now
	DueNow      money.Amount `json:"due_now"`      // what the next automatic debit would collect now
	PayoffQuote money.Amount `json:"payoff_quote"` // what paying it off now costs
	BankDebit   *BankDebit   `json:"bank_debit,omitempty"`
}

// Statement is a closed monthly statement of a buyer's line (CSV, JSON or PDF of one month:
// GET /v1/credit/statements/{period}).
type Statement struct {
	LineID        string       `json:"line_id"`
	BuyerID       string       `json:"buyer_id"`
	Period        string       `json:"period"` // YYYY-MM (UTC)
	Status        string       `json:"status"` // closed
	ClosedAt      time.Time    `json:"closed_at"`
	Opening       money.Amount `json:"opening_balance"`
	Closing       money.Amount `json:"closing_balance"`
	NextDueDate   time.Time    `json:"next_due_date"`
	NextDueAmount money.Amount `json:"next_due_amount"`
	PastDue       money.Amount `json:"past_due"`
}

// BankDebit is a debit of a buyer's business checking account, as the bank debit outbox keeps
// it.
type BankDebit struct {
	ID          string       `json:"id"` // the reference the bank sees
	LoanID      string       `json:"loan_id"`
	BuyerID     string       `json:"buyer_id"`
	Kind        string       `json:"kind"` // installment, retry or payoff
	Amount      money.Amount `json:"amount"`
	Status      string       `json:"status"` // requested, succeeded, refused, attention or unapplied
	Attempts    int          `json:"attempts"`
	LastError   string       `json:"last_error,omitempty"`
	RequestedAt time.Time    `json:"requested_at"`
	RecordedAt  *time.Time   `json:"recorded_at,omitempty"`
	Sandbox     bool         `json:"sandbox"` // answered by the sandbox bank: no money moved
}

// LenderRequest is a request to the lender — an application to decide or a disbursement to
// make — as the lender outbox keeps it.
type LenderRequest struct {
	ID            string       `json:"id"` // the reference the lender sees
	Kind          string       `json:"kind"`
	BuyerID       string       `json:"buyer_id"`
	ApplicationID string       `json:"application_id,omitempty"`
	LoanID        string       `json:"loan_id,omitempty"`
	Amount        money.Amount `json:"amount"`
	// PaymentReference is what the lender's money must quote (a disbursement): the order
	// payment's reference on the pay_later rail.
	PaymentReference string          `json:"payment_reference,omitempty"`
	Status           string          `json:"status"`             // requested, awaiting_funds, recorded or attention
	Sandbox          bool            `json:"sandbox"`            // the sandbox pays for the lender: no real money
	FundsID          string          `json:"funds_id,omitempty"` // the money that paid the disbursement
	Attempts         int             `json:"attempts"`
	LastError        string          `json:"last_error,omitempty"`
	Answer           json.RawMessage `json:"answer,omitempty"`
	FundsDueAt       *time.Time      `json:"funds_due_at,omitempty"` // when the lender's money is due
	OverdueAt        *time.Time      `json:"overdue_at,omitempty"`   // when it was marked overdue
	RequestedAt      time.Time       `json:"requested_at"`
	RecordedAt       *time.Time      `json:"recorded_at,omitempty"`
}

// buyerQuery names the buyer of a Pay Later list: "" for the caller's own (a buyer), or the
// buyer an admin reads.
func buyerQuery(buyerID string) url.Values {
	if buyerID == "" {
		return nil
	}
	return url.Values{"buyer_id": {buyerID}}
}

// AllCreditApplications iterates over a buyer's credit applications, newest first: pass "" for
// your own (a buyer's key), or the buyer (an admin's key).
func (c *Client) AllCreditApplications(ctx context.Context, buyerID string) iter.Seq2[CreditApplication, error] {
	return all[CreditApplication, string](ctx, c, "/v1/credit/applications", buyerQuery(buyerID))
}

// AllLoans iterates over the loans of a buyer's line, by ID: "" for your own, or the buyer (admin).
func (c *Client) AllLoans(ctx context.Context, buyerID string) iter.Seq2[Loan, error] {
	return all[Loan, string](ctx, c, "/v1/credit/loans", buyerQuery(buyerID))
}

// AllStatements iterates over a buyer's closed monthly statements, newest month first: "" for
// your own, or the buyer (admin).
func (c *Client) AllStatements(ctx context.Context, buyerID string) iter.Seq2[Statement, error] {
	return all[Statement, string](ctx, c, "/v1/credit/statements", buyerQuery(buyerID))
}

// BankDebitFilter narrows the bank debit outbox; empty fields match everything.
type BankDebitFilter struct {
	Status string // attention: those waiting for an operator
	LoanID string
}

// AllBankDebits iterates over the bank debit outbox, newest first (admin).
func (c *Client) AllBankDebits(ctx context.Context, f BankDebitFilter) iter.Seq2[BankDebit, error] {
	return all[BankDebit, string](ctx, c, "/v1/credit/bank-debits", nonEmpty("status", f.Status, "loan_id", f.LoanID))
}

// LenderRequestFilter narrows the lender outbox; empty fields match everything.
type LenderRequestFilter struct {
	Status        string // attention: those waiting for an operator
	Kind          string // decision or disbursement
	LoanID        string
	ApplicationID string
}

// AllLenderRequests iterates over the lender outbox, newest first (admin).
func (c *Client) AllLenderRequests(ctx context.Context, f LenderRequestFilter) iter.Seq2[LenderRequest, error] {
	return all[LenderRequest, string](ctx, c, "/v1/credit/lender-requests", nonEmpty("status", f.Status, "kind", f.Kind,
		"loan_id", f.LoanID, "application_id", f.ApplicationID))
}

// nonEmpty is a query of the name, value pairs whose value is not empty.
func nonEmpty(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}
