package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
)

// The Pay Later sandbox bank's memory (R11, migration 00015): which buyers' debits it refuses,
// shared by every process, and the answer it gave each reference, kept for good so the same
// reference gets the same answer across restarts.

var _ escrow.SandboxBankStore = (*DB)(nil)

// SetSandboxFailing makes the sandbox refuse the buyer's debits, or pay them again.
func (db *DB) SetSandboxFailing(ctx context.Context, buyerID string, fail bool, at time.Time) error {
	return db.write(ctx, func(t *tx) error {
		_, err := t.q.ExecContext(ctx, `INSERT INTO sandbox_bank_settings (buyer_id, fail, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (buyer_id) DO UPDATE SET fail = excluded.fail, updated_at = excluded.updated_at`, buyerID, flag(fail), micros(at))
		if err != nil {
			return t.fail(fmt.Errorf("set sandbox bank for %q: %w", buyerID, err))
		}
		return nil
	})
}

// SandboxFailing reports whether the sandbox refuses the buyer's debits.
func (db *DB) SandboxFailing(ctx context.Context, buyerID string) (bool, error) {
	var fail int64
	err := db.Read(ctx, func(r escrow.Reader) error {
		rows, err := r.(reader).q.QueryContext(ctx, `SELECT fail FROM sandbox_bank_settings WHERE buyer_id = $1`, buyerID)
		if err != nil {
			return fmt.Errorf("select sandbox bank setting of %q: %w", buyerID, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&fail); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return fail == 1, err
}

// SandboxDebit answers d once: the stored answer for its reference, else paid unless the buyer's
// debits are set to fail — decided and stored in one transaction, so two processes asking at
// once get one answer.
func (db *DB) SandboxDebit(ctx context.Context, d escrow.BankDebit, at time.Time) (bool, error) {
	var paid int64
	err := db.write(ctx, func(t *tx) error {
		// The first answer wins: the INSERT takes the buyer's setting now and does nothing when
		// the reference has an answer already; the SELECT reads whichever answer is stored.
		_, err := t.q.ExecContext(ctx, `INSERT INTO sandbox_bank_answers
			(reference, buyer_id, loan_id, kind, amount, currency, account, paid, answered_at)
			SELECT $1, $2, $3, $4, $5, $6, $7,
				CASE WHEN EXISTS (SELECT 1 FROM sandbox_bank_settings WHERE buyer_id = $2 AND fail = 1) THEN 0 ELSE 1 END, $8
			ON CONFLICT (reference) DO NOTHING`,
			d.Reference, d.BuyerID, d.LoanID, string(d.Kind), d.Amount.Minor, string(d.Amount.Currency), d.AccountLast4, micros(at))
		if err != nil {
			return t.fail(fmt.Errorf("answer sandbox debit %q: %w", d.Reference, err))
		}
		err = t.q.QueryRowContext(ctx, `SELECT paid FROM sandbox_bank_answers WHERE reference = $1`, d.Reference).Scan(&paid)
		return t.fail(err)
	})
	return paid == 1, err
}

// SandboxDebits lists the debits the sandbox paid, oldest first, at most limit.
func (db *DB) SandboxDebits(ctx context.Context, limit int) ([]escrow.BankDebit, error) {
	if limit <= 0 || limit > escrow.SandboxDebitsListMax {
		limit = escrow.SandboxDebitsListMax
	}
	var out []escrow.BankDebit
	err := db.Read(ctx, func(r escrow.Reader) error {
		rows, err := r.(reader).q.QueryContext(ctx, `SELECT reference, buyer_id, loan_id, kind, amount, currency, account, answered_at
			FROM sandbox_bank_answers WHERE paid = 1 ORDER BY answered_at, reference LIMIT $1`, limit)
		if err != nil {
			return fmt.Errorf("select sandbox debits: %w", err)
		}
		out, err = scanAll(rows, "sandbox debits", func(s scanner) (escrow.BankDebit, error) {
			var d escrow.BankDebit
			var kind, cur string
			var amount, at int64
			err := s.Scan(&d.Reference, &d.BuyerID, &d.LoanID, &kind, &amount, &cur, &d.AccountLast4, &at)
			d.Kind, d.Amount, d.At = escrow.DebitKind(kind), money.New(amount, money.Currency(cur)), fromMicros(at)
			return d, err
		})
		return err
	})
	return out, err
}
