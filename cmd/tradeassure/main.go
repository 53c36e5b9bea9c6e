// Command tradeassure runs the Trade Assurance platform: the demo, ledger checks, and (later)
// the server. Each subcommand has its own flag set.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/store"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// DefaultDB is where the embedded database lives when neither --db nor TRADEASSURE_DB says.
const DefaultDB = "sqlite:./tradeassure.db"

// exitError carries a process exit code.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "tradeassure:", err)
		os.Exit(1)
	}
}

const usage = `usage: tradeassure <command> [flags]

commands:
  demo          run scripted scenarios end to end and check the ledger
  ledger check  verify every ledger invariant and audit hash chain
  version       print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "ledger":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprint(stderr, "usage: tradeassure ledger check [--db URL]\n")
			return exitError{2}
		}
		return runLedgerCheck(ctx, args[2:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "tradeassure", Version)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "tradeassure: unknown command %q\n%s", args[0], usage)
	return exitError{2}
}

// dbURL picks the database: the flag, then TRADEASSURE_DB, then the embedded default.
func dbURL(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv("TRADEASSURE_DB"); v != "" {
		return v
	}
	return DefaultDB
}

func openService(ctx context.Context, url string, opt escrow.Options) (*escrow.Service, *store.DB, error) {
	db, err := store.Open(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", url, err)
	}
	return escrow.New(db, opt), db, nil
}
