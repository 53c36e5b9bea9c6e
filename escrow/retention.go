package escrow

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/internal/poll"
	"github.com/tradeassure/tradeassure/trade"
)

// Idempotency keys are kept with their results in the commands table for KeyRetention, then
// purged. draft-ietf-httpapi-idempotency-key-header asks that a key live at least 24 hours:
// KeyRetentionMin, below which no retention goes.
const (
	KeyRetention     = 7 * 24 * time.Hour
	KeyRetentionMin  = 24 * time.Hour
	KeyPurgeBatchMax = 1000 // command records one purge transaction deletes at most
)

// RailKeyPrefix starts the keys that book a rail credit once (ReceiveFunds). They are kept
// forever: a bank statement may be imported again long after, and must not book its credits
// twice.
const RailKeyPrefix = "rail:"

// PurgeKeys deletes up to KeyPurgeBatchMax idempotency keys older than retention (never less
// than KeyRetentionMin), except the rail credits' (RailKeyPrefix), and returns how many it
// deleted. Several processes may purge at once.
func (s *Service) PurgeKeys(ctx context.Context, retention time.Duration) (int, error) {
	retention = max(retention, KeyRetentionMin)
	n, err := s.store.PurgeCommands(ctx, s.clock.Now().Add(-retention), trade.System.OrgID, RailKeyPrefix, KeyPurgeBatchMax)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

// KeyPurger purges expired idempotency keys every interval until ctx ends, a batch after another
// while there is a backlog.
func (s *Service) KeyPurger(ctx context.Context, retention, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "idempotency key purger", func(ctx context.Context) (int, error) {
		return s.PurgeKeys(ctx, retention)
	})
}
