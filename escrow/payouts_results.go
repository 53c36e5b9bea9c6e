package escrow

import (
	"context"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// A payout's answer — sent or returned — recorded by the payout rail's worker or, where no
// adapter runs, by an operator reading the bank's report; and the flag a return puts on the
// supplier's account, which an admin clears. See docs/payouts.md.

// ledgerAmount is what the payout sends, as an amount.
func ledgerAmount(p trade.Payout) money.Amount { return money.New(p.Sent, p.Currency) }

// applyPayoutAnswer applies r to the locked payout p as the unit's actor: it posts the answer's
// transfer, writes the payout, flags the supplier's account on a return and tells the
// supplier's stream. The same answer recorded already changes nothing. A refusal comes before
// anything is written; a failure after is dirty.
func (s *Service) applyPayoutAnswer(ctx context.Context, u *unit, pt PayoutTx, p trade.Payout, r trade.PayoutResult) (trade.Payout, error) {
	np, transfers, changed, err := trade.ApplyPayoutResult(p, r, u.actor, u.now)
	if err != nil || !changed {
		return np, err
	}
	for _, t := range transfers {
		if err := u.tx.PostTransfer(ctx, t); err != nil {
			return trade.Payout{}, &dirtyError{postError(t, err)}
		}
	}
	if err := pt.UpdatePayout(ctx, np); err != nil {
		return trade.Payout{}, &dirtyError{fmt.Errorf("update payout: %w", err)}
	}
	if np.Status == trade.PayoutReturned {
		f := trade.PayoutAccountFlag{SupplierID: np.SupplierID, PayoutID: np.ID, Reason: np.ReturnReason, FlaggedAt: u.now}
		if err := pt.FlagPayoutAccount(ctx, f); err != nil {
			return trade.Payout{}, &dirtyError{err}
		}
	}
	if err := u.appendEvent(ctx, np.SupplierID, []string{np.SupplierID}, "payout."+string(np.Status), payoutEvent(np)); err != nil {
		return trade.Payout{}, &dirtyError{err}
	}
	return np, nil
}

// payoutEvent is a payout as its events tell the supplier: without the outbox's workings, which
// are the platform's business.
func payoutEvent(p trade.Payout) trade.Payout {
	p.Attempts, p.LastError, p.Attention = 0, "", false
	return p
}

// RecordPayoutResult records the bank's answer to a payout by hand (admin): where no payout
// adapter runs (the sandbox off), payouts wait as requested and an operator reads the bank's
// report: sent, with the bank's reference and value date, or returned, with its reason. The
// amount must be the payout's. It is applied as the rail's worker's answer would be, under the
// payout's lock. The same answer again returns the payout unchanged; a different answer for a
// payout answered already is refused (payout_recorded), and so is one the worker is asking the
// rail about right now (payout_in_progress).
func (s *Service) RecordPayoutResult(ctx context.Context, a trade.Actor, key, id string, r trade.PayoutResult) (trade.Payout, error) {
	if err := requireAdmin(a); err != nil {
		return trade.Payout{}, err
	}
	if id == "" || len(id) > trade.TextMax {
		return trade.Payout{}, fault.New(fault.NotFound, "payout_not_found", "no such payout")
	}
	return run(ctx, s, a, key, []any{"payout_result", id, r}, func(u *unit) (trade.Payout, error) {
		pt, err := u.payoutTx()
		if err != nil {
			return trade.Payout{}, err
		}
		p, err := pt.LockPayout(ctx, id, "")
		if err != nil {
			return trade.Payout{}, notFound(err, "payout")
		}
		if p.Status == trade.PayoutRequested && p.LeaseOwner != "" && p.LeaseUntil.After(u.now) {
			return trade.Payout{}, fault.New(fault.Conflict, "payout_in_progress",
				"the payout rail's worker is asking the rail about this payout now; try again in a few minutes")
		}
		return s.applyPayoutAnswer(ctx, u, pt, p, r)
	})
}

// ClearPayoutFlag clears the flag a returned payout put on the supplier's designated account
// (admin), once the supplier has given correct bank details: payouts send again, and the
// automatic payout is scheduled for whatever the supplier is owed. A supplier whose account is
// not flagged is refused (payout_account_not_flagged).
func (s *Service) ClearPayoutFlag(ctx context.Context, a trade.Actor, key, supplierID string) (trade.PayoutAccountFlag, error) {
	if err := requireAdmin(a); err != nil {
		return trade.PayoutAccountFlag{}, err
	}
	if supplierID == "" || len(supplierID) > trade.TextMax {
		return trade.PayoutAccountFlag{}, supplierNotFound()
	}
	return run(ctx, s, a, key, []any{"payout_flag_clear", supplierID}, func(u *unit) (trade.PayoutAccountFlag, error) {
		pt, err := u.payoutTx()
		if err != nil {
			return trade.PayoutAccountFlag{}, err
		}
		sup, err := payoutSupplier(ctx, u, supplierID)
		if err != nil {
			return trade.PayoutAccountFlag{}, err
		}
		f, err := pt.LockPayoutFlag(ctx, sup.ID)
		if errors.Is(err, ErrNotFound) {
			return trade.PayoutAccountFlag{}, fault.New(fault.Conflict, "payout_account_not_flagged", "the supplier's account is not flagged")
		}
		if err != nil {
			return trade.PayoutAccountFlag{}, err
		}
		at := u.now
		f.ClearedAt, f.ClearedBy = &at, "admin:"+u.actor.UserID
		if err := pt.ClearPayoutFlag(ctx, f); err != nil {
			return trade.PayoutAccountFlag{}, &dirtyError{err}
		}
		if err := u.scheduleOwed(ctx, pt, sup.ID); err != nil {
			return trade.PayoutAccountFlag{}, &dirtyError{err}
		}
		return f, u.appendEvent(ctx, sup.ID, []string{sup.ID}, "payout.account_cleared", f)
	})
}

// scheduleOwed sets the automatic payout of every currency the supplier is owed in.
func (u *unit) scheduleOwed(ctx context.Context, pt PayoutTx, supplierID string) error {
	bs, err := pt.SupplierBalances(ctx, supplierID)
	if err != nil {
		return err
	}
	for _, c := range sortedCurrencies(bs, supplierID) {
		if err := u.schedulePayout(ctx, supplierID, c); err != nil {
			return err
		}
	}
	return nil
}

// OpenPayoutFlag returns the supplier's flagged account, or nil: to the supplier itself and to
// admins.
func (s *Service) OpenPayoutFlag(ctx context.Context, a trade.Actor, supplierID string) (*trade.PayoutAccountFlag, error) {
	sup, err := payoutScope(a, supplierID)
	if err != nil {
		return nil, err
	}
	var out *trade.PayoutAccountFlag
	err = s.store.Read(ctx, func(r Reader) error {
		pr, err := payoutReader(r)
		if err != nil {
			return err
		}
		f, err := pr.OpenPayoutFlag(ctx, sup)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		out = &f
		return nil
	})
	return out, err
}
