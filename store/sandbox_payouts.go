package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// The sandbox payout rail's memory (migration 00017): which suppliers' payouts it returns,
// shared by every process, and the answer it gave each payout, kept for good so the same
// reference gets the same answer across restarts.

var _ escrow.SandboxPayoutStore = (*DB)(nil)

// SetSandboxPayoutReturns makes the sandbox return the supplier's payouts, or send them again.
func (db *DB) SetSandboxPayoutReturns(ctx context.Context, supplierID string, ret bool, at time.Time) error {
	return db.write(ctx, func(t *tx) error {
		_, err := t.q.ExecContext(ctx, `INSERT INTO sandbox_payout_settings (supplier_id, return_payouts, updated_at)
			VALUES ($1, $2, $3) ON CONFLICT (supplier_id) DO UPDATE SET return_payouts = excluded.return_payouts,
			updated_at = excluded.updated_at`, supplierID, flag(ret), micros(at))
		if err != nil {
			return t.fail(fmt.Errorf("set sandbox payout rail for %q: %w", supplierID, err))
		}
		return nil
	})
}

// SandboxPayoutReturns reports whether the sandbox returns the supplier's payouts.
func (db *DB) SandboxPayoutReturns(ctx context.Context, supplierID string) (bool, error) {
	var ret []int64
	err := db.Read(ctx, func(r escrow.Reader) error {
		rows, err := r.(reader).q.QueryContext(ctx, `SELECT return_payouts FROM sandbox_payout_settings WHERE supplier_id = $1`, supplierID)
		if err != nil {
			return fmt.Errorf("select sandbox payout setting of %q: %w", supplierID, err)
		}
		ret, err = scanAll(rows, "sandbox payout setting", func(s scanner) (int64, error) {
			var v int64
			return v, s.Scan(&v)
		})
		return err
	})
	return len(ret) == 1 && ret[0] == 1, err
}

// SandboxPayoutAnswer answers in once: the answer stored for its reference, else sent — or
// returned when the supplier's payouts are set to return — decided and stored in one
// transaction, so two processes asking at once get one answer.
func (db *DB) SandboxPayoutAnswer(ctx context.Context, in escrow.PayoutInstruction, sent, returned trade.PayoutResult, at time.Time) (trade.PayoutResult, error) {
	var r trade.PayoutResult
	err := db.write(ctx, func(t *tx) error {
		var set []int64
		rows, err := t.q.QueryContext(ctx, `SELECT return_payouts FROM sandbox_payout_settings WHERE supplier_id = $1`, in.SupplierID)
		if err != nil {
			return t.fail(fmt.Errorf("select sandbox payout setting of %q: %w", in.SupplierID, err))
		}
		if set, err = scanAll(rows, "sandbox payout setting", func(s scanner) (int64, error) {
			var v int64
			return v, s.Scan(&v)
		}); err != nil {
			return t.fail(err)
		}
		answer := sent
		if len(set) == 1 && set[0] == 1 {
			answer = returned
		}
		// The first answer wins: another process's answer stored meanwhile stays, and the SELECT
		// reads whichever answer is stored.
		_, err = t.q.ExecContext(ctx, `INSERT INTO sandbox_payout_answers
			(reference, supplier_id, amount, currency, outcome, bank_reference, value_date, reason, answered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (reference) DO NOTHING`,
			in.Reference, in.SupplierID, in.Amount.Minor, string(in.Amount.Currency), string(answer.Outcome),
			answer.BankReference, micros(answer.ValueDate), answer.Reason, micros(at))
		if err != nil {
			return t.fail(fmt.Errorf("answer sandbox payout %q: %w", in.Reference, err))
		}
		var amount, day int64
		var cur, outcome string
		err = t.q.QueryRowContext(ctx, `SELECT amount, currency, outcome, bank_reference, value_date, reason
			FROM sandbox_payout_answers WHERE reference = $1`, in.Reference).
			Scan(&amount, &cur, &outcome, &r.BankReference, &day, &r.Reason)
		r.Amount, r.Outcome, r.ValueDate = money.New(amount, money.Currency(cur)), trade.PayoutOutcome(outcome), fromMicros(day)
		return t.fail(err)
	})
	return r, err
}
