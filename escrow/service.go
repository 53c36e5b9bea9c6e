// Package escrow runs the use cases of Trade Assurance. Each command is one database
// transaction: check the idempotency key, lock, load, let the pure domain decide, write the new
// state with its ledger transfers, events and timers, commit. Nothing outside the database is
// called inside a transaction: webhook deliveries, Pay Later's requests to the lender and the
// bank are rows the transaction writes, and workers act on them after it commits (the notifier
// tails the events). It owns the Store interface that the store package implements.
package escrow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Clock tells the time. Tests move a ManualClock; nothing in this package calls time.Now.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock, in UTC, to the microsecond the databases keep.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// ManualClock is a clock that moves only when told.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock starts a clock at t.
func NewManualClock(t time.Time) *ManualClock {
	return &ManualClock{t: t.UTC().Truncate(time.Microsecond)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d).Truncate(time.Microsecond)
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC().Truncate(time.Microsecond)
}

// Sandbox is the built-in payment rail for demos and tests, off unless Enabled. On, every
// payment's instructions name the sandbox's own account (flagged Sandbox, on the payment too)
// instead of a collection account, and the sandbox delivers the money after Delay through the
// same matching as money a real rail reports to ReceiveFunds, debited to the sandbox's clearing
// account (trade.SandboxAccount): no real money moves. Off, money arrives only through
// ReceiveFunds, and a sandbox delivery scheduled while it was on is skipped.
type Sandbox struct {
	Enabled bool
	Delay   time.Duration
}

// Options configure a Service. The zero value is the wall clock, trade.DefaultConfig, no
// logging, the sandbox off with no collection accounts (so only Pay Later is offered), no
// attachments and Pay Later's defaults.
type Options struct {
	Clock   Clock
	Config  trade.Config
	Sandbox Sandbox
	// Accounts are the platform's collection accounts (R8): the designated account the payment
	// instructions name for each method and currency. A method is offered in a currency only
	// with one (Pay Later aside: the lender pays). Unused while the sandbox is on. Validate
	// them first (payment.CollectionAccounts.Validate).
	Accounts payment.CollectionAccounts
	Logger   *slog.Logger
	// Blobs holds attachments (R23); without it, commands that carry attachments are refused.
	Blobs blob.Store
	// AfterCommit is called with the events of each committed command, outside the transaction.
	AfterCommit func([]Event)
	// Credit configures Pay Later (R11); the zero value is the built-in lender, and the
	// SandboxBank only while Sandbox is enabled (no bank otherwise: an operator records answers).
	Credit CreditOptions
	// Payouts configures the payout rail; the zero value is the SandboxPayoutRail while Sandbox
	// is enabled, and no rail otherwise (an operator records each bank answer).
	Payouts PayoutOptions
	// OnTimer is told of every timer this process finished, after its transaction committed:
	// the timer's kind and TimerFired, TimerSkipped or TimerDead. Metrics hang here.
	OnTimer func(kind trade.TimerKind, result string)
}

// Service runs commands against a Store.
type Service struct {
	store Store
	clock Clock
	cfg   trade.Config
	sbx   Sandbox
	accts payment.CollectionAccounts
	log   *slog.Logger
	blobs blob.Store
	after func([]Event)
	cred  creditDeps // Pay Later (R11)
	pays  payoutDeps // the payout rail
	timed func(kind trade.TimerKind, result string)
}

// New returns a Service.
func New(s Store, opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Config.DisputeWindow == 0 {
		opt.Config = trade.DefaultConfig()
	}
	return &Service{store: s, clock: opt.Clock, cfg: opt.Config, sbx: opt.Sandbox, accts: opt.Accounts, log: opt.Logger,
		blobs: opt.Blobs, after: opt.AfterCommit, cred: newCreditDeps(opt.Credit, s, opt.Sandbox, opt.Clock, opt.Logger), timed: opt.OnTimer,
		pays: newPayoutDeps(opt.Payouts, s, opt.Sandbox, opt.Clock, opt.Logger)}
}

// Config returns the platform configuration in force.
func (s *Service) Config() trade.Config { return s.cfg }

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// newID returns a fresh, time-ordered identifier with a prefix.
func newID(prefix string) string {
	return prefix + "_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// KeyMax bounds idempotency keys.
const KeyMax = 255

// unit is one command's work inside a transaction: it records what to publish after commit.
type unit struct {
	tx     Tx
	now    time.Time
	actor  trade.Actor
	events []Event
}

// run executes fn as an idempotent command: scope and key identify it, request is hashed to
// tell a retry from a different request under the same key, and the result is stored so a
// retry returns it unchanged.
func run[R any](ctx context.Context, s *Service, a trade.Actor, key string, request any, fn func(u *unit) (R, error)) (R, error) {
	var zero, out R
	if key == "" || len(key) > KeyMax {
		return zero, fault.FieldErr("idempotency_key", "invalid_idempotency_key", "give an idempotency key of 1 to %d characters", KeyMax)
	}
	reqHash := hashJSON(request)
	var published []Event
	// stored returns the result of an earlier run of the same command, if there is one.
	stored := func(tx Tx) (bool, error) {
		rec, err := tx.Command(ctx, a.OrgID, key)
		if err != nil || rec == nil {
			return false, err
		}
		if rec.RequestHash != reqHash {
			return true, fault.New(fault.Invalid, "idempotency_key_reused", "this idempotency key was used for a different request")
		}
		return true, json.Unmarshal(rec.Result, &out)
	}
	attempt := func(tx Tx) error {
		published = nil
		if done, err := stored(tx); done || err != nil {
			return err
		}
		u := &unit{tx: tx, now: s.clock.Now(), actor: a}
		var err error
		if out, err = fn(u); err != nil {
			// A concurrent retry of this command may have committed while we waited for a lock:
			// then the caller gets its result, not the refusal its effects caused.
			if refused(err) {
				if done, serr := stored(tx); done {
					return serr
				}
			}
			return err
		}
		result, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("marshal result: %w", err)
		}
		if err := tx.SaveCommand(ctx, CommandRecord{Scope: a.OrgID, Key: key, RequestHash: reqHash, Result: result, At: u.now}); err != nil {
			return fmt.Errorf("save command: %w", err)
		}
		published = u.events
		return nil
	}
	err := s.store.Write(ctx, attempt)
	if errors.Is(err, ErrDuplicate) {
		// A concurrent run of the same key committed first; this run rolled back. Once more
		// finds its stored result.
		err = s.store.Write(ctx, attempt)
	}
	if err != nil {
		return zero, err
	}
	s.publish(published)
	return out, nil
}

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("hash request: %v", err)) // requests are plain data
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// appendEvent adds an event to a hash-chained stream. parties are the organizations besides the
// platform that may see it (orderParties for an order, the organization for its own stream, none
// for the platform's). In the same transaction the event is queued for their webhook endpoints.
func (u *unit) appendEvent(ctx context.Context, stream string, parties []string, typ string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("marshal %s payload: %w", typ, err)
	}
	seq, prev, err := u.tx.LastEvent(ctx, stream)
	if err != nil {
		return fmt.Errorf("last event of %s: %w", stream, err)
	}
	e := Event{Stream: stream, Seq: seq + 1, Type: typ, Actor: u.actor, At: u.now, Payload: body, PrevHash: prev,
		Audience: audience(parties)}
	e.Hash = ChainHash(e)
	if err := u.tx.AppendEvent(ctx, e); err != nil {
		return fmt.Errorf("append %s: %w", typ, err)
	}
	if err := u.tx.EnqueueDeliveries(ctx, e); err != nil {
		return fmt.Errorf("enqueue %s for webhooks: %w", typ, err)
	}
	u.events = append(u.events, e)
	return nil
}

// orderParties are the organizations that see an order's events besides the platform.
func orderParties(o *trade.Order) []string { return []string{o.BuyerID, o.SupplierID} }

// audience is the platform, which sees every event, and parties, without repeats.
func audience(parties []string) []string {
	out := []string{ledger.Platform}
	for _, p := range parties {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// ChainHash is the hash of an event over its predecessor's: editing or removing any event of a
// stream breaks every hash after it.
func ChainHash(e Event) string {
	actor, _ := json.Marshal(e.Actor)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n%s\n%s\n%s\n", e.PrevHash, e.Stream, e.Seq, e.Type, actor, e.At.UTC().Format(time.RFC3339Nano))
	h.Write(e.Payload)
	return hex.EncodeToString(h.Sum(nil))
}

// write persists what a domain decision produced for order o, in the unit's transaction.
func (u *unit) write(ctx context.Context, o *trade.Order, prevVersion int64, fx trade.Effects, s *Service) error {
	tx := u.tx
	if prevVersion == 0 {
		if err := tx.InsertOrder(ctx, o); err != nil {
			return fmt.Errorf("insert order: %w", err)
		}
	} else if err := tx.UpdateOrder(ctx, o, prevVersion); err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	if err := u.schedulePayouts(ctx, fx.Transfers); err != nil { // a release: the automatic payout
		return err
	}
	for _, t := range fx.Transfers {
		if err := tx.PostTransfer(ctx, t); err != nil {
			return postError(t, err)
		}
	}
	if err := u.refundFinanced(ctx, o, fx.Transfers); err != nil { // R11: a financed order repays its loan first
		return err
	}
	if err := u.lapseFinanced(ctx, o, fx); err != nil { // R11: a loan whose payment lapsed is cancelled
		return err
	}
	if fx.CoverageDelta != 0 {
		sup, err := tx.LockOrg(ctx, o.SupplierID)
		if err != nil {
			return fmt.Errorf("lock supplier: %w", err)
		}
		sup.Coverage.Used += fx.CoverageDelta
		if sup.Coverage.Used < 0 {
			return fmt.Errorf("coverage of %s would be %d: %w", sup.ID, sup.Coverage.Used, errInvariant)
		}
		if err := tx.UpdateOrg(ctx, sup); err != nil {
			return fmt.Errorf("update supplier: %w", err)
		}
	}
	if fx.RetireAll || len(fx.Retire) > 0 {
		keys := fx.Retire
		if fx.RetireAll {
			keys = nil
		}
		if err := tx.RetireTimers(ctx, o.ID, keys); err != nil {
			return fmt.Errorf("retire timers: %w", err)
		}
	}
	for _, tm := range fx.Timers {
		if err := tx.PutTimer(ctx, tm); err != nil {
			return fmt.Errorf("put timer: %w", err)
		}
	}
	for _, e := range fx.Events {
		if err := u.appendEvent(ctx, o.ID, orderParties(o), e.Type, e.Payload); err != nil {
			return err
		}
		if e.Type == "payment.initiated" {
			if err := u.paymentInitiated(ctx, o, e.Payload.(trade.Payment), s); err != nil {
				return err
			}
		}
	}
	return nil
}

var errInvariant = errors.New("invariant broken")

// postError turns a store refusal into a domain error where a person can act on it.
func postError(t ledger.Transfer, err error) error {
	var neg *ledger.NegativeError
	if errors.As(err, &neg) {
		for _, id := range neg.Accounts {
			if strings.HasPrefix(id, string(ledger.GuaranteeFund)+":") {
				return fault.New(fault.Conflict, "guarantee_fund_insufficient",
					"the guarantee fund cannot cover this refund; an admin must fund it")
			}
		}
		return fault.New(fault.Conflict, "insufficient_balance", "transfer %s would overdraw %v", t.Code, neg.Accounts)
	}
	return fmt.Errorf("post transfer %s: %w", t.ID, err)
}

// paymentInitiated registers the payment's reference for matching incoming money, and lets the
// sandbox rail schedule the delivery of a sandbox payment. Any other payment waits for its
// money to be reported (ReceiveFunds); the lender pays Pay Later, on its own timer.
func (u *unit) paymentInitiated(ctx context.Context, o *trade.Order, p trade.Payment, s *Service) error {
	if err := u.tx.InsertPaymentRef(ctx, p.Reference, o.ID, p.ID); err != nil {
		return fmt.Errorf("register payment reference: %w", err)
	}
	if !p.Sandbox || p.Method == payment.PayLater {
		return nil
	}
	return u.tx.PutTimer(ctx, trade.Timer{Key: o.ID + "/sandbox/" + p.ID, Kind: trade.TimerSandboxSettle,
		OrderID: o.ID, DueAt: u.now.Add(s.sbx.Delay), Ref: p.ID})
}

// notFound maps a store miss to the domain error, and passes anything else through.
func notFound(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return fault.New(fault.NotFound, what+"_not_found", "no such %s", what)
	}
	return err
}
