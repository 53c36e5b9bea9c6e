package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/trade"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestDemoThenLedgerCheck ensures `tradeassure demo` runs every scenario to its expected end on
// both databases and exits 0, Pay Later included, and that `tradeassure ledger check` then
// passes on the same database. R12 R13 R14 R17 R18 R19 R8 R11
func TestDemoThenLedgerCheck(t *testing.T) {
	for name, url := range map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "demo.db"),
		"postgres": pgtest.NewDatabase(t),
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			blobs := filepath.Join(t.TempDir(), "blobs")
			if err := run(context.Background(), []string{"demo", "-q", "--db", url, "--blobs", blobs}, &out, &errOut); err != nil {
				t.Fatalf("demo: %v\n%s%s", err, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), fmt.Sprintf("demo: %d scenarios passed", len(scenarios))) ||
				!strings.Contains(out.String(), "Pay Later") {
				t.Fatalf("demo output:\n%s", out.String())
			}
			out.Reset()
			if err := run(context.Background(), []string{"ledger", "check", "--db", url}, &out, &errOut); err != nil {
				t.Fatalf("ledger check: %v\n%s%s", err, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "ledger check: OK") {
				t.Fatalf("ledger check output:\n%s", out.String())
			}
		})
	}
}

// TestUsageErrors ensures bad invocations exit 2 with usage, never a panic.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"ledger"}, {"ledger", "balance"}, {"demo", "--nope"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if ee, ok := err.(exitError); !ok || ee.code != 2 {
			t.Errorf("%v: got %v, want exit 2", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "tradeassure ") {
		t.Errorf("version: %v %q", err, out.String())
	}
}

// TestLedgerCheckBadURL ensures an unsupported database URL is a clear error.
func TestLedgerCheckBadURL(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"ledger", "check", "--db", "mysql://x"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Fatalf("got %v", err)
	}
}

// TestDemoSeedsEveryState ensures serve --demo leaves an order in every lifecycle state: each
// seed ends where it says, and together with the scenarios they cover trade.States.
func TestDemoSeedsEveryState(t *testing.T) {
	ctx := context.Background()
	dp, err := openService(ctx, "sqlite:"+filepath.Join(t.TempDir(), "seed.db"), filepath.Join(t.TempDir(), "blobs"), escrow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dp.close()
	clock := escrow.NewManualClock(time.Now().UTC().AddDate(0, 0, -30))
	svc := escrow.New(dp.db, escrow.Options{Clock: clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: 2 * time.Hour}, Blobs: dp.blobs})
	d, err := newDemo(ctx, svc, dp.blobs, clock, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := seedStates(d); err != nil {
		t.Fatal(err)
	}
	covered := map[trade.State]bool{}
	for _, s := range seeds {
		covered[s.want] = true
	}
	for _, sc := range scenarios {
		covered[sc.want] = true
	}
	for _, s := range trade.States {
		if !covered[s] {
			t.Errorf("no demo order is left in %s", s)
		}
	}
	if rep, err := svc.CheckLedger(ctx); err != nil || !rep.OK() {
		t.Fatalf("ledger after seeding: %v %v", err, rep.Violations)
	}
}
