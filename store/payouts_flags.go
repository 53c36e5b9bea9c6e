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
// payout_account_flags_open) of suppliers after the supplier ID after, by supplier ID.
func (r reader) OpenPayoutFlags(ctx context.Context, after string, limit int) ([]trade.PayoutAccountFlag, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+flagCols+` FROM payout_account_flags
		WHERE cleared_at IS NULL AND supplier_id > $1 ORDER BY supplier_id LIMIT $2`, after, clampLimit(limit))
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
