package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

var _ escrow.PayoutFlagLister = reader{}

// OpenPayoutFlags lists the open flags (one per supplier at most: the partial unique index
// payout_account_flags_open) flagged after the flag of payout after, oldest flagged first (by
// flagged_at, then payout ID). The cursor names a flag by its returned payout, so a flag cleared
// since still places the next page; one naming no flag gives an empty page.
func (r reader) OpenPayoutFlags(ctx context.Context, after string, limit int) ([]trade.PayoutAccountFlag, error) {
	q, args := `SELECT `+flagCols+` FROM payout_account_flags WHERE cleared_at IS NULL`, []any{clampLimit(limit)}
	if after != "" {
		q += ` AND (flagged_at, payout_id) > (SELECT flagged_at, payout_id FROM payout_account_flags WHERE payout_id = $2)`
		args = append(args, after)
	}
	rows, err := r.q.QueryContext(ctx, q+` ORDER BY flagged_at, payout_id LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("select open payout account flags: %w", err)
	}
	return scanAll(rows, "open payout account flags", func(s scanner) (trade.PayoutAccountFlag, error) {
		var f trade.PayoutAccountFlag
		var flagged int64
		var cleared sql.NullInt64
		err := s.Scan(&f.PayoutID, &f.SupplierID, &f.Reason, &flagged, &cleared, &f.ClearedBy)
		f.FlaggedAt, f.ClearedAt = fromMicros(flagged), fromOptMicros(cleared)
		return f, err
	})
}
