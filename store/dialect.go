package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the two databases; the SQL text is shared.
type dialect struct {
	name  string
	goose goose.Dialect
	// forUpdate locks the rows a SELECT returns until commit. SQLite has no row locks: its one
	// writer connection serializes every write transaction, which is stronger.
	forUpdate string
	// skipLocked locks rows and passes over those another transaction holds (the outbox claims,
	// outbox.go).
	skipLocked string
	// lockEvents runs before the first event append of a transaction, or is empty. On
	// PostgreSQL identity values can commit out of order, so a reader paging EventsAfter could
	// step over an event that commits later with a smaller GlobalSeq; holding this lock from the
	// append until commit makes GlobalSeq order the commit order. SQLite's single writer already
	// does.
	lockEvents string
	writeOpts  *sql.TxOptions
	readOpts   *sql.TxOptions
}

var (
	sqliteDialect = &dialect{
		name:  "sqlite",
		goose: goose.DialectSQLite3,
		// BEGIN DEFERRED: the snapshot starts at the first read and holds for the transaction.
		readOpts: &sql.TxOptions{ReadOnly: true},
	}
	postgresDialect = &dialect{
		name:       "postgres",
		goose:      goose.DialectPostgres,
		forUpdate:  " FOR UPDATE",
		skipLocked: " FOR UPDATE SKIP LOCKED",
		lockEvents: "SELECT pg_advisory_xact_lock(7365420113626710899)", // an arbitrary key, used only for this
		// READ COMMITTED with explicit row locks (Lock*), as the use cases lock what they change.
		writeOpts: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		readOpts:  &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	}
)

// SQLite connection settings.
const (
	sqliteReadersMax = 4
	// WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
	// (money); busy_timeout waits for another process's lock instead of failing at once;
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never fails halfway on
	// a lock it cannot upgrade.
	sqliteWriterParams = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	// query_only makes a stray write through the reader pool fail.
	sqliteReaderParams = "_pragma=busy_timeout(10000)&_pragma=query_only(1)"
)

//go:embed migrations
var migrations embed.FS

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.ContainsAny(path, "?#%") {
		return nil, fmt.Errorf("open sqlite %q: want a file path without ?, # or %%", path)
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+sqliteWriterParams)
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	// One writer connection: SQLite allows one writer at a time anyway, and queuing in the pool
	// beats spinning on SQLITE_BUSY.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{d: sqliteDialect, w: w, now: time.Now, stmts: newStmtCache()}
	// Migrate before the readers connect, so the writer sets WAL mode on a new file first.
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+sqliteReaderParams)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(sqliteReadersMax)
	r.SetMaxIdleConns(sqliteReadersMax)
	r.SetConnMaxIdleTime(0)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	db.r = r
	return db, nil
}

func openPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sdb := stdlib.OpenDBFromPool(pool)
	db := &DB{d: postgresDialect, w: sdb, r: sdb, pool: pool, now: time.Now}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate applies the dialect's pending migrations.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var opts []goose.ProviderOption
	if db.d == postgresDialect {
		// Servers starting together migrate one at a time.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(db.d.goose, db.w, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db.d.name, err)
	}
	return nil
}

// retryable reports whether a transaction failed only because of concurrency, so that running
// it again may succeed: a serialization failure or deadlock on PostgreSQL, SQLITE_BUSY.
func retryable(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code()&0xff == sqlite3.SQLITE_BUSY // the primary code, with any extended one
	}
	return false
}

// uniqueViolation reports whether err is a unique or primary key violation.
func uniqueViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// overflow reports whether err is an out-of-range integer: bigint arithmetic on PostgreSQL
// (22003), or on SQLite the REAL an integer overflow turns into, refused by a STRICT table
// (SQLITE_CONSTRAINT_DATATYPE), and the CHECK that refuses math.MinInt64 on both.
func overflow(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "22003" || pe.Code == "23514"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_DATATYPE || se.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK
	}
	return false
}
