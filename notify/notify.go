// Package notify tells people what they must act on: a contract to confirm, a payment due, a
// failed inspection (R16), a dispute to answer (R17) or to decide, a late order (R13), a
// deadline that is near; a Pay Later application answered, a refused debit, an installment
// coming due, a charged-off loan (R11); and, to the platform's admins, money held in suspense
// (R8), Pay Later debits an operator must settle and the lender's money that is overdue. It derives everything from the durable
// event log the use cases write: a worker tails the events with a durable cursor, and for each
// event the pure rules here say which organization and role is told what, with a link to the
// portal page where they act. Each person (a user of that organization with that role) gets an
// in-app notification and, when email is configured, an email from an outbox sent over SMTP
// with retries.
//
// It also tells a supplier of a payout its bank returned, and the platform's admins of payouts
// an operator must record or whose account flag they must clear.
//
// The rules (rules.go and remind.go for orders, payouts.go for supplier payouts, paylater.go for
// everything else, mail.go) are pure: they take the event, what it is about as it is now and the
// clock's time, and return notices; the worker (worker.go), the SMTP sender (smtp.go) and the
// Store do the I/O.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits.
const (
	EventBatchMax    = 100              // events handled in one transaction
	ReminderBatchMax = 100              // due reminders handled in one transaction
	EmailBatchMax    = 20               // emails claimed at once
	RecipientsMax    = 200              // users of one organization and role told of one event
	PageSizeMax      = 100              // notifications per page of a list
	UnreadCountMax   = 999              // the unread count stops here ("999+")
	AttemptsMax      = 8                // failed email attempts before an email is dead
	BackoffBase      = time.Minute      // wait after the first failed attempt; doubles after each
	BackoffMax       = 6 * time.Hour    // the longest wait between two attempts
	Lease            = 2 * time.Minute  // an email claim holds this long; longer than a batch takes
	SendTimeout      = 30 * time.Second // one SMTP attempt, connect to QUIT
	ErrorTextMax     = 500              // bytes of last_error kept
	ReminderLead     = 48 * time.Hour   // how long before a deadline its reminder fires
	TitleMax         = 200              // bytes of a notification's title
	BodyMax          = 2000             // bytes of a notification's body
	// DueReminderLead is how long before a Pay Later installment's automatic debit the buyer is
	// reminded: time enough to move money into the business checking account by bank transfer.
	DueReminderLead = 72 * time.Hour
)

// Kind is what a notification asks of its reader.
type Kind string

// Kinds of notification.
const (
	ContractToConfirm  Kind = "contract_to_confirm"  // the other party proposed the contract (R4)
	AmendmentToConfirm Kind = "amendment_to_confirm" // the other party proposed an amendment (R4)
	PaymentDue         Kind = "payment_due"          // the initial payment or the balance is due (R6)
	InspectionBooked   Kind = "inspection_booked"    // an inspection company has a batch to inspect (R15)
	InspectionFailed   Kind = "inspection_failed"    // the batch was rejected (R16)
	DisputeFiled       Kind = "dispute_filed"        // the supplier must answer the dispute (R17)
	ResolutionProposed Kind = "resolution_proposed"  // the buyer must accept or reject an offer (R17)
	DisputeEscalated   Kind = "dispute_escalated"    // an arbiter must decide (R18)
	OrderLate          Kind = "order_late"           // the shipping date passed unshipped (R13)
	ShipByNear         Kind = "ship_by_near"         // ReminderLead before the shipping date ends
	DisputeWindowNear  Kind = "dispute_window_near"  // ReminderLead before the supplier's window ends (R17)

	// Pay Later (R11), to the buyer.
	CreditDecided           Kind = "credit_decided"            // the lender approved or declined the application
	CreditInformationNeeded Kind = "credit_information_needed" // the lender needs more information to decide
	InstallmentDueNear      Kind = "installment_due_near"      // DueReminderLead before an installment's debit
	LoanPastDue             Kind = "loan_past_due"             // the automatic debit was refused; the line is frozen
	PayoffRefused           Kind = "payoff_refused"            // the bank refused the early repayment's debit
	LoanChargedOff          Kind = "loan_charged_off"          // the lender wrote the loan off; it collects directly

	// To the platform's admins.
	SuspenseToAllocate Kind = "suspense_to_allocate" // money matched no order's payment (R8)
	DebitToRecord      Kind = "debit_to_record"      // no bank adapter: an operator records the bank's answer
	DebitAttention     Kind = "debit_attention"      // the bank gave no answer; an operator retries
	DebitUnapplied     Kind = "debit_unapplied"      // paid, but the loan changed: settle with the lender
	LenderAttention    Kind = "lender_attention"     // a lender request got no usable answer; an operator retries
	// DisbursementOverdue: the lender accepted to pay a disbursement and its money has not
	// arrived by the end of the 3rd US business day after the agreement; chase the lender.
	DisbursementOverdue Kind = "disbursement_overdue"
)

// Recipient is who a notice is for: every enabled user of an organization with one of Roles.
type Recipient struct {
	OrgID string
	Roles []trade.Role
}

// Notice is one thing to tell one organization and role.
type Notice struct {
	Kind Kind
	To   Recipient
	// OrderID is the order the notice is about: the order itself, or the order a Pay Later loan
	// or application finances; "" when there is none (money in suspense, a line applied for in
	// advance).
	OrderID string
	Title   string
	Body    string
	// Link is the portal page where the reader acts, relative to the portal: the order's
	// (/orders/{id}), a loan's (/credit/loans/{id}), an application's, the credit page, the
	// admins' suspense list, the supplier's payouts (/payouts), a queue's section of the admins'
	// Operations page (/admin/operations#payouts, …).
	Link string
}

// Reminder is a durable timer for a "deadline near" notice, keyed so that each deadline is
// reminded of once: a moved shipping date is a new key, and the old one finds itself stale.
type Reminder struct {
	Key  string
	Kind Kind // ShipByNear, DisputeWindowNear or InstallmentDueNear
	// OrderID is the order whose deadline it is, or the order a loan finances.
	OrderID string
	// Ref is what it is about: the shipping date (2006-01-02), the dispute ID, or a loan's
	// installment as "<loan ID>/<installment number>".
	Ref   string
	DueAt time.Time // ReminderLead (DueReminderLead for an installment) before the deadline
}

// Plan is what one event asks for.
type Plan struct {
	Notices   []Notice
	Reminders []Reminder
}

// Notification is one notice for one user, as it is stored and shown.
type Notification struct {
	ID        int64      `json:"id"`
	UserID    string     `json:"user_id"`
	OrgID     string     `json:"org_id"`
	OrderID   string     `json:"order_id" doc:"The order it is about, or the order a Pay Later loan or application finances; empty when there is none."`
	Kind      Kind       `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link" doc:"The portal page where the reader acts, relative to its address: the order's, a Pay Later loan's or application's, the admins' suspense list, the supplier's payouts, a queue's section of the admins' Operations page (in notifications sent before it, a supplier's Payouts panel)."`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
	// Dedupe makes a notification unique per user: "event/<global_seq>/<kind>" or
	// "reminder/<key>", so handling an event or a reminder twice creates nothing twice.
	Dedupe string `json:"-"`
}

// User is a person a notice reaches.
type User struct {
	ID    string
	OrgID string
	Email string
	Name  string
	Role  trade.Role
}

// EmailState is where an email of the outbox is.
type EmailState string

// Email states.
const (
	EmailPending EmailState = "pending" // waiting for its first or next attempt
	EmailSent    EmailState = "sent"    // the SMTP server accepted it
	EmailDead    EmailState = "dead"    // failed AttemptsMax times
)

// Email is one outbox row: a notification to send to one address.
type Email struct {
	NotificationID int64
	To             string
	Name           string
	State          EmailState
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	SentAt         *time.Time
	// Disabled is set when the recipient's user was disabled (or removed) after the email was
	// queued: it is then not sent.
	Disabled bool
	// The notification's content, read with the claim.
	Notification Notification
}

// EmailOutcome is how an attempt ended.
type EmailOutcome struct {
	State         EmailState
	NextAttemptAt time.Time // when State is EmailPending
	Error         string
	At            time.Time
}

// ReadState selects notifications by whether they were read.
type ReadState string

// Read states of a filter.
const (
	AnyState ReadState = ""
	Unread   ReadState = "unread"
	Read     ReadState = "read"
)

// Filter selects a page of notifications, newest first. Exactly one of UserID and OrgID is set.
type Filter struct {
	UserID string
	OrgID  string
	State  ReadState
	Before int64 // the last ID of the previous page; 0 for the first page
	Limit  int
}

// Errors a Store returns besides escrow.ErrNotFound.
var ErrNoCursor = errors.New("notification cursor missing")

// Tx is what handling events and reminders may read and write, in one transaction.
type Tx interface {
	Order(ctx context.Context, id string) (*trade.Order, error) // escrow.ErrNotFound
	Org(ctx context.Context, id string) (trade.Org, error)      // escrow.ErrNotFound
	// What an event outside an order is about; each returns escrow.ErrNotFound when missing.
	CreditApplication(ctx context.Context, id string) (credit.Application, error)
	Loan(ctx context.Context, id string) (escrow.LoanRecord, error)
	BankDebit(ctx context.Context, id string) (escrow.DebitRequest, error)
	LenderRequest(ctx context.Context, id string) (escrow.LenderRequest, error)
	Suspense(ctx context.Context, id string) (escrow.SuspenseItem, error)
	// Users lists up to limit enabled users of an organization with one of roles, by ID.
	Users(ctx context.Context, orgID string, roles []trade.Role, limit int) ([]User, error)
	// InsertNotification stores n unless (n.UserID, n.Dedupe) exists; it returns n's ID, or 0
	// when it existed already.
	InsertNotification(ctx context.Context, n Notification) (int64, error)
	// EnqueueEmail queues notification id for to, due at.
	EnqueueEmail(ctx context.Context, id int64, to, name string, at time.Time) error
	// PutReminder schedules r unless its key exists.
	PutReminder(ctx context.Context, r Reminder) error
	// FinishReminder marks a reminder done with an outcome ("sent", "stale: …").
	FinishReminder(ctx context.Context, key, outcome string, at time.Time) error
	// What a payout's event is about: the payout (escrow.ErrNotFound when missing) and the
	// supplier's open payout-account flag (escrow.ErrNotFound when none is open).
	Payout(ctx context.Context, id string) (trade.Payout, error)
	OpenPayoutFlag(ctx context.Context, supplierID string) (trade.PayoutAccountFlag, error)
}

// Store keeps notifications, their email outbox and reminders. The package store implements
// it for SQLite and PostgreSQL; its tests run on both.
type Store interface {
	// HandleEvents runs fn in one write transaction with up to limit events after the durable
	// cursor, which it locks; when fn returns nil the cursor moves past the events and
	// everything fn wrote commits with it. Two handlers never get the same events.
	HandleEvents(ctx context.Context, limit int, fn func(Tx, []escrow.Event) error) (int, error)
	// HandleReminders runs fn in one write transaction with up to limit reminders due at now,
	// locked (skipped when another handler holds them); fn must finish each one.
	HandleReminders(ctx context.Context, now time.Time, limit int, fn func(Tx, []Reminder) error) (int, error)
	// ClaimEmails leases up to limit due pending emails to owner until now+lease, counting an
	// attempt for each. Concurrent claimers never get the same email.
	ClaimEmails(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]Email, error)
	// FinishEmail records an attempt's outcome if owner still holds the email, else returns
	// escrow.ErrNotFound.
	FinishEmail(ctx context.Context, id int64, owner string, o EmailOutcome) error
	Email(ctx context.Context, id int64) (Email, error) // escrow.ErrNotFound
	Notifications(ctx context.Context, f Filter) ([]Notification, error)
	Notification(ctx context.Context, id int64) (Notification, error) // escrow.ErrNotFound
	// MarkRead sets read_at on notification id if it is unread; reading twice is harmless.
	MarkRead(ctx context.Context, id int64, at time.Time) error
	// MarkAllRead marks a user's unread notifications with ID <= upTo read; it returns how many.
	MarkAllRead(ctx context.Context, userID string, upTo int64, at time.Time) (int, error)
	// Unread counts a user's unread notifications, at most max.
	Unread(ctx context.Context, userID string, max int) (int, error)
}
