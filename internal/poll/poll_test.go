package poll

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

var quiet = slog.New(slog.DiscardHandler)

// TestEveryDrainsBacklog ensures a round that did something is followed at once by another:
// with an hour between ticks, three rounds (3, 1, then nothing to do) run without waiting.
func TestEveryDrainsBacklog(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	results := []int{3, 1, 0}
	rounds := 0
	Every(ctx, time.Hour, quiet, "test", func(context.Context) (int, error) {
		rounds++
		if rounds == len(results) {
			cancel() // the loop now waits for the tick, and the context ends it
		}
		if rounds > len(results) {
			t.Fatal("a round after nothing was left to do, before the tick")
		}
		return results[rounds-1], nil
	})
	if rounds != len(results) {
		t.Fatalf("%d rounds, want %d", rounds, len(results))
	}
}

// TestEveryWaitsAfterError ensures a failed round waits for the tick, even if it did something,
// instead of hammering a database that is down.
func TestEveryWaitsAfterError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	failed := make(chan struct{})
	rounds := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Hour, quiet, "test", func(context.Context) (int, error) {
			rounds++
			if rounds == 1 {
				close(failed)
			}
			return 2, errors.New("database unavailable")
		})
	}()
	<-failed
	cancel()
	<-done
	if rounds != 1 {
		t.Fatalf("%d rounds before the tick, want 1", rounds)
	}
}
