package store

import (
	"context"
	"database/sql"
	"sync"
)

// querier runs statements: a *sql.Tx, or a transaction that reuses prepared statements.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// StatementsCachedMax bounds the prepared statements kept for SQLite's writer connection.
const StatementsCachedMax = 256

// stmtCache keeps statements prepared on SQLite's single writer connection. modernc's driver
// parses every statement on every call, which profiles showed to be a fifth of a posting's CPU.
// A statement cannot be prepared on the writer while a transaction holds its only connection,
// so a miss runs unprepared and is prepared after the commit, for the next transaction.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]struct{}
}

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, missed: map[string]struct{}{}}
}

func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[q]
	if st == nil && len(c.stmts)+len(c.missed) < StatementsCachedMax {
		c.missed[q] = struct{}{}
	}
	return st
}

// prepareMissed prepares the statements that missed, on w, once no transaction holds it.
func (c *stmtCache) prepareMissed(ctx context.Context, w *sql.DB) {
	c.mu.Lock()
	var todo []string
	for q := range c.missed {
		todo = append(todo, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range todo {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			continue // it keeps running unprepared; the statement itself reports any error
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q], st = st, nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	clear(c.stmts)
}

// cachedTx is a SQLite write transaction that uses the cache's prepared statements.
type cachedTx struct {
	*sql.Tx
	c *stmtCache
}

func (t cachedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.c.get(q); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.c.get(q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.c.get(q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}
