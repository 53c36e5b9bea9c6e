package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openSQLiteT opens a store on a new SQLite file in t's temporary directory.
func openSQLiteT(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openPostgresT opens a store on a new PostgreSQL database; query is appended to its URL.
func openPostgresT(t testing.TB, query string) *DB {
	t.Helper()
	url := pgtest.NewDatabase(t)
	if query != "" {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + query
	}
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestSQLite runs the conformance suite on SQLite.
func TestSQLite(t *testing.T) {
	runConformance(t, func(t *testing.T) *DB {
		db := openSQLiteT(t)
		if db.Dialect() != "sqlite" {
			t.Fatalf("Dialect() = %q", db.Dialect())
		}
		return db
	})
}

// TestPostgres runs the conformance suite on PostgreSQL; it never skips (pgtest starts a
// server when none is given).
func TestPostgres(t *testing.T) {
	runConformance(t, func(t *testing.T) *DB {
		db := openPostgresT(t, "")
		if db.Dialect() != "postgres" {
			t.Fatalf("Dialect() = %q", db.Dialect())
		}
		return db
	})
}

// TestMigrationVersions ensures both dialects have the same migration versions, so a schema
// change is never made for one database only.
func TestMigrationVersions(t *testing.T) {
	versions := func(dir string) []string {
		names, err := fs.Glob(migrations, "migrations/"+dir+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range names {
			v, _, ok := strings.Cut(filepath.Base(n), "_")
			if !ok || strings.Trim(v, "0123456789") != "" {
				t.Errorf("%s: want NNNNN_name.sql", n)
			}
			out = append(out, v)
		}
		slices.Sort(out)
		return out
	}
	lite, pg := versions("sqlite"), versions("postgres")
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("migration versions differ: sqlite %v, postgres %v", lite, pg)
	}
}

// TestOpenRejects ensures Open refuses what it cannot serve, without echoing a password.
func TestOpenRejects(t *testing.T) {
	for _, url := range []string{"", "mysql://u:secret@h/db", "sqlite:", "sqlite::memory:", "sqlite:/tmp/a?b"} {
		db, err := Open(context.Background(), url)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error leaks the password: %v", url, err)
		}
	}
}

// TestReopen ensures opening an existing database migrates nothing twice and keeps the data.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	for range 2 {
		db, err := Open(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

// TestClassify ensures driver errors are classified by code.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code              string
		retry, unique, of bool
	}{
		{"40001", true, false, false},
		{"40P01", true, false, false},
		{"23505", false, true, false},
		{"22003", false, false, true},
		{"23514", false, false, true},
		{"42P01", false, false, false},
	} {
		err := error(&pgconn.PgError{Code: tc.code, Message: "duplicate key value violates unique constraint"})
		err = errors.Join(errors.New("context"), err)
		if retryable(err) != tc.retry || uniqueViolation(err) != tc.unique || overflow(err) != tc.of {
			t.Errorf("%s: retryable %v, unique %v, overflow %v", tc.code, retryable(err), uniqueViolation(err), overflow(err))
		}
	}
	if uniqueViolation(errors.New("UNIQUE constraint failed")) {
		t.Error("classified by message text")
	}
	var _ escrow.Store = (*DB)(nil)
}
