package escrow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/poll"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/trade"
)

// The payout rail's worker (docs/payouts.md): it claims requested payouts with a lease, asks the
// rail outside any transaction, and records each answer in a transaction of its own,
// idempotently by the payout's ID.

// Payout rail worker limits.
const (
	PayoutSendBatchMax = 20 // payouts claimed at once
	// PayoutSendTimeout bounds one call to the rail; PayoutSendLease is longer, so no other
	// worker asks while a call and its record are under way.
	PayoutSendTimeout = 30 * time.Second
	PayoutSendLease   = 2 * time.Minute
	// PayoutSendAttemptsMax is how many times the rail is asked without an answer before the
	// payout waits for an operator (Attention): about three hours with the backoff below.
	PayoutSendAttemptsMax = 8
	// PayoutSendBackoffBase is the wait after the first unanswered attempt; it doubles with each
	// attempt, up to PayoutSendBackoffMax.
	PayoutSendBackoffBase = time.Minute
	PayoutSendBackoffMax  = time.Hour
)

// The results OnAnswer hears besides the statuses a payout ends in.
const (
	PayoutResultRetry     = "retry"     // no answer: asked again later
	PayoutResultAttention = "attention" // no answer after the last attempt, or an answer that does not fit
)

// PayoutSendBackoff is the wait after the attempts-th unanswered attempt.
func PayoutSendBackoff(attempts int) time.Duration {
	d := PayoutSendBackoffBase
	for i := 1; i < attempts && d < PayoutSendBackoffMax; i++ {
		d *= 2
	}
	return min(d, PayoutSendBackoffMax)
}

// RunPayoutSends asks the payout rail about the payouts due now, each in turn, and records the
// answers; it returns how many payouts it claimed. Without a rail it claims nothing: an operator
// records each answer. The sandbox rail answers only payouts requested with the sandbox on, any
// other rail only the others. A payout whose answer cannot be recorded (the process dies, the
// database fails) keeps its lease until PayoutSendLease runs out; then the rail is asked again
// with the same reference and gives the same answer without sending twice.
func (s *Service) RunPayoutSends(ctx context.Context, owner string) (int, error) {
	if s.pays.rail == nil {
		return 0, nil // no rail on this machine: payouts wait for an operator (RecordPayoutResult)
	}
	cl, ok := s.store.(PayoutClaimer)
	if !ok {
		return 0, fault.New(fault.Internal, "payouts_unavailable", "this store does not keep payouts")
	}
	claimed, err := cl.ClaimPayouts(ctx, s.clock.Now(), owner, PayoutSendLease, PayoutSendBatchMax, s.pays.sandbox)
	if err != nil {
		return 0, fmt.Errorf("claim payouts: %w", err)
	}
	return s.payoutOutbox().round(ctx, owner, claimed)
}

// PayoutWorker runs RunPayoutSends every interval until ctx ends, at once again after a round
// that claimed something.
func (s *Service) PayoutWorker(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "payout worker", func(ctx context.Context) (int, error) { return s.RunPayoutSends(ctx, owner) })
}

// payoutOutbox is the send outbox as the payout rail's worker handles it: the rail is asked what
// became of the payout; one unanswered after PayoutSendAttemptsMax attempts waits for an
// operator (Attention) and is claimed no more. Only a machine with a rail runs it.
func (s *Service) payoutOutbox() outbox[trade.Payout, trade.PayoutResult, PayoutTx] {
	return outbox[trade.Payout, trade.PayoutResult, PayoutTx]{s: s, name: "payout rail", noun: "payout", actor: s.railActor(),
		timeout: PayoutSendTimeout, attemptsMax: PayoutSendAttemptsMax, backoff: PayoutSendBackoff,
		id:       func(p trade.Payout) string { return p.ID },
		attempts: func(p trade.Payout) int { return p.Attempts },
		logged:   func(p trade.Payout) []any { return []any{"payout", p.ID, "supplier", p.SupplierID} },
		ask: func(ctx context.Context, p trade.Payout) (trade.PayoutResult, error) {
			return s.pays.rail.Send(ctx, PayoutInstruction{Reference: p.ID, SupplierID: p.SupplierID,
				Amount: ledgerAmount(p), Method: p.Method, StatementReference: p.Reference, At: p.CreatedAt})
		},
		record: s.recordPayoutAnswer,
		tx:     (*unit).payoutTx, lock: PayoutTx.LockPayout, update: PayoutTx.UpdatePayout,
		retry: func(p *trade.Payout, lastError string, next time.Time) {
			p.LastError, p.NextAttemptAt = lastError, next
		},
		attention: func(ctx context.Context, u *unit, p *trade.Payout) error {
			p.Attention = true
			return u.payoutAttention(ctx, *p)
		},
		noAnswer: func(p trade.Payout, attention bool, cause error) {
			if attention {
				s.log.Error("payout needs an operator: no answer from the payout rail", "payout", p.ID, "supplier", p.SupplierID,
					"amount", ledgerAmount(p).String(), "attempts", p.Attempts, "err", cause)
				s.answered(PayoutResultAttention)
				return
			}
			s.log.Warn("payout unanswered; asking the rail again later", "payout", p.ID, "attempt", p.Attempts, "err", cause)
			s.answered(PayoutResultRetry)
		},
	}
}

// recordPayoutAnswer records the rail's answer in one transaction, only while this worker still
// holds the payout, so an answer is recorded once. An answer that does not fit the payout (the
// rail confirmed another amount) is not applied: the payout waits for an operator.
func (s *Service) recordPayoutAnswer(ctx context.Context, owner string, p trade.Payout, r trade.PayoutResult) error {
	var published []Event
	result, refusal := "", ""
	err := s.store.Write(ctx, func(tx Tx) error {
		published, result, refusal = nil, "", ""
		u := s.railUnit(tx)
		pt, err := u.payoutTx()
		if err != nil {
			return err
		}
		cur, err := pt.LockPayout(ctx, p.ID, owner)
		if errors.Is(err, ErrNotFound) {
			return nil // another worker took it over after our lease ran out, or an operator answered
		}
		if err != nil {
			return err
		}
		np, err := s.applyPayoutAnswer(ctx, u, pt, cur, r)
		if refused(err) {
			// Nothing was written: the payout waits for an operator, with the rail's answer as its error.
			cur.Attention, cur.LastError, refusal = true, clip("the rail's answer does not fit: "+err.Error(), lastErrorMax), err.Error()
			result = PayoutResultAttention
			if err := u.payoutAttention(ctx, cur); err != nil {
				return err
			}
			published = u.events
			return pt.UpdatePayout(ctx, cur)
		}
		if err != nil {
			return err
		}
		published, result = u.events, string(np.Status)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the answer to payout %s: %w", p.ID, err)
	}
	s.publish(published)
	if refusal != "" {
		s.log.Error("payout needs an operator: the rail's answer does not fit", "payout", p.ID, "outcome", r.Outcome,
			"amount", r.Amount.String(), "err", refusal)
	}
	s.answered(result)
	return nil
}

// railUnit is a unit of the payout rail's worker in tx.
func (s *Service) railUnit(tx Tx) *unit {
	return &unit{tx: tx, now: s.clock.Now(), actor: s.railActor()}
}

// railActor is who records what the payout rail's worker learnt: the system, as the rail it asks.
func (s *Service) railActor() trade.Actor {
	return trade.Actor{Role: trade.RoleSystem, OrgID: ledger.Platform, UserID: s.pays.rail.Name()}
}

// payoutAttention publishes, in the transaction that marks it, that a payout waits for an
// operator, so that the notifier tells the platform's admins. It is on the supplier's stream but
// only the platform sees it: the send outbox's workings are the platform's business (payoutEvent).
func (u *unit) payoutAttention(ctx context.Context, p trade.Payout) error {
	return u.appendEvent(ctx, p.SupplierID, nil, "payout.attention", map[string]any{"id": p.ID, "supplier_id": p.SupplierID,
		"amount": ledgerAmount(p), "attempts": p.Attempts, "last_error": p.LastError})
}

func (s *Service) answered(result string) {
	if result != "" && s.pays.onAnswer != nil {
		s.pays.onAnswer(result)
	}
}
