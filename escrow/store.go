package escrow

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Errors a Store returns; adapters translate driver errors into these by code, never by text.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")        // a unique key exists already
	ErrConflict  = errors.New("version conflict") // optimistic concurrency: someone else changed it
)

// Store is the persistence the use cases need. The package store implements it for SQLite and
// PostgreSQL with one SQL text; its conformance suite runs against both.
type Store interface {
	// Write runs fn in one read-write transaction and commits when fn returns nil. It reruns fn,
	// a bounded number of times, when the database reports a serialization failure, a deadlock
	// or SQLITE_BUSY; fn must therefore not have effects outside tx.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn against a consistent read-only view.
	Read(ctx context.Context, fn func(Reader) error) error
	// ClaimTimers marks up to limit timers that are due at now as claimed by owner until
	// now+lease, and returns them. A due timer is pending, or claimed with an expired lease.
	// Concurrent claimers never get the same timer while its lease runs (SKIP LOCKED on
	// PostgreSQL; the single writer on SQLite).
	ClaimTimers(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]StoredTimer, error)
	// PurgeCommands deletes up to limit command records made before before, oldest first,
	// except those of scope keepScope whose key starts with keepPrefix, and returns how many it
	// deleted. Concurrent purgers never wait for each other's rows (SKIP LOCKED on PostgreSQL;
	// the single writer on SQLite), and a deleted row is gone for both.
	PurgeCommands(ctx context.Context, before time.Time, keepScope, keepPrefix string, limit int) (int, error)
	Close() error
}

// Reader reads. Lists are bounded by their limit argument or by the order they belong to.
type Reader interface {
	Org(ctx context.Context, id string) (trade.Org, error)
	Orgs(ctx context.Context, kind trade.OrgKind) ([]trade.Org, error) // by ID
	OrgHistory(ctx context.Context, orgID string) ([]OrgChange, error) // oldest first
	Order(ctx context.Context, id string) (*trade.Order, error)
	Orders(ctx context.Context, f OrderFilter) ([]*trade.Order, error) // by ID ascending, after f.After
	PaymentByReference(ctx context.Context, ref string) (orderID, paymentID string, err error)
	Events(ctx context.Context, stream string) ([]Event, error)               // by Seq
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error) // by GlobalSeq
	Messages(ctx context.Context, orderID string) ([]trade.Message, error)    // oldest first
	// Transfers lists posted transfers in posting order: those with Seq > after.
	Transfers(ctx context.Context, after int64, limit int) ([]StoredTransfer, error)
	OrderTransfers(ctx context.Context, orderID string) ([]StoredTransfer, error)
	// Balances returns the balance table: signed balances (debits − credits) by account ID.
	Balances(ctx context.Context) (ledger.Balances, error)
	Balance(ctx context.Context, accountID string) (int64, error) // 0 for an account never posted to
	Suspense(ctx context.Context, id string) (SuspenseItem, error)
	SuspenseItems(ctx context.Context, state SuspenseState, limit int) ([]SuspenseItem, error) // by ReceivedAt
	Timers(ctx context.Context, orderID string) ([]StoredTimer, error)                         // by ID
	StreamIDs(ctx context.Context, after string, limit int) ([]string, error)                  // event streams, ascending
	// LiveTimers lists the pending and claimed timers of the orders named (at most
	// PageSizeMax), by order and ID: one read for a page of orders.
	LiveTimers(ctx context.Context, orderIDs []string) ([]StoredTimer, error)
	// Pages for the API: each lists up to limit items after the cursor (the last item's key).
	StreamEvents(ctx context.Context, stream string, after int64, limit int) ([]Event, error)               // by Seq
	MessagesPage(ctx context.Context, orderID, after string, limit int) ([]trade.Message, error)            // oldest first
	OrgsPage(ctx context.Context, kind trade.OrgKind, after string, limit int) ([]trade.Org, error)         // by ID
	SuspensePage(ctx context.Context, state SuspenseState, after string, limit int) ([]SuspenseItem, error) // by ReceivedAt, ID
	// BalancesPage reads the balance table: signed balances (debits − credits) by account ID.
	BalancesPage(ctx context.Context, f BalanceFilter) ([]AccountBalance, error)
}

// BalanceFilter selects rows of the balance table; empty fields match everything.
type BalanceFilter struct {
	Kind     ledger.Kind
	Currency money.Currency
	After    string // cursor: the last account ID of the previous page
	Limit    int    // 1..PageSizeMax
}

// Tx is a read-write transaction. Rows are locked in a stable order: an order before its
// supplier, so two commands never deadlock.
type Tx interface {
	Reader
	Command(ctx context.Context, scope, key string) (*CommandRecord, error) // nil, nil when absent
	SaveCommand(ctx context.Context, c CommandRecord) error                 // ErrDuplicate
	LockOrder(ctx context.Context, id string) (*trade.Order, error)         // locked until commit
	LockOrg(ctx context.Context, id string) (trade.Org, error)
	InsertOrg(ctx context.Context, o trade.Org) error // ErrDuplicate
	UpdateOrg(ctx context.Context, o trade.Org) error
	AppendOrgHistory(ctx context.Context, c OrgChange) error
	InsertOrder(ctx context.Context, o *trade.Order) error // ErrDuplicate
	// UpdateOrder writes o if the stored version is prevVersion, else ErrConflict.
	UpdateOrder(ctx context.Context, o *trade.Order, prevVersion int64) error
	InsertPaymentRef(ctx context.Context, ref, orderID, paymentID string) error // ErrDuplicate
	// PostTransfer appends t and its entries and moves the balance table. It returns
	// ErrDuplicate when t.ID exists, and a *ledger.NegativeError when an account whose kind may
	// not go negative would; the caller then rolls back.
	PostTransfer(ctx context.Context, t ledger.Transfer) error
	// AppendEvent appends e and records its Audience; ErrDuplicate on (Stream, Seq).
	AppendEvent(ctx context.Context, e Event) error
	LastEvent(ctx context.Context, stream string) (seq int64, hash string, err error) // 0, "" when none
	// EnqueueDeliveries queues the appended event e for every enabled webhook endpoint of every
	// organization in e.Audience, due at e.At. In the event's transaction, so a committed event
	// is always delivered and a rolled-back one never is.
	EnqueueDeliveries(ctx context.Context, e Event) error
	InsertMessage(ctx context.Context, m trade.Message) error
	// PutTimer schedules t. A pending or claimed timer with the same Key is replaced (its state
	// becomes "replaced"), so a moved deadline never fires at its old time.
	PutTimer(ctx context.Context, t trade.Timer) error
	// RetireTimers marks pending timers of an order "replaced": those with the given keys, or
	// all of them when keys is nil. Claimed timers are left to their worker, which finds them
	// no longer applicable.
	RetireTimers(ctx context.Context, orderID string, keys []string) error
	// LockTimer locks a timer claimed by owner and not yet finished, else ErrNotFound.
	LockTimer(ctx context.Context, id int64, owner string) (StoredTimer, error)
	// FinishTimer marks a timer fired (outcome "fired" or "skipped: …") or dead.
	FinishTimer(ctx context.Context, id int64, state TimerState, outcome string, at time.Time) error
	InsertSuspense(ctx context.Context, s SuspenseItem) error
	UpdateSuspense(ctx context.Context, s SuspenseItem) error
}

// OrderFilter selects orders; empty fields match everything.
type OrderFilter struct {
	BuyerID     string
	SupplierID  string
	InspectorID string
	State       trade.State
	// PlacedFrom and PlacedBefore bound when the order was placed: from inclusive, before
	// exclusive; zero means unbounded.
	PlacedFrom, PlacedBefore time.Time
	After                    string // cursor: the last ID of the previous page, oldest first
	// Newest lists newest first (IDs are time-ordered), for pages people read; Before is then
	// the cursor: the last ID of the previous page, and After is not used.
	Newest bool
	Before string
	Limit  int // 1..PageSizeMax
}

// PageSizeMax bounds every list.
const PageSizeMax = 500

// CommandRecord makes a command idempotent: a retry with the same scope and key returns Result;
// the same key with another request is refused.
type CommandRecord struct {
	Scope       string // the organization that issued it
	Key         string
	RequestHash string
	Result      json.RawMessage
	At          time.Time
}

// OrgChange is one entry of an organization's history: eligibility, limit, policy (R1, R22).
type OrgChange struct {
	OrgID  string          `json:"org_id"`
	At     time.Time       `json:"at"`
	Actor  trade.Actor     `json:"actor"`
	Field  string          `json:"field"` // "created", "eligibility", "coverage_limit", "release_policy"
	Change json.RawMessage `json:"change"`
}

// Event is one entry of an append-only, hash-chained stream (an order, or an organization).
type Event struct {
	GlobalSeq int64           `json:"global_seq"` // assigned by the store on append
	Stream    string          `json:"stream"`
	Seq       int64           `json:"seq"` // 1, 2, … within the stream
	Type      string          `json:"type"`
	Actor     trade.Actor     `json:"actor"`
	At        time.Time       `json:"at"`
	Payload   json.RawMessage `json:"payload"` // stored and returned byte for byte
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
	// Audience are the organizations that may read the event and receive it by webhook: the
	// platform always, an order's buyer and supplier, an organization its own. Written on
	// append; not read back with the event, and not part of its hash.
	Audience []string `json:"-"`
}

// StoredTransfer is a transfer with its posting sequence number.
type StoredTransfer struct {
	Seq int64
	ledger.Transfer
}

// TimerState is where a durable timer is.
type TimerState string

const (
	TimerPending  TimerState = "pending"
	TimerClaimed  TimerState = "claimed"
	TimerFired    TimerState = "fired"
	TimerReplaced TimerState = "replaced"
	TimerDead     TimerState = "dead" // failed TimerAttemptsMax times; needs an operator
)

// StoredTimer is a timer as the store keeps it.
type StoredTimer struct {
	ID int64
	trade.Timer
	State      TimerState
	Owner      string
	LeaseUntil time.Time
	Attempts   int
	Outcome    string
	FiredAt    *time.Time
}

// SuspenseState is where money without a matching order is (R8).
type SuspenseState string

const (
	SuspenseOpen      SuspenseState = "open"
	SuspenseAllocated SuspenseState = "allocated"
	SuspenseReturned  SuspenseState = "returned"
)

// SuspenseItem is money received that matched no payment (R8): not covered until allocated.
type SuspenseItem struct {
	ID         string         `json:"id"`
	Method     payment.Method `json:"method"`
	Amount     money.Amount   `json:"amount"`
	Reference  string         `json:"reference"` // what the sender quoted
	Payer      string         `json:"payer"`
	ReceivedAt time.Time      `json:"received_at"`
	State      SuspenseState  `json:"state"`
	OrderID    string         `json:"order_id,omitempty"`
	PaymentID  string         `json:"payment_id,omitempty"`
	Note       string         `json:"note,omitempty"`
}
