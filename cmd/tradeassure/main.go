// Command tradeassure runs the Trade Assurance platform: the server (serve: the API, the portal
// and the background workers), the scripted demo, the ledger check, sampling plans (aql) and a
// command-line client of a running server (api). Each subcommand has its own flag set.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/store"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// DefaultDB is where the embedded database lives when neither --db nor TRADEASSURE_DB says.
const DefaultDB = "sqlite:./tradeassure.db"

// DefaultBlobs is where attachments live when neither --blobs nor TRADEASSURE_BLOBS says.
const DefaultBlobs = "./tradeassure-blobs"

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
  serve         serve the API and the portal and run the workers (--demo loads demo data,
                --sandbox simulates payments)
  demo          run scripted scenarios end to end and check the ledger
  ledger check  verify every ledger invariant and audit hash chain
  aql           print the ISO 2859-1 sampling plan for a lot (--lot N --level II --aql 2.5)
  api           talk to a running server through the Go client: api orders, api order ID, api events --follow
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
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "ledger":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprint(stderr, "usage: tradeassure ledger check [--db URL]\n")
			return exitError{2}
		}
		return runLedgerCheck(ctx, args[2:], stdout, stderr)
	case "aql":
		return runAQL(ctx, args[1:], stdout, stderr)
	case "api":
		return runAPI(ctx, args[1:], stdout, stderr)
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

// blobDir picks the attachment directory: the flag, then TRADEASSURE_BLOBS, then the default.
func blobDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv("TRADEASSURE_BLOBS"); v != "" {
		return v
	}
	return DefaultBlobs
}

// deps is what a subcommand opened: close it with close.
type deps struct {
	svc   *escrow.Service
	db    *store.DB
	blobs *blob.Dir // nil when no attachment directory was asked for
	close func()
}

// openService opens the database and, when blobs names a directory, the attachment store.
func openService(ctx context.Context, url, blobs string, opt escrow.Options) (deps, error) {
	db, err := store.Open(ctx, url)
	if err != nil {
		return deps{}, fmt.Errorf("open %s: %w", url, err)
	}
	d := deps{db: db, close: func() { db.Close() }}
	if blobs != "" {
		if d.blobs, err = blob.OpenDir(blobs, blob.DefaultPolicy()); err != nil {
			db.Close()
			return deps{}, fmt.Errorf("open attachments in %s: %w", blobs, err)
		}
		opt.Blobs = d.blobs
		d.close = func() { d.blobs.Close(); db.Close() }
	}
	d.svc = escrow.New(db, opt)
	return d, nil
}
