package escrow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// The lender outbox (R11, docs/pay-later.md): the lender is an outside party, never called
// inside a transaction. An application, or the disbursement timer, records a lender request in
// the command's transaction; the lender worker (RunLenderRequests) claims it with a lease, asks
// the lender outside any transaction with the request's ID as the idempotency reference, and
// records the answer in a transaction of its own — the decision on the application, or the
// lender's acceptance to pay a disbursement, which then waits for the lender's money
// (credit_funds.go).

// LenderRequestKind is what the lender is asked.
type LenderRequestKind string

// The lender request kinds.
const (
	LenderDecision     LenderRequestKind = "decision"     // decide an application
	LenderDisbursement LenderRequestKind = "disbursement" // pay an accepted loan into its order's escrow
)

// LenderRequestStatus is where a lender request is.
type LenderRequestStatus string

// The lender request statuses. Requested, awaiting_funds and attention are open: an application
// or a loan has at most one open request.
const (
	LenderRequested LenderRequestStatus = "requested" // waiting for the lender's answer
	// LenderAwaitingFunds: the lender accepted to pay a disbursement; the order is paid, and the
	// request recorded, when its money is reported on the pay_later rail.
	LenderAwaitingFunds LenderRequestStatus = "awaiting_funds"
	// LenderRecorded: a decision is recorded; a disbursement's money arrived and disbursed the
	// loan.
	LenderRecorded LenderRequestStatus = "recorded"
	// LenderAttention: no answer after LenderAttemptsMax attempts, or an answer that cannot be
	// recorded (a disbursement that does not match the loan, a decision for an application that
	// moved on). Nothing was booked; an operator looks, and retries it (RetryLenderRequest).
	LenderAttention LenderRequestStatus = "attention"
)

// Open reports whether the request still holds its application or loan.
func (s LenderRequestStatus) Open() bool {
	return s == LenderRequested || s == LenderAwaitingFunds || s == LenderAttention
}

// LenderRequest is one request to the lender, as the outbox keeps it.
type LenderRequest struct {
	ID               string              `json:"id" doc:"The reference the lender sees: asking again with it never pays twice."`
	Kind             LenderRequestKind   `json:"kind" enum:"decision,disbursement"`
	BuyerID          string              `json:"buyer_id"`
	ApplicationID    string              `json:"application_id,omitempty" doc:"The application to decide (kind decision)."`
	LoanID           string              `json:"loan_id,omitempty" doc:"The loan to disburse (kind disbursement)."`
	Amount           money.Amount        `json:"amount" doc:"The principal to pay (kind disbursement); zero for a decision."`
	PaymentReference string              `json:"payment_reference,omitempty" doc:"What the lender's money must quote: the order payment's reference. The order is paid when money of exactly amount quoting it is reported on the pay_later rail (POST /v1/rails/pay_later/credits)."`
	Status           LenderRequestStatus `json:"status" enum:"requested,awaiting_funds,recorded,attention" doc:"requested: the lender worker asks the lender; awaiting_funds: the lender accepted to pay, its money is not reported yet; recorded: the decision is recorded, or the money arrived and disbursed the loan; attention: an operator must look."`
	Sandbox          bool                `json:"sandbox" doc:"A disbursement the sandbox pays for the lender (serve --sandbox): its money is simulated, no real money moves."`
	FundsID          string              `json:"funds_id,omitempty" doc:"The money that paid the disbursement: the rail's ID of the lender's credit, a suspense item's ID, or sandbox:<request> for simulated money."`
	Attempts         int                 `json:"attempts" doc:"How many times the lender was asked."`
	NextAttemptAt    time.Time           `json:"next_attempt_at"`
	LastError        string              `json:"last_error,omitempty" doc:"Why the last answer was not recorded."`
	Answer           json.RawMessage     `json:"answer,omitempty" doc:"The lender's answer as recorded: a decision, or its acceptance of a disbursement (not money)."`
	FundsDueAt       *time.Time          `json:"funds_due_at,omitempty" doc:"A disbursement the lender accepted to pay: when its money is due, the end of the 3rd US business day after the loan agreement (midnight in New York). Money not reported by then marks the request overdue."`
	OverdueAt        *time.Time          `json:"overdue_at,omitempty" doc:"When the request was marked overdue: its money had not arrived by funds_due_at. It stays awaiting_funds; the money arriving later still pays the order. The platform's admins are told to chase the lender."`
	RequestedAt      time.Time           `json:"requested_at"`
	RecordedAt       *time.Time          `json:"recorded_at,omitempty"`
	LeaseOwner       string              `json:"-"`
	LeaseUntil       time.Time           `json:"-"`
}

// Lender worker limits.
const (
	LenderBatchMax = 20 // requests claimed at once
	// LenderTimeout bounds one call to the lender; LenderLease is longer, so no other worker asks
	// while a call and its record are under way.
	LenderTimeout = 30 * time.Second
	LenderLease   = 2 * time.Minute
	// LenderAttemptsMax is how many times the lender is asked without an answer before the
	// request is marked for an operator (about three hours, with BankDebitBackoff's waits).
	LenderAttemptsMax = 8
	// LenderRequestsListMax bounds a page of lender requests.
	LenderRequestsListMax = 200
)

// LenderFilter selects lender requests; empty fields match everything.
type LenderFilter struct {
	Status        LenderRequestStatus
	Kind          LenderRequestKind
	ApplicationID string
	LoanID        string
	After         string // the ID of the last request of the previous page; "" for the first page
	Limit         int    // 1..LenderRequestsListMax
	// Order is the page's order: newest first (the API's) unless it says otherwise.
	Order ListOrder
}

// ListOrder is the order of a page of an outbox's requests (lender requests, bank debits).
type ListOrder string

// The orders of a page.
const (
	// NewestFirst: by request time, then ID, newest first (the API's lists).
	NewestFirst ListOrder = ""
	// OldestFirst: by request time, then ID, oldest first: what has waited longest comes first
	// (the portal's Operations page).
	OldestFirst ListOrder = "oldest_first"
	// FundsDueFirst: lender requests by when the lender's money is due (FundsDueAt), the
	// earliest first — so the overdue ones come first —, then by ID; a request without a due
	// time (not awaiting funds) is left out.
	FundsDueFirst ListOrder = "funds_due_first"
)

// LenderReader reads lender requests, applications and the buyer's history; the store's
// readers and transactions implement it.
type LenderReader interface {
	LenderRequest(ctx context.Context, id string) (LenderRequest, error)
	// LenderRequests lists up to f.Limit requests after the request f.After in f.Order (newest
	// first by default: by request time, then ID), narrowed by f; a cursor naming no request
	// gives an empty page.
	LenderRequests(ctx context.Context, f LenderFilter) ([]LenderRequest, error)
	// CreditApplication reads one application, or ErrNotFound.
	CreditApplication(ctx context.Context, id string) (credit.Application, error)
	// CreditHistory counts the buyer's charged-off loans and its loans past due now.
	CreditHistory(ctx context.Context, buyerID string) (credit.History, error)
}

// LenderTx writes lender requests and applications in a transaction. A request is locked after
// the order, the line and the loan it is about.
type LenderTx interface {
	LenderReader
	// InsertLenderRequest stores a new request; ErrDuplicate when its ID exists or its
	// application or loan has an open request already.
	InsertLenderRequest(ctx context.Context, r LenderRequest) error
	// LockLenderRequest reads a request and locks it until commit. With an owner it must be
	// requested and leased by that owner, else ErrNotFound (another worker took it over).
	LockLenderRequest(ctx context.Context, id, owner string) (LenderRequest, error)
	// UpdateLenderRequest writes a locked request's status, attempts, schedule, error, answer and
	// record time, and clears its lease.
	UpdateLenderRequest(ctx context.Context, r LenderRequest) error
	// UpdateCreditApplication writes an application's status and document; ErrDuplicate when it
	// would give the buyer a second application being decided.
	UpdateCreditApplication(ctx context.Context, a credit.Application) error
}

// LenderClaimer is the store's claim on due lender requests, in a transaction of its own.
type LenderClaimer interface {
	// ClaimLenderRequests leases up to limit requested requests due at now (next attempt
	// reached, no live lease) to owner until now+lease, counting an attempt on each. Concurrent
	// claimers never get the same request while its lease runs (SKIP LOCKED on PostgreSQL; the
	// single writer on SQLite).
	ClaimLenderRequests(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]LenderRequest, error)
}

func (u *unit) lenderTx() (LenderTx, error) {
	lt, ok := u.tx.(LenderTx)
	if !ok {
		return nil, fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep lender requests")
	}
	return lt, nil
}

// requestDecision records the request for the lender to decide app, and tells the buyer.
func requestDecision(ctx context.Context, u *unit, lt LenderTx, app credit.Application) error {
	r := LenderRequest{ID: newID("plr"), Kind: LenderDecision, BuyerID: app.BuyerID, ApplicationID: app.ID, Amount: usd(0),
		Status: LenderRequested, NextAttemptAt: u.now, RequestedAt: u.now}
	if err := lt.InsertLenderRequest(ctx, r); err != nil {
		return fmt.Errorf("insert lender request: %w", err)
	}
	return u.appendEvent(ctx, app.BuyerID, []string{app.BuyerID}, "credit.application_submitted", map[string]any{
		"application_id": app.ID, "request_id": r.ID})
}

// ApplyForCredit submits a buyer's application for a Pay Later line, at checkout or in advance
// (R11). It is refused for a buyer registered outside the US (pay_later_us_only) or an
// application that names another country than the buyer's registered one (country_mismatch), a
// buyer with an open line (credit_line_exists) or an application being decided
// (credit_application_pending). Otherwise it is stored as submitted and a decision request is
// recorded for the lender worker; the application stays submitted until the lender's answer is
// recorded — an approval opens the line, a decline or a request for more information is recorded
// with every reason.
func (s *Service) ApplyForCredit(ctx context.Context, a trade.Actor, key string, app credit.Application) (CreditApplicationResult, error) {
	if err := requireBuyer(a); err != nil {
		return CreditApplicationResult{}, err
	}
	return run(ctx, s, a, key, []any{"credit_apply", app}, func(u *unit) (CreditApplicationResult, error) {
		ct, err := u.creditTx()
		if err != nil {
			return CreditApplicationResult{}, err
		}
		lt, err := u.lenderTx()
		if err != nil {
			return CreditApplicationResult{}, err
		}
		if err := s.checkApplicant(ctx, u, ct, app); err != nil {
			return CreditApplicationResult{}, err
		}
		app.ID, app.BuyerID, app.SubmittedAt, app.Status, app.Decision, app.EarlierDecisions = newID("app"), a.OrgID, u.now,
			credit.Submitted, nil, nil
		if err := app.Validate(u.now); err != nil {
			return CreditApplicationResult{}, err
		}
		if err := ct.InsertCreditApplication(ctx, app); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return CreditApplicationResult{}, errApplicationPending()
			}
			return CreditApplicationResult{}, fmt.Errorf("insert credit application: %w", err)
		}
		if err := requestDecision(ctx, u, lt, app); err != nil {
			return CreditApplicationResult{}, &dirtyError{err}
		}
		return CreditApplicationResult{Application: app}, nil
	})
}

func errApplicationPending() error {
	return fault.New(fault.Conflict, "credit_application_pending", "your application is being decided; wait for the lender's answer")
}

// checkApplicant refuses an application the lender must never see: from a buyer registered
// outside the US, naming another country than the registered one, from a buyer with an open
// line or an application being decided, or at checkout for an order the buyer cannot see.
func (s *Service) checkApplicant(ctx context.Context, u *unit, ct CreditTx, app credit.Application) error {
	a := u.actor
	buyer, err := u.tx.Org(ctx, a.OrgID)
	if err != nil {
		return fmt.Errorf("load buyer %s: %w", a.OrgID, err)
	}
	if err := credit.CheckEligible(buyer.Country, credit.USD); err != nil {
		return err
	}
	if app.Business.Country != buyer.Country {
		return fault.FieldErr("business.country", "country_mismatch",
			"your organization is registered in %s; the application must name the same country, not %q", buyer.Country, app.Business.Country)
	}
	switch _, err := ct.OpenCreditLine(ctx, a.OrgID); {
	case err == nil:
		return fault.New(fault.Conflict, "credit_line_exists", "you already have a Pay Later line")
	case !errors.Is(err, ErrNotFound):
		return err
	}
	// An application being decided is refused by the store's unique index when inserted.
	if app.Channel == credit.AtCheckout {
		if o, err := u.tx.Order(ctx, app.OrderID); err != nil || !o.Visible(a) {
			return fault.FieldErr("order_id", "order_not_found", "no such order")
		}
	}
	return nil
}

// SupplyCreditInformation completes an application the lender could not decide (R11): the
// buyer gives what was missing — the business's start date, its revenue, its EIN — and the same
// application goes back to submitted, with a new decision request for the lender worker.
func (s *Service) SupplyCreditInformation(ctx context.Context, a trade.Actor, key, appID string, sup credit.Supplement) (CreditApplicationResult, error) {
	if err := requireBuyer(a); err != nil {
		return CreditApplicationResult{}, err
	}
	return run(ctx, s, a, key, []any{"credit_supply", appID, sup}, func(u *unit) (CreditApplicationResult, error) {
		ct, err := u.creditTx()
		if err != nil {
			return CreditApplicationResult{}, err
		}
		lt, err := u.lenderTx()
		if err != nil {
			return CreditApplicationResult{}, err
		}
		app, err := lt.CreditApplication(ctx, appID)
		if err != nil || app.BuyerID != a.OrgID {
			return CreditApplicationResult{}, fault.New(fault.NotFound, "application_not_found", "no such application")
		}
		switch _, err := ct.OpenCreditLine(ctx, a.OrgID); {
		case err == nil:
			return CreditApplicationResult{}, fault.New(fault.Conflict, "credit_line_exists", "you already have a Pay Later line")
		case !errors.Is(err, ErrNotFound):
			return CreditApplicationResult{}, err
		}
		if err := app.Supplement(sup, u.now); err != nil {
			return CreditApplicationResult{}, err
		}
		others, err := ct.CreditApplications(ctx, a.OrgID, applicationsScanMax)
		if err != nil {
			return CreditApplicationResult{}, err
		}
		for _, x := range others { // the store's unique index refuses it too, but PostgreSQL would abort the transaction
			if x.Status == credit.Submitted {
				return CreditApplicationResult{}, errApplicationPending()
			}
		}
		if err := lt.UpdateCreditApplication(ctx, app); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return CreditApplicationResult{}, errApplicationPending()
			}
			return CreditApplicationResult{}, fmt.Errorf("update credit application: %w", err)
		}
		if err := requestDecision(ctx, u, lt, app); err != nil {
			return CreditApplicationResult{}, &dirtyError{err}
		}
		return CreditApplicationResult{Application: app}, nil
	})
}

// requestDisbursement is the disbursement timer (R11: 1–3 US business days after the
// agreement): under the order's, the line's and the loan's locks it records the request for the
// lender to pay the principal into the order's escrow, quoting the payment's reference. Nothing
// about money: the order is paid when the lender's money arrives (fundLoan) — reported on the
// pay_later rail, or, on a sandbox server (the request says sandbox), simulated once the lender
// accepted. An order that moved on — the payment expired or was cancelled — cancels the loan
// instead, giving its reservation back.
func (s *Service) requestDisbursement(ctx context.Context, u *unit, loanID string) (string, error) {
	ct, err := u.creditTx()
	if err != nil {
		return "", err
	}
	lt, err := u.lenderTx()
	if err != nil {
		return "", err
	}
	l, err := ct.Loan(ctx, loanID)
	if err != nil {
		return "", notFound(err, "loan")
	}
	o, err := u.tx.LockOrder(ctx, l.OrderID) // the order before the line, as everywhere
	if err != nil {
		return "", notFound(err, "order")
	}
	line, err := ct.LockCreditLine(ctx, l.LineID)
	if err != nil {
		return "", err
	}
	if l, err = ct.LockLoan(ctx, loanID); err != nil {
		return "", err
	}
	prev := l.Version
	if l.State != credit.Agreed {
		return "", fault.New(fault.Conflict, credit.ReasonNotAllowed, "the loan is %s, not agreed", l.State)
	}
	p := findPayment(o, l.PaymentID)
	if p == nil || p.Status != trade.PaymentPending || o.State.Terminal() || o.Currency != credit.USD ||
		p.Total != l.Agreement.Principal.Minor {
		fx, err := l.Cancel(credit.RoleSystem, &line, u.now)
		if err != nil {
			return "", err
		}
		if err := u.writeLoan(ctx, ct, l, prev, line, fx, false); err != nil {
			return "", &dirtyError{err}
		}
		return "cancelled: the payment is no longer pending", nil
	}
	r := LenderRequest{ID: newID("plr"), Kind: LenderDisbursement, BuyerID: l.BuyerID, LoanID: l.ID, Amount: l.Agreement.Principal,
		PaymentReference: p.Reference, Status: LenderRequested, NextAttemptAt: u.now, RequestedAt: u.now, Sandbox: s.sbx.Enabled}
	if err := lt.InsertLenderRequest(ctx, r); err != nil {
		return "", fmt.Errorf("insert lender request: %w", err)
	}
	if err := u.appendEvent(ctx, l.ID, []string{l.BuyerID}, "loan.disbursement_requested", map[string]any{
		"loan_id": l.ID, "order_id": l.OrderID, "request_id": r.ID, "amount": r.Amount, "payment_reference": r.PaymentReference,
		"sandbox": r.Sandbox}); err != nil {
		return "", &dirtyError{err}
	}
	return "disbursement of " + r.Amount.String() + " requested: " + r.ID, nil
}

// openDisbursement returns the loan's open disbursement request, if any.
func openDisbursement(ctx context.Context, r LenderReader, loanID string) (*LenderRequest, error) {
	for _, st := range []LenderRequestStatus{LenderRequested, LenderAwaitingFunds, LenderAttention} {
		rs, err := r.LenderRequests(ctx, LenderFilter{Kind: LenderDisbursement, LoanID: loanID, Status: st, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(rs) > 0 {
			return &rs[0], nil
		}
	}
	return nil, nil
}

// withDisbursement fills in the loan's newest disbursement request, if it has one.
func withDisbursement(ctx context.Context, r CreditReader, l *LoanRecord) error {
	lr, ok := r.(LenderReader)
	if !ok || (l.State != credit.Agreed && l.DisbursedAt.IsZero()) {
		return nil
	}
	rs, err := lr.LenderRequests(ctx, LenderFilter{Kind: LenderDisbursement, LoanID: l.ID, Limit: 1})
	if err != nil || len(rs) == 0 {
		return err
	}
	l.Disbursement = &rs[0]
	return nil
}

// LenderRequests lists the newest lender requests, at most f.Limit (1..LenderRequestsListMax),
// newest first (admin): the first page of LenderRequestsPage.
func (s *Service) LenderRequests(ctx context.Context, a trade.Actor, f LenderFilter) ([]LenderRequest, error) {
	rs, _, err := s.LenderRequestsPage(ctx, a, f)
	return rs, err
}

// RetryLenderRequest puts a request marked for an operator back in the lender worker's hands
// (admin): the lender is asked again with the same reference, so a disbursement that was paid
// is not paid twice. Only a request in attention can be retried.
func (s *Service) RetryLenderRequest(ctx context.Context, a trade.Actor, key, id string) (LenderRequest, error) {
	if err := requireAdmin(a); err != nil {
		return LenderRequest{}, err
	}
	return run(ctx, s, a, key, []any{"lender_request_retry", id}, func(u *unit) (LenderRequest, error) {
		lt, err := u.lenderTx()
		if err != nil {
			return LenderRequest{}, err
		}
		r, err := lt.LockLenderRequest(ctx, id, "")
		if err != nil {
			return LenderRequest{}, notFound(err, "lender_request")
		}
		if r.Status != LenderAttention {
			return LenderRequest{}, fault.New(fault.Conflict, "lender_request_not_in_attention", "the request is %s, not waiting for an operator", r.Status)
		}
		r.Status, r.Attempts, r.NextAttemptAt, r.LastError = LenderRequested, 0, u.now, ""
		if err := lt.UpdateLenderRequest(ctx, r); err != nil {
			return LenderRequest{}, &dirtyError{err}
		}
		stream := r.BuyerID
		if r.LoanID != "" {
			stream = r.LoanID
		}
		return r, u.appendEvent(ctx, stream, []string{r.BuyerID}, "credit.lender_request_retried", map[string]any{
			"request_id": r.ID, "kind": r.Kind, "by": u.actor.UserID})
	})
}

// CreditApplication returns one application: the buyer's own, any for an admin.
func (s *Service) CreditApplication(ctx context.Context, a trade.Actor, id string) (credit.Application, error) {
	if a.Role != trade.RoleBuyer {
		if err := requireAdmin(a); err != nil {
			return credit.Application{}, err
		}
	}
	var app credit.Application
	err := s.store.Read(ctx, func(r Reader) error {
		lr, ok := r.(LenderReader)
		if !ok {
			return fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep Pay Later state")
		}
		var err error
		app, err = lr.CreditApplication(ctx, id)
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && a.Role == trade.RoleBuyer && app.BuyerID != a.OrgID) {
		return credit.Application{}, fault.New(fault.NotFound, "application_not_found", "no such application")
	}
	return app, err
}
