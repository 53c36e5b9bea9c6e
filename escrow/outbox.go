package escrow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/trade"
)

// The outbox workers — the bank's (debit requests), the lender's (lender requests) and the
// payout rail's (payouts) — run one round: claim the items due with a lease; ask the outside
// party about each outside any transaction, under a timeout; record the answer in a transaction
// of its own only while still holding the item, so it is recorded once. No answer: the item
// waits a backoff, and after the outbox's last attempt waits for an operator (with an event for
// the admins). A worker that dies before recording leaves its lease to lapse, and the same
// reference is asked again. What is asked and recorded, and what attention means, are each
// outbox's own (credit_debit_worker.go, credit_lender_worker.go, payouts_worker.go).

// lastErrorMax bounds the outside party's error kept on an item.
const lastErrorMax = 500

// errNoAnswerRecorded is the cause kept on an item claimed more often than its outbox asks
// without an answer recorded: the worker crashed after each call.
var errNoAnswerRecorded = errors.New("no answer recorded after the last attempt")

// outbox is one outbox as its worker handles it: items T, the outside party's answers A, and X
// the store's transaction that locks and writes the items.
type outbox[T, A, X any] struct {
	s     *Service
	name  string      // the worker's failures in the log: "bank debit"
	noun  string      // an item in errors: "debit"
	actor trade.Actor // who records what the worker learnt
	// timeout bounds one ask; attemptsMax is how many times an item is asked without an answer
	// before it waits for an operator; backoff is the wait after the attempts-th unanswered one.
	timeout     time.Duration
	attemptsMax int
	backoff     func(attempts int) time.Duration

	id       func(T) string
	attempts func(T) int   // how many times the item was asked, this claim included
	logged   func(T) []any // how the log names the item

	// ask asks the outside party about an item; an error is no answer. record records the
	// answer, only while owner holds the item.
	ask    func(ctx context.Context, it T) (A, error)
	record func(ctx context.Context, owner string, it T, answer A) error

	// tx is the unit's transaction as X; lock reads and locks an item while owner holds it, else
	// ErrNotFound; update writes it and clears its lease.
	tx     func(*unit) (X, error)
	lock   func(x X, ctx context.Context, id, owner string) (T, error)
	update func(x X, ctx context.Context, it T) error
	// retry keeps an unanswered attempt's cause on the item, and when to ask next; attention
	// marks it for an operator and publishes that.
	retry     func(it *T, lastError string, next time.Time)
	attention func(ctx context.Context, u *unit, it *T) error
	// noAnswer hears of each unanswered attempt kept: asked again later, or waiting for an
	// operator. The log and the metrics hang here.
	noAnswer func(it T, attention bool, cause error)
}

// round asks about the claimed items, each in turn, and records the answers; it returns how
// many it claimed.
func (o outbox[T, A, X]) round(ctx context.Context, owner string, claimed []T) (int, error) {
	var errs []error
	for _, it := range claimed {
		if ctx.Err() != nil {
			break // shutting down: the leases lapse and another worker asks
		}
		if err := o.attempt(ctx, owner, it); err != nil {
			o.s.log.Error(o.name, append(o.logged(it), "attempt", o.attempts(it), "err", err)...)
			errs = append(errs, err)
		}
	}
	return len(claimed), errors.Join(errs...)
}

// attempt asks the outside party once about a claimed item and records what it said.
func (o outbox[T, A, X]) attempt(ctx context.Context, owner string, it T) error {
	if o.attempts(it) > o.attemptsMax {
		return o.unanswered(ctx, owner, it, errNoAnswerRecorded)
	}
	call, cancel := context.WithTimeout(ctx, o.timeout)
	answer, err := o.ask(call, it)
	cancel()
	switch {
	case ctx.Err() != nil:
		return nil // shutting down: whatever the outside party did, the lease lapses and the same reference is asked again
	case err != nil:
		return o.unanswered(ctx, owner, it, err)
	}
	return o.record(ctx, owner, it, answer)
}

// unanswered keeps an attempt that got no answer, only while this worker still holds the item:
// the cause, and the next attempt after the backoff; after attemptsMax attempts the item waits
// for an operator instead.
func (o outbox[T, A, X]) unanswered(ctx context.Context, owner string, it T, cause error) error {
	attention := false
	held, err := o.updateHeld(ctx, owner, o.id(it), func(u *unit, cur *T) error {
		n := o.attempts(*cur)
		o.retry(cur, clip(cause.Error(), lastErrorMax), u.now.Add(o.backoff(n)))
		if attention = n >= o.attemptsMax; attention {
			return o.attention(ctx, u, cur)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record no answer for %s %s: %w", o.noun, o.id(it), err)
	}
	if held {
		o.noAnswer(it, attention, cause)
	}
	return nil
}

// updateHeld changes an item this worker still holds, in a transaction of its own, as the
// outbox's actor: f changes it and may append events, published after commit. held is false
// when another worker took the item over after this one's lease ran out, or an operator
// answered.
func (o outbox[T, A, X]) updateHeld(ctx context.Context, owner, id string, f func(u *unit, cur *T) error) (held bool, err error) {
	var published []Event
	err = o.s.store.Write(ctx, func(tx Tx) error {
		held, published = false, nil
		u := &unit{tx: tx, now: o.s.clock.Now(), actor: o.actor}
		x, err := o.tx(u)
		if err != nil {
			return err
		}
		cur, err := o.lock(x, ctx, id, owner)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(u, &cur); err != nil {
			return err
		}
		if err := o.update(x, ctx, cur); err != nil {
			return err
		}
		held, published = true, u.events
		return nil
	})
	if err != nil {
		return false, err
	}
	o.s.publish(published)
	return held, nil
}

// publish hands the events a transaction committed to AfterCommit.
func (s *Service) publish(events []Event) {
	if s.after != nil && len(events) > 0 {
		s.after(events)
	}
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
