package trade

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
)

// TimerKind is a durable deadline (R21).
type TimerKind string

const (
	TimerShippingDeadline TimerKind = "shipping_deadline" // → deadline_passed
	TimerDisputeWindow    TimerKind = "dispute_window"    // → escalate (R17)
	TimerPaymentExpiry    TimerKind = "payment_expiry"    // → expire_payment
	TimerRelease          TimerKind = "release"           // → release, after shipment
	TimerCompletion       TimerKind = "completion"        // → complete, after release
	TimerSandboxSettle    TimerKind = "sandbox_settle"    // the sandbox rail delivers the money
)

// Timer asks for a command to be issued by the system at DueAt. Key makes it unique: setting a
// timer with the same key again replaces the pending one (e.g. a new shipping date).
type Timer struct {
	Key     string    `json:"key"`
	Kind    TimerKind `json:"kind"`
	OrderID string    `json:"order_id"`
	DueAt   time.Time `json:"due_at"`
	Ref     string    `json:"ref,omitempty"` // the payment or dispute it is about
}

// DomainEvent is one fact to append to the order's audit log and publish.
type DomainEvent struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

// Effects is everything a command asks to write, in the same transaction as the order.
type Effects struct {
	Transfers []ledger.Transfer
	Events    []DomainEvent
	Timers    []Timer
	// CoverageDelta changes the supplier's used coverage: + reserves, − restores (R22).
	CoverageDelta int64
	// Retire lists pending timers (full keys) that no longer matter; RetireAll retires every
	// pending timer of the order, because it closed. Both apply before Timers are set.
	Retire    []string
	RetireAll bool
}

// Config is the platform's configuration the domain needs; every number is a default.
type Config struct {
	DisputeWindow  time.Duration // R17: 15 days
	PaymentExpiry  time.Duration // how long payment instructions stay valid
	ReleaseDelay   time.Duration // from shipment to release
	CompletionWait time.Duration // from release to automatic completion (the claim window)
	Policy         ReleasePolicy // the platform's release policy (R14)
	InitialBP      int           // R6: default initial payment, 30%
	Fees           payment.Schedule
}

// DefaultConfig returns the SPEC defaults.
func DefaultConfig() Config {
	return Config{
		DisputeWindow:  15 * 24 * time.Hour,
		PaymentExpiry:  14 * 24 * time.Hour,
		ReleaseDelay:   0,
		CompletionWait: 30 * 24 * time.Hour,
		Policy:         HoldUntilShipment,
		InitialBP:      3000,
		Fees:           payment.DefaultSchedule(),
	}
}

// Env is what a command is decided with besides the order: the time, the configuration, the
// supplier as it is now, and a unique ID for this command from which every new ID derives, so a
// retried command produces the same transfers and a store's unique keys reject a second apply.
type Env struct {
	Now      time.Time
	Config   Config
	Supplier Org
	ID       string
}

// decision accumulates a command's effects.
type decision struct {
	o   *Order
	env Env
	fx  Effects
	n   int
}

func (d *decision) nextID(prefix string) string {
	d.n++
	return fmt.Sprintf("%s_%s_%d", prefix, d.env.ID, d.n)
}

func (d *decision) event(typ string, payload any) {
	d.fx.Events = append(d.fx.Events, DomainEvent{Type: typ, Payload: payload})
}

func (d *decision) retire(key string) {
	d.fx.Retire = append(d.fx.Retire, d.o.ID+"/"+key)
}

func (d *decision) timer(kind TimerKind, key string, due time.Time, ref string) {
	d.fx.Timers = append(d.fx.Timers, Timer{Key: d.o.ID + "/" + key, Kind: kind, OrderID: d.o.ID, DueAt: due, Ref: ref})
}

// transfer builds one transfer of the order's currency; posts is a list of (debit, credit, amount).
func (d *decision) transfer(code, memo string, posts ...posting) error {
	b := ledger.NewTransfer(d.nextID("tr"), code, d.o.Currency, d.o.ID, d.env.Now).Memo(memo)
	for _, p := range posts {
		b.Post(p.debit, p.credit, p.amount)
	}
	if b.Empty() {
		return nil
	}
	t, err := b.Build()
	if err != nil {
		return fmt.Errorf("build %s transfer: %w", code, err) // a bug: amounts are checked before
	}
	d.fx.Transfers = append(d.fx.Transfers, t)
	return nil
}

type posting struct {
	debit, credit ledger.Account
	amount        int64
}

func amt(o *Order, minor int64) money.Amount { return money.New(minor, o.Currency) }
