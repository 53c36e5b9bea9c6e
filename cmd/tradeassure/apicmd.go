package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tradeassure/tradeassure/client"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// DefaultAPIURL is the server `tradeassure api` talks to without --url or TRADEASSURE_URL.
const DefaultAPIURL = "http://127.0.0.1:8080"

// FollowIntervalMin bounds how often `api events --follow` polls.
const FollowIntervalMin = 100 * time.Millisecond

const apiUsage = `usage: tradeassure api <command> [flags]

Talks to a running server through the Go client (package client), with the API key in
TRADEASSURE_API_KEY and the server's address in --url (default $TRADEASSURE_URL or ` + DefaultAPIURL + `).

commands:
  orders [--state S] [--supplier ID] [--limit N]   the orders the key may see, every page (N: at most N)
  order ID                                         one order, as JSON
  events [--after SEQ] [--follow] [--interval D]   the events feed; --follow keeps polling until interrupted
`

// runAPI is `tradeassure api`: a few reads of a running server, through client/.
func runAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, apiUsage)
		return exitError{2}
	}
	fs := flag.NewFlagSet("api "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, apiUsage) }
	baseURL := fs.String("url", "", "the server's address (default $TRADEASSURE_URL or "+DefaultAPIURL+")")
	state := fs.String("state", "", "orders: only orders in this state")
	supplier := fs.String("supplier", "", "orders: only this supplier's orders")
	limit := fs.Int("limit", 0, "orders: at most this many (0: all)")
	after := fs.Int64("after", 0, "events: the global_seq to start after")
	follow := fs.Bool("follow", false, "events: keep polling for new events until interrupted")
	interval := fs.Duration("interval", 2*time.Second, "events --follow: how often to poll")
	cmd, rest := args[0], args[1:]
	if err := fs.Parse(rest); err != nil {
		return exitError{2}
	}
	key := os.Getenv("TRADEASSURE_API_KEY")
	if key == "" {
		fmt.Fprintln(stderr, "tradeassure api: set TRADEASSURE_API_KEY to an API key (ta_key_…)")
		return exitError{2}
	}
	url := *baseURL
	if url == "" {
		url = os.Getenv("TRADEASSURE_URL")
	}
	if url == "" {
		url = DefaultAPIURL
	}
	c := client.New(url, key, nil)
	var err error
	switch cmd {
	case "orders":
		err = apiOrders(ctx, c, stdout, client.ListOrders{State: trade.State(*state), SupplierID: *supplier}, *limit)
	case "order":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, "usage: tradeassure api order ID\n")
			return exitError{2}
		}
		err = apiOrder(ctx, c, stdout, fs.Arg(0))
	case "events":
		if *follow && *interval < FollowIntervalMin {
			fmt.Fprintf(stderr, "tradeassure api events: --interval must be at least %s\n", FollowIntervalMin)
			return exitError{2}
		}
		err = apiEvents(ctx, c, stdout, *after, *follow, *interval)
	default:
		fmt.Fprintf(stderr, "tradeassure api: unknown command %q\n%s", cmd, apiUsage)
		return exitError{2}
	}
	var p *client.Problem
	if errors.As(err, &p) {
		return fmt.Errorf("%d %s: %s", p.Status, p.Reason, p.Detail)
	}
	return err
}

// apiOrders prints one line per order: ID, state, supplier, ship-by date and total.
func apiOrders(ctx context.Context, c *client.Client, w io.Writer, f client.ListOrders, limit int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSUPPLIER\tSHIP BY\tTOTAL")
	n := 0
	for o, err := range c.AllOrders(ctx, f) {
		if err != nil {
			tw.Flush()
			return err
		}
		total := "-"
		if o.Currency.Valid() {
			total = money.New(o.Total, o.Currency).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.State, o.SupplierID, o.ShipBy.Format(time.DateOnly), total)
		if n++; limit > 0 && n >= limit {
			break
		}
	}
	return tw.Flush()
}

// apiOrder prints one order as the API answers it, indented, with its ETag.
func apiOrder(ctx context.Context, c *client.Client, w io.Writer, id string) error {
	o, err := c.Order(ctx, id)
	if err != nil {
		return err
	}
	b, err := jsonIndent(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ETag: %s\n%s\n", o.ETag, b)
	return nil
}

// apiEvents prints the feed after after, one line per event; with follow it polls every
// interval for more until ctx ends (SIGINT or SIGTERM), which is a clean stop.
func apiEvents(ctx context.Context, c *client.Client, w io.Writer, after int64, follow bool, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for e, err := range c.EventsSince(ctx, after) {
			if err != nil {
				if follow && ctx.Err() != nil {
					return nil
				}
				return err
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\n", e.GlobalSeq, e.At.UTC().Format(time.RFC3339), e.Stream, e.Seq, e.Type)
			after = e.GlobalSeq
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func jsonIndent(v any) (string, error) {
	var sb strings.Builder
	enc := newJSONEncoder(&sb)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(sb.String(), "\n"), nil
}

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}
