// Package poll runs a background worker's rounds: the timer worker, the webhook dispatcher,
// the notifier, the Pay Later bank and lender workers and the idempotency-key purger all take
// their work from the database in rounds.
package poll

import (
	"context"
	"log/slog"
	"time"
)

// Every runs round every interval until ctx ends. After a round that did something (n > 0)
// without an error it goes again at once, so a backlog drains without waiting for the tick;
// an error is logged under name and waits for the next tick.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, name string, round func(context.Context) (int, error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := round(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error(name, "err", err)
		}
		if n > 0 && err == nil && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
