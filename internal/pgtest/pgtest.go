// Package pgtest gives tests a real PostgreSQL server and fresh databases on it.
//
// The server is the one named by the TRADEASSURE_TEST_POSTGRES environment
// variable (scripts/test sets it); when that is unset, the first call to URL or
// NewDatabase in a test process starts a throwaway cluster through the
// repository's scripts/pg (installing PostgreSQL from Debian if needed). Tests
// never skip for lack of a server: any failure is fatal.
//
// Packages that use PostgreSQL should stop that cluster on exit:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Without it, a watchdog started by scripts/pg stops the cluster shortly after
// the test process exits.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvURL names the environment variable holding the base URL of an existing
// test server.
const EnvURL = "TRADEASSURE_TEST_POSTGRES"

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error

	stopMu   sync.Mutex
	stopFunc func() error // set when this process started a cluster
)

// URL returns the base URL of a PostgreSQL server for tests:
// TRADEASSURE_TEST_POSTGRES if set; otherwise a throwaway cluster started once
// per test process (see the package documentation). It never skips: on any
// failure it calls tb.Fatal.
func URL(tb testing.TB) string {
	tb.Helper()
	u, err := serverURLOnce()
	if err != nil {
		tb.Fatalf("pgtest: no PostgreSQL server: %v", err)
	}
	return u
}

func serverURLOnce() (string, error) {
	serverOnce.Do(func() {
		if u := strings.TrimSpace(os.Getenv(EnvURL)); u != "" {
			serverURL = u
			return
		}
		u, stop, err := startCluster()
		if err != nil {
			serverErr = err
			return
		}
		serverURL = u
		stopMu.Lock()
		stopFunc = stop
		stopMu.Unlock()
	})
	return serverURL, serverErr
}

// Main can be called from TestMain(m) in packages that use PostgreSQL: it runs
// m.Run() and stops a cluster this process started (if any), returning the
// exit code.
func Main(m *testing.M) int {
	code := m.Run()
	if err := stopCluster(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stopping PostgreSQL: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func stopCluster() error {
	stopMu.Lock()
	stop := stopFunc
	stopFunc = nil
	stopMu.Unlock()
	if stop == nil {
		return nil
	}
	return stop()
}

// NewDatabase creates a fresh, uniquely named database (ta_<random>) on the
// test server and returns its URL. The database is dropped (WITH (FORCE)) in
// tb.Cleanup.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)

	name, err := randomName()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	dbURL, err := withDatabase(base, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := execAdmin(ctx, base, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := execAdmin(ctx, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

func randomName() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random database name: %w", err)
	}
	return "ta_" + hex.EncodeToString(b[:]), nil
}

// withDatabase returns base with its database (URL path) replaced by name.
func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvURL, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("%s must be a postgres:// URL, got scheme %q", EnvURL, u.Scheme)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// execAdmin runs one statement on the server's maintenance connection,
// retrying while another session briefly holds the template database
// (SQLSTATE 55006, possible when many tests create databases at once).
func execAdmin(ctx context.Context, base, stmt string) error {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer db.Close()
	for attempt := 0; ; attempt++ {
		_, err = db.ExecContext(ctx, stmt)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" || attempt >= 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startCluster starts a throwaway cluster via scripts/pg and returns its URL
// and a function that stops it and removes its directory.
func startCluster() (string, func() error, error) {
	root, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	script := filepath.Join(root, "scripts", "pg")
	if _, err := os.Stat(script); err != nil {
		return "", nil, fmt.Errorf("cluster script: %w", err)
	}

	var errs []error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		dir, err := os.MkdirTemp(tempBase(), "tradeassure-pg-")
		if err != nil {
			return "", nil, err
		}
		out, err := runScript(10*time.Minute, script, "start", dir, strconv.Itoa(port))
		if err != nil {
			errs = append(errs, fmt.Errorf("scripts/pg start %s %d: %w\n%s", dir, port, err, out))
			_, _ = runScript(time.Minute, script, "stop", dir)
			_ = os.RemoveAll(dir)
			continue
		}
		stop := func() error {
			out, err := runScript(2*time.Minute, script, "stop", dir)
			if err != nil {
				return fmt.Errorf("scripts/pg stop %s: %w\n%s", dir, err, out)
			}
			return os.RemoveAll(dir)
		}
		u, err := runScript(10*time.Second, script, "url", strconv.Itoa(port))
		if err != nil {
			_ = stop()
			return "", nil, fmt.Errorf("scripts/pg url: %w\n%s", err, u)
		}
		return strings.TrimSpace(string(u)), stop, nil
	}
	return "", nil, errors.Join(errs...)
}

// runScript runs "bash script args..." and returns its combined output.
func runScript(timeout time.Duration, script string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "PGTEST_OWNER_PID="+strconv.Itoa(os.Getpid()))
	cmd.Stdin = nil
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.WaitDelay = 10 * time.Second // never hang on a pipe held by a stray child
	err := cmd.Run()
	return buf.Bytes(), err
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory; cannot locate scripts/pg")
		}
		dir = parent
	}
}

// tempBase is where cluster directories go: /tmp keeps unix socket paths short
// and is reachable by the postgres OS user, unlike e.g. a TMPDIR under /root.
func tempBase() string {
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

// freePort asks the kernel for an unused 127.0.0.1 TCP port. Another process
// may take it before the server binds it; startCluster retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
