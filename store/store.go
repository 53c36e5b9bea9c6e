// Package store keeps the escrow use cases' state in SQLite or PostgreSQL. Both databases run
// the same SQL text ($N placeholders bind by position in both); a small dialect seam holds what
// differs (row locks, isolation, DDL), and goose migrations exist once per dialect with the same
// version numbers. Documents (orders, organizations, messages) are JSON stored as TEXT, times
// are unix microseconds UTC, and money is int64 minor units.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeassure/tradeassure/escrow"
)

// WriteRetriesMax bounds how often Write reruns a transaction after a serialization failure, a
// deadlock or SQLITE_BUSY.
const WriteRetriesMax = 5

// DB is an escrow.Store on SQLite or PostgreSQL.
type DB struct {
	d    *dialect
	w    *sql.DB       // read-write transactions; one connection on SQLite
	r    *sql.DB       // read-only transactions; the same pool as w on PostgreSQL
	pool *pgxpool.Pool // PostgreSQL only
	now  func() time.Time

	// stmts caches prepared statements on SQLite's writer connection; nil on PostgreSQL,
	// where pgx caches them per connection itself.
	stmts *stmtCache

	// accounts holds the IDs of ledger accounts known to be stored (added only after a commit),
	// so that a posting to known accounts skips their INSERT … ON CONFLICT DO NOTHING.
	accounts sync.Map

	// posted counts the ledger transfers this process committed, by transfer code (metrics).
	postedMu sync.Mutex
	posted   map[string]int64
}

var _ escrow.Store = (*DB)(nil)

// Open connects to url — "sqlite:PATH" or "postgres://…" ("postgresql://…") — and migrates the
// schema to the newest version before it returns.
func Open(ctx context.Context, url string) (*DB, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return openPostgres(ctx, url)
	}
	// The URL may hold a password: name only its scheme.
	scheme, _, _ := strings.Cut(url, ":")
	return nil, fmt.Errorf("open store: unsupported scheme %q: want sqlite:PATH or postgres://…", scheme)
}

// Dialect names the database: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// SQL returns the read-write handle. It bypasses every rule of the use cases: it is for
// operators' tooling and for tests that must prove tampering is detected.
func (db *DB) SQL() *sql.DB { return db.w }

// Close closes the connections.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
	var errs []error
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	if db.pool != nil {
		db.pool.Close()
	}
	return errors.Join(errs...)
}

// Write runs fn in one read-write transaction; see escrow.Store.
func (db *DB) Write(ctx context.Context, fn func(escrow.Tx) error) error {
	return db.write(ctx, func(t *tx) error { return fn(t) })
}

// write runs fn in a read-write transaction, rerunning it at most WriteRetriesMax times when
// the database asks for a retry.
func (db *DB) write(ctx context.Context, fn func(*tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.writeOnce(ctx, fn)
		if err == nil || attempt >= WriteRetriesMax || !retryable(err) {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (db *DB) writeOnce(ctx context.Context, fn func(*tx) error) error {
	sqlTx, err := db.w.BeginTx(ctx, db.d.writeOpts)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	// After a commit this is a no-op; otherwise (an error, or a panic in fn) it discards the work.
	defer func() { _ = sqlTx.Rollback() }()
	var q querier = sqlTx
	if db.stmts != nil {
		q = cachedTx{Tx: sqlTx, c: db.stmts}
	}
	t := &tx{reader: reader{db: db, q: q}}
	if err := fn(t); err != nil {
		return err
	}
	if t.broken != nil {
		// fn swallowed an error after which the transaction must not commit (e.g. a
		// NegativeError from PostTransfer): a bug in the caller, refused here.
		return fmt.Errorf("commit refused after an earlier error: %w", t.broken)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, id := range t.newAccounts {
		db.accounts.Store(id, struct{}{})
	}
	if len(t.posted) > 0 {
		db.postedMu.Lock()
		if db.posted == nil {
			db.posted = map[string]int64{}
		}
		for code, n := range t.posted {
			db.posted[code] += n
		}
		db.postedMu.Unlock()
	}
	if db.stmts != nil {
		db.stmts.prepareMissed(ctx, db.w)
	}
	return nil
}

// backoff sleeps before retry attempt+1: a few milliseconds, doubling, with jitter so that
// the transactions that collided do not collide again.
func backoff(ctx context.Context, attempt int) error {
	base := time.Millisecond << attempt
	d := base/2 + rand.N(base)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Read runs fn in a read-only transaction: one consistent snapshot (REPEATABLE READ on
// PostgreSQL, a WAL read transaction on SQLite).
func (db *DB) Read(ctx context.Context, fn func(escrow.Reader) error) error {
	sqlTx, err := db.r.BeginTx(ctx, db.d.readOpts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	// A reader, not a *tx, so fn cannot type-assert its way to the write methods.
	return fn(reader{db: db, q: sqlTx})
}
