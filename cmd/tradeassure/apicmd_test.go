package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/client"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/webhook"
)

// TestAPICommand ensures `tradeassure api` talks to a running server through the Go client:
// `api orders` lists every page of the orders the key may see, `api order ID` shows one with its
// ETag, `api events` prints the feed and `api events --follow` prints events committed while it
// runs and stops cleanly when interrupted; a refusal is the API's reason, and without a key it
// refuses to start. The server is the real API on SQLite in an httptest server.
func TestAPICommand(t *testing.T) {
	ctx := context.Background()
	d, err := openService(ctx, "sqlite:"+filepath.Join(t.TempDir(), "api.db"), "", escrow.Options{
		Clock: escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), Config: trade.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	acc := access.New(d.db.Access(), d.svc, d.svc.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	mux := http.NewServeMux()
	a := api.New(mux, d.svc, acc, api.Options{Version: "test", RateLimit: api.RateLimit{Disabled: true}})
	api.RegisterWebhooks(a, webhook.New(d.db.Webhooks(), webhook.Options{}), nil)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	admin := trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "test"}
	org := func(kind trade.OrgKind, name string) string {
		o, err := d.svc.CreateOrg(ctx, admin, "org-"+name, kind, name, "US")
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	buyer, supplier := org(trade.KindBuyer, "Buyer"), org(trade.KindSupplier, "Supplier")
	if _, err := d.svc.SetEligibility(ctx, admin, "elig", supplier, true, "Gold Supplier"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.SetCoverageLimit(ctx, admin, "cov", supplier, money.New(1_000_000_00, "USD")); err != nil {
		t.Fatal(err)
	}
	key, _, err := acc.CreateAPIKey(ctx, admin, buyer, trade.RoleBuyer, "cli")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(srv.URL, key, nil)
	place := func(i int) *client.Order {
		o, err := c.PlaceOrder(ctx, client.PlaceOrder{SupplierID: supplier, Currency: "USD",
			ShipBy: time.Date(2026, 6, 1+i, 0, 0, 0, 0, time.UTC), ComplianceConfirmed: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	var ids []string
	for i := range client.PageSizeMax + 3 { // more than one page
		ids = append(ids, place(i).ID)
	}
	cli := func(ctx context.Context, args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"api"}, args...), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	t.Setenv("TRADEASSURE_API_KEY", key)

	out, errOut, err := cli(ctx, "orders", "--url", srv.URL)
	if err != nil {
		t.Fatalf("api orders: %v %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(ids)+1 || !strings.HasPrefix(lines[0], "ID") || !strings.HasPrefix(lines[1], ids[0]+" ") ||
		!strings.HasPrefix(lines[len(lines)-1], ids[len(ids)-1]+" ") || !strings.Contains(lines[1], "draft") {
		t.Fatalf("api orders: %d lines, want %d:\n%s", len(lines), len(ids)+1, out)
	}
	if out, _, _ := cli(ctx, "orders", "--url", srv.URL, "--limit", "2", "--state", "draft"); strings.Count(out, "\n") != 3 {
		t.Fatalf("api orders --limit 2:\n%s", out)
	}
	t.Setenv("TRADEASSURE_URL", srv.URL) // the environment instead of --url

	out, errOut, err = cli(ctx, "order", ids[5])
	if err != nil || !strings.HasPrefix(out, `ETag: "v1"`) || !strings.Contains(out, `"id": "`+ids[5]+`"`) {
		t.Fatalf("api order: %v %s\n%s", err, errOut, out)
	}
	if _, _, err = cli(ctx, "order", "ord_nope"); err == nil || !strings.Contains(err.Error(), "404 order_not_found") {
		t.Fatalf("api order of no order: %v", err)
	}

	out, _, err = cli(ctx, "events")
	if err != nil || strings.Count(out, "order.placed") != len(ids) {
		t.Fatalf("api events: %v, %d placed:\n%.500s", err, strings.Count(out, "order.placed"), out)
	}

	// --follow prints what commits while it runs, and an interrupt stops it cleanly.
	fctx, interrupt := context.WithCancel(ctx)
	buf := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(fctx, []string{"api", "events", "--follow", "--interval", "100ms"}, buf, &bytes.Buffer{})
	}()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !strings.Contains(buf.String(), what); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("--follow never printed %q:\n%.300s", what, buf.String())
			}
		}
	}
	waitFor(ids[len(ids)-1])
	late := place(40)
	if _, err := c.Cancel(ctx, late.ID, "changed my mind", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(late.ID + "\t2\torder.cancelled")
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("--follow stopped with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("--follow did not stop when interrupted")
	}

	t.Setenv("TRADEASSURE_API_KEY", "")
	if _, errOut, err := cli(ctx, "orders"); err == nil || !strings.Contains(errOut, "TRADEASSURE_API_KEY") {
		t.Fatalf("without a key: %v %s", err, errOut)
	}
}
