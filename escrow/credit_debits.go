package escrow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// The debit outbox (R11, docs/pay-later.md): a due date, a retry or an early payoff records a
// debit request in the command's transaction and nothing else about money; the bank worker
// (RunBankDebits) asks the bank outside any transaction and records the answer in one of its
// own. The request's ID is the reference the bank sees, so asking again never debits twice.

// DebitKind is why a loan is debited.
type DebitKind string

// The debit kinds.
const (
	DebitInstallment DebitKind = "installment" // the automatic debit on a due date
	DebitRetry       DebitKind = "retry"       // a refused due-date debit tried again
	DebitPayoff      DebitKind = "payoff"      // the buyer paying the loan off early
)

// DebitStatus is where a debit request is.
type DebitStatus string

// The debit statuses. Requested and attention are open: a loan has at most one open request,
// and nothing else is debited from it meanwhile.
const (
	DebitRequested DebitStatus = "requested" // waiting for the bank's answer (the worker asks, and asks again after an outage)
	DebitSucceeded DebitStatus = "succeeded" // the bank paid it; the repayment is recorded on the loan
	DebitRefused   DebitStatus = "refused"   // the bank refused it; a due-date debit made the loan past due
	// DebitAttention: no answer after BankDebitAttemptsMax attempts. Whether money moved is
	// unknown, so the loan takes no other debit until an operator retries it (RetryBankDebit).
	DebitAttention DebitStatus = "attention"
	// DebitUnapplied: the bank paid it, but the loan had changed meanwhile (a refund of its order
	// repaid part of it) so the amount no longer matches what is owed. Nothing is posted; an
	// operator settles the difference with the lender. It does not block the loan.
	DebitUnapplied DebitStatus = "unapplied"
)

// Open reports whether the request still holds the loan's debits.
func (s DebitStatus) Open() bool { return s == DebitRequested || s == DebitAttention }

// DebitRequest is one debit of a buyer's business checking account, as the outbox keeps it.
type DebitRequest struct {
	ID            string       `json:"id" doc:"The reference the bank sees: asking again with it never debits twice."`
	LoanID        string       `json:"loan_id"`
	BuyerID       string       `json:"buyer_id"`
	Kind          DebitKind    `json:"kind" enum:"installment,retry,payoff"`
	Amount        money.Amount `json:"amount"`
	AccountLast4  string       `json:"account_last4" doc:"The last four digits of the business checking account debited."`
	LoanVersion   int          `json:"loan_version" doc:"The loan's version when the debit was requested."`
	Status        DebitStatus  `json:"status" enum:"requested,succeeded,refused,attention,unapplied"`
	Attempts      int          `json:"attempts" doc:"How many times the bank was asked."`
	NextAttemptAt time.Time    `json:"next_attempt_at"`
	LastError     string       `json:"last_error,omitempty" doc:"Why the bank gave no answer last time."`
	RequestedAt   time.Time    `json:"requested_at"`
	RecordedAt    *time.Time   `json:"recorded_at,omitempty" doc:"When the bank's answer was recorded."`
	Sandbox       bool         `json:"sandbox" doc:"Answered by the sandbox bank: simulated, no money moved."`
	RecordedBy    string       `json:"recorded_by,omitempty" doc:"The operator who recorded the bank's answer by hand; empty when the bank worker did."`
	LeaseOwner    string       `json:"-"`
	LeaseUntil    time.Time    `json:"-"`
}

// Bank worker limits.
const (
	BankDebitBatchMax = 20 // requests claimed at once
	// BankDebitTimeout bounds one call to the bank; BankDebitLease is longer, so no other worker
	// asks while a call and its record are under way.
	BankDebitTimeout = 30 * time.Second
	BankDebitLease   = 2 * time.Minute
	// BankDebitAttemptsMax is how many times the bank is asked without an answer before the
	// request is marked for an operator (DebitAttention): about three hours of outage with the
	// backoff below.
	BankDebitAttemptsMax = 8
	// BankDebitBackoffBase is the wait after the first unanswered attempt; it doubles with each
	// attempt, up to BankDebitBackoffMax.
	BankDebitBackoffBase = time.Minute
	BankDebitBackoffMax  = time.Hour
	// DebitPendingRecheck is how long a debit or charge-off timer that finds a debit still open
	// on its loan waits before it looks again.
	DebitPendingRecheck = time.Hour
	// BankDebitsListMax bounds a page of debit requests.
	BankDebitsListMax = 200
)

// BankDebitBackoff is the wait after the attempts-th unanswered attempt.
func BankDebitBackoff(attempts int) time.Duration {
	d := BankDebitBackoffBase
	for i := 1; i < attempts && d < BankDebitBackoffMax; i++ {
		d *= 2
	}
	return min(d, BankDebitBackoffMax)
}

// DebitFilter selects debit requests; empty fields match everything.
type DebitFilter struct {
	Status DebitStatus
	LoanID string
	After  string // the ID of the last request of the previous page; "" for the first page
	Limit  int    // 1..BankDebitsListMax
	// Order is the page's order: newest first (the API's) or OldestFirst; FundsDueFirst is
	// not one of a debit's.
	Order ListOrder
}

// BankDebitReader reads debit requests; the store's readers and transactions implement it.
type BankDebitReader interface {
	// OpenBankDebit returns the loan's open request (requested or attention), or ErrNotFound.
	OpenBankDebit(ctx context.Context, loanID string) (DebitRequest, error)
	// LatestBankDebit returns the loan's newest request, or ErrNotFound.
	LatestBankDebit(ctx context.Context, loanID string) (DebitRequest, error)
	BankDebit(ctx context.Context, id string) (DebitRequest, error)
	// BankDebits lists up to f.Limit requests after the request f.After in f.Order (newest
	// first by default: by request time, then ID), narrowed by f; a cursor naming no request
	// gives an empty page.
	BankDebits(ctx context.Context, f DebitFilter) ([]DebitRequest, error)
}

// BankDebitTx writes debit requests in a transaction. A request is locked after its loan.
type BankDebitTx interface {
	BankDebitReader
	// InsertBankDebit stores a new request; ErrDuplicate when its ID exists or its loan has an
	// open request already.
	InsertBankDebit(ctx context.Context, d DebitRequest) error
	// LockBankDebit reads a request and locks it until commit. With an owner it must be
	// requested and leased by that owner, else ErrNotFound (another worker took it over).
	LockBankDebit(ctx context.Context, id, owner string) (DebitRequest, error)
	// UpdateBankDebit writes a locked request's status, attempts, schedule, error and record
	// time, and clears its lease.
	UpdateBankDebit(ctx context.Context, d DebitRequest) error
}

// BankDebitClaimer is the store's claim on due requests, in a transaction of its own.
type BankDebitClaimer interface {
	// ClaimBankDebits leases up to limit requested debits due at now (next attempt reached, no
	// live lease) to owner until now+lease, counting an attempt on each. Concurrent claimers
	// never get the same request while its lease runs (SKIP LOCKED on PostgreSQL; the single
	// writer on SQLite).
	ClaimBankDebits(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]DebitRequest, error)
}

func (u *unit) debitTx() (BankDebitTx, error) {
	dt, ok := u.tx.(BankDebitTx)
	if !ok {
		return nil, fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep debit requests")
	}
	return dt, nil
}

// applicationsScanMax bounds the applications read to find the checking account: a buyer has
// one open line, and few applications.
const applicationsScanMax = 20

// checkingLast4 is the buyer's linked business checking account: the one its newest approved
// application gave, "" when none is known.
func checkingLast4(ctx context.Context, ct CreditTx, buyerID string) (string, error) {
	apps, err := ct.CreditApplications(ctx, buyerID, applicationsScanMax)
	if err != nil {
		return "", err
	}
	for _, a := range apps {
		if a.Status != credit.Approved {
			continue
		}
		for _, acc := range a.Accounts {
			if acc.Kind == credit.BusinessChecking {
				return string(acc.Mask), nil
			}
		}
	}
	return "", nil
}

// lockedLoan locks a loan its actor may see, with its line, in the order every loan command
// locks them; the line is not changed.
func lockedLoan(ctx context.Context, u *unit, ct CreditTx, loanID string) (LoanRecord, credit.Line, error) {
	l, err := ct.Loan(ctx, loanID)
	if err != nil {
		return LoanRecord{}, credit.Line{}, notFound(err, "loan")
	}
	if !loanVisible(u.actor, l) {
		return LoanRecord{}, credit.Line{}, fault.New(fault.NotFound, "loan_not_found", "no such loan")
	}
	return lockLoanAndLine(ctx, u, ct, loanID)
}

// requestDebit records a debit request of amount on the locked loan l, and its event. Nothing
// else is written: the money moves when the bank worker records the bank's answer.
func (s *Service) requestDebit(ctx context.Context, u *unit, ct CreditTx, dt BankDebitTx, l LoanRecord, kind DebitKind, amount money.Amount) (DebitRequest, error) {
	last4, err := checkingLast4(ctx, ct, l.BuyerID)
	if err != nil {
		return DebitRequest{}, err
	}
	d := DebitRequest{ID: newID("pld"), LoanID: l.ID, BuyerID: l.BuyerID, Kind: kind, Amount: amount, AccountLast4: last4,
		LoanVersion: l.Version, Status: DebitRequested, NextAttemptAt: u.now, RequestedAt: u.now, Sandbox: s.cred.sandbox}
	if err := dt.InsertBankDebit(ctx, d); err != nil {
		return DebitRequest{}, fmt.Errorf("insert debit request: %w", err)
	}
	return d, u.appendEvent(ctx, l.ID, []string{l.BuyerID}, "loan.debit_requested", map[string]any{
		"loan_id": l.ID, "debit_id": d.ID, "kind": kind, "amount": amount, "account_last4": last4, "sandbox": d.Sandbox})
}

// postpone sets a timer again DebitPendingRecheck from now, because a debit is open on its loan.
func (u *unit) postpone(ctx context.Context, t StoredTimer, open DebitRequest) (string, error) {
	if err := u.tx.PutTimer(ctx, trade.Timer{Key: t.Key, Kind: t.Kind, OrderID: t.OrderID, DueAt: u.now.Add(DebitPendingRecheck),
		Ref: t.Ref}); err != nil {
		return "", fmt.Errorf("put timer: %w", err)
	}
	return fmt.Sprintf("postponed: debit %s is %s", open.ID, open.Status), nil
}

// openDebit returns the loan's open request, if any.
func openDebit(ctx context.Context, dt BankDebitTx, loanID string) (*DebitRequest, error) {
	d, err := dt.OpenBankDebit(ctx, loanID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &d, nil
}

// collect is the automatic debit on a due date, or its retry (R11): everything due at now,
// overdue installments included, is requested from the buyer's bank through the debit outbox.
// While another debit of the loan is open the timer waits (DebitPendingRecheck): the open one
// asks for less than what is due now, and two debits at once could take the same money twice.
func (s *Service) collect(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	ct, err := u.creditTx()
	if err != nil {
		return "", err
	}
	dt, err := u.debitTx()
	if err != nil {
		return "", err
	}
	l, _, err := lockedLoan(ctx, u, ct, t.Ref)
	if err != nil {
		return "", err
	}
	if open, err := openDebit(ctx, dt, l.ID); err != nil || open != nil {
		if err != nil {
			return "", err
		}
		return u.postpone(ctx, t, *open)
	}
	if _, ok := credit.Lookup(l.State, credit.CmdDebit); !ok {
		return "", fault.New(fault.Conflict, credit.ReasonNotAllowed, "the loan is %s", l.State)
	}
	c, err := credit.Collect(l.Loan, u.now)
	if err != nil {
		return "", err
	}
	kind := DebitInstallment
	if credit.TimerKind(t.Kind) == credit.TimerDebitRetry {
		kind = DebitRetry
	}
	d, err := s.requestDebit(ctx, u, ct, dt, l, kind, c.Amount)
	if err != nil {
		return "", &dirtyError{err}
	}
	return "debit of " + c.Amount.String() + " requested: " + d.ID, nil
}

// PayOffLoan asks to repay the whole loan early (R11): its quote now — the principal left and
// the fees of the months begun — is requested from the buyer's bank through the debit outbox,
// and the loan returned shows the payoff pending (BankDebit). The bank worker records the answer:
// paid, the loan is paid off and its principal available on the line again; refused, nothing
// changes and the buyer may ask again. A second request while the payoff is pending returns
// it, so a double submission debits once; while a due-date debit is pending it is refused
// with debit_pending.
func (s *Service) PayOffLoan(ctx context.Context, a trade.Actor, key, loanID string) (LoanRecord, error) {
	if err := requireBuyer(a); err != nil {
		return LoanRecord{}, err
	}
	return run(ctx, s, a, key, []any{"loan_pay_off", loanID}, func(u *unit) (LoanRecord, error) {
		ct, err := u.creditTx()
		if err != nil {
			return LoanRecord{}, err
		}
		dt, err := u.debitTx()
		if err != nil {
			return LoanRecord{}, err
		}
		l, line, err := lockedLoan(ctx, u, ct, loanID)
		if err != nil {
			return LoanRecord{}, err
		}
		if _, ok := credit.Lookup(l.State, credit.CmdPayOff); !ok {
			_, err = l.PayOff(credit.RoleBuyer, &line, u.now) // refused: says why
			return LoanRecord{}, err
		}
		open, err := openDebit(ctx, dt, l.ID)
		switch {
		case err != nil:
			return LoanRecord{}, err
		case open != nil && open.Kind == DebitPayoff:
			l.BankDebit = open
			return l, nil
		case open != nil:
			return LoanRecord{}, fault.New(fault.Conflict, "debit_pending",
				"the automatic debit of %s is being collected from your account; pay off once it completes", open.Amount)
		}
		d, err := s.requestDebit(ctx, u, ct, dt, l, DebitPayoff, l.Quote(u.now))
		if err != nil {
			return LoanRecord{}, &dirtyError{err}
		}
		l.BankDebit = &d
		return l, nil
	})
}
