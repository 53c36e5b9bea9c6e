package pgtest_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tradeassure/tradeassure/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestNewDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := open(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("SELECT 1: %v", err)
	}
	if one != 1 {
		t.Fatalf("SELECT 1 = %d", one)
	}

	var syncCommit string
	if err := db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&syncCommit); err != nil {
		t.Fatalf("SHOW synchronous_commit: %v", err)
	}
	if syncCommit != "on" {
		t.Fatalf("synchronous_commit = %q, want on", syncCommit)
	}

	var name string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "ta_") {
		t.Fatalf("current_database() = %q, want ta_ prefix", name)
	}
	t.Logf("database %s on %s, synchronous_commit=%s", name, pgtest.URL(t), syncCommit)
}

// TestDatabasesAreIsolatedAndDropped creates databases concurrently, checks
// they are distinct, and that cleanup drops them even while connections to
// them are still open.
func TestDatabasesAreIsolatedAndDropped(t *testing.T) {
	admin := open(t, pgtest.URL(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var names []string
	var dbs []*sql.DB // closed only after the drops, so WITH (FORCE) is exercised
	var mu sync.Mutex
	t.Run("group", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			t.Run("db", func(t *testing.T) {
				t.Parallel()
				db, err := sql.Open("pgx", pgtest.NewDatabase(t))
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				dbs = append(dbs, db)
				mu.Unlock()
				if _, err := db.ExecContext(ctx, "CREATE TABLE t (id int)"); err != nil {
					t.Fatal(err)
				}
				var name string
				if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				names = append(names, name)
				mu.Unlock()
			})
		}
	})
	for _, db := range dbs {
		db.Close()
	}
	if len(names) != 4 {
		t.Fatalf("got %d databases, want 4", len(names))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("duplicate database name %s", n)
		}
		seen[n] = true
		var exists bool
		if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", n).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s still exists after cleanup", n)
		}
	}
}
