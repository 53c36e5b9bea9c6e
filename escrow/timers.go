package escrow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/poll"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Timer worker limits.
const (
	TimerBatchMax    = 50              // timers claimed at once
	TimerLease       = 2 * time.Minute // how long a claim holds before another worker may take over
	TimerAttemptsMax = 10              // failures before a timer is marked dead for an operator
)

// RunTimers fires the timers due now, each exactly once (R21): a timer's effect and its "fired"
// mark commit in one transaction that also checks this worker still holds the claim. It returns
// how many timers it finished.
func (s *Service) RunTimers(ctx context.Context, owner string) (int, error) {
	claimed, err := s.store.ClaimTimers(ctx, s.clock.Now(), owner, TimerLease, TimerBatchMax)
	if err != nil {
		return 0, fmt.Errorf("claim timers: %w", err)
	}
	done := 0
	for _, t := range claimed {
		err := s.fire(ctx, owner, t)
		if err == nil {
			done++
			continue
		}
		s.log.Error("timer failed", "timer", t.ID, "kind", t.Kind, "order", t.OrderID, "attempt", t.Attempts, "err", err)
		if t.Attempts >= TimerAttemptsMax {
			if err := s.bury(ctx, owner, t, err); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// bury marks a timer that kept failing as dead, in a transaction of its own, so an operator sees
// it; it never fires by itself again.
func (s *Service) bury(ctx context.Context, owner string, st StoredTimer, cause error) error {
	buried := false
	err := s.store.Write(ctx, func(tx Tx) error {
		buried = false
		t, err := tx.LockTimer(ctx, st.ID, owner)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		buried = true
		if err != nil {
			return err
		}
		return tx.FinishTimer(ctx, t.ID, TimerDead, "dead: "+cause.Error(), s.clock.Now())
	})
	if err == nil && buried && s.timed != nil {
		s.timed(st.Kind, string(TimerDead))
	}
	return err
}

// TimerSkipped is what OnTimer hears of a timer that no longer applied when it came due: the
// order had moved on. It is recorded as fired, with a "skipped: …" outcome.
const TimerSkipped = "skipped"

func (s *Service) fire(ctx context.Context, owner string, st StoredTimer) error {
	var published []Event
	result := ""
	err := s.store.Write(ctx, func(tx Tx) error {
		published, result = nil, ""
		t, err := tx.LockTimer(ctx, st.ID, owner)
		if errors.Is(err, ErrNotFound) {
			return nil // another worker took it over after our lease ran out, or it is done
		}
		if err != nil {
			return err
		}
		u := &unit{tx: tx, now: s.clock.Now(), actor: trade.System}
		outcome, err := s.timerCommand(ctx, u, t)
		result = string(TimerFired)
		switch {
		case err == nil:
		case refused(err):
			outcome = TimerSkipped + ": " + fault.ReasonOf(err) // the order moved on: nothing to do, ever
			result = TimerSkipped
		default:
			return err // roll back; the claim lapses and the timer is tried again
		}
		if err := tx.FinishTimer(ctx, t.ID, TimerFired, outcome, u.now); err != nil {
			return fmt.Errorf("finish timer: %w", err)
		}
		published = u.events
		return nil
	})
	if err == nil {
		s.publish(published)
	}
	if err == nil && result != "" && s.timed != nil {
		s.timed(st.Kind, result)
	}
	return err
}

// timerCommand issues the command a timer stands for. A domain refusal means the timer no
// longer applies; the caller records it as skipped.
func (s *Service) timerCommand(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	var cmd trade.Command
	switch t.Kind {
	case trade.TimerShippingDeadline:
		cmd = trade.DeadlinePassed{Deadline: t.DueAt}
	case trade.TimerDisputeWindow:
		cmd = trade.Escalate{DisputeID: t.Ref, Note: "the supplier's window ended"}
	case trade.TimerPaymentExpiry:
		cmd = trade.ExpirePayment{PaymentID: t.Ref}
	case trade.TimerRelease:
		cmd = trade.Release{}
	case trade.TimerCompletion:
		cmd = trade.Complete{}
	case trade.TimerSandboxSettle:
		return s.sandboxSettle(ctx, u, t)
	case trade.TimerPayout:
		return s.payoutTimer(ctx, u, t) // payouts.go
	case trade.TimerKind(credit.TimerDisburse), trade.TimerKind(credit.TimerDebit), trade.TimerKind(credit.TimerDebitRetry),
		trade.TimerKind(credit.TimerChargeOff), trade.TimerKind(credit.TimerStatement), trade.TimerKind(credit.TimerFundsOverdue):
		return s.creditTimer(ctx, u, t) // Pay Later (R11)
	default:
		return "", fmt.Errorf("unknown timer kind %q", t.Kind)
	}
	if _, err := s.apply(ctx, u, t.OrderID, cmd); err != nil {
		return "", err
	}
	return "fired", nil
}

// sandboxSettle delivers a sandbox payment through the same matching as real incoming money,
// debited to the sandbox's clearing account so the ledger and the payment.received event say
// the money is simulated. With the sandbox off it delivers nothing: the timer is skipped
// (sandbox_off) and the payment waits for real money, reported to ReceiveFunds.
func (s *Service) sandboxSettle(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	if !s.sbx.Enabled {
		return "", fault.New(fault.Conflict, "sandbox_off", "the sandbox rail is off: only real money is received")
	}
	o, err := u.tx.Order(ctx, t.OrderID)
	if err != nil {
		return "", notFound(err, "order")
	}
	for _, p := range o.Payments {
		if p.ID != t.Ref {
			continue
		}
		if p.Status != trade.PaymentPending {
			return "", fault.New(fault.Conflict, "payment_not_pending", "the payment is not pending")
		}
		a, err := s.allocateFrom(ctx, u, t.Key, Incoming{Method: p.Method, Amount: money.New(p.Total, o.Currency), Reference: p.Reference,
			Payer: o.BuyerID}, trade.SandboxAccount(o.Currency))
		if err != nil {
			return "", err
		}
		if a.SuspenseID != "" {
			return "suspense: " + a.Reason, nil
		}
		return "fired", nil
	}
	return "", fault.New(fault.NotFound, "payment_not_found", "no such payment")
}

// Worker runs RunTimers every interval until ctx ends, and again at once after a round that
// fired something, so a backlog of due timers drains without waiting for the tick.
func (s *Service) Worker(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "timer worker", func(ctx context.Context) (int, error) { return s.RunTimers(ctx, owner) })
}

// Timers lists an order's timers.
func (s *Service) Timers(ctx context.Context, orderID string) ([]StoredTimer, error) {
	var out []StoredTimer
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		out, err = r.Timers(ctx, orderID)
		return err
	})
	return out, err
}

// LiveTimers lists the timers still to fire (pending or claimed) of up to PageSizeMax orders in
// one read, by order and ID: what a list of orders shows as each one's deadlines, without a
// read per order.
func (s *Service) LiveTimers(ctx context.Context, orderIDs []string) ([]StoredTimer, error) {
	if len(orderIDs) > PageSizeMax {
		return nil, fault.New(fault.Invalid, "too_many_orders", "at most %d orders at once", PageSizeMax)
	}
	if len(orderIDs) == 0 {
		return nil, nil
	}
	var out []StoredTimer
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		out, err = r.LiveTimers(ctx, orderIDs)
		return err
	})
	return out, err
}
