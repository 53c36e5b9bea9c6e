package oapigen

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/webhook"
)

var update = flag.Bool("update", false, "write the served document to openapi.json")

// served is the path of the document the client is generated from: the OpenAPI 3.1 document
// itself (oapi-codegen v2.8 reads it; the 3.0.3 downgrade at /openapi-3.0.json gives the same
// code with fewer descriptions).
const served = "/openapi.json"

// specVersion is the info.version written into the committed document, whatever the build.
const specVersion = "v1"

// server is the API as `tradeassure serve` mounts it (orders, feed, webhooks and notifications) on SQLite, with
// an admin key.
func server(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	svc := escrow.New(db, escrow.Options{Clock: clock, Config: trade.DefaultConfig()})
	acc := access.New(db.Access(), svc, clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	hooks := webhook.New(db.Webhooks(), webhook.Options{Clock: clock})
	mux := http.NewServeMux()
	a := api.New(mux, svc, acc, api.Options{Version: specVersion})
	api.RegisterWebhooks(a, hooks, nil)
	api.RegisterNotifications(a, notify.New(db.Notifications(), notify.Options{Clock: clock}), nil)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	admin := trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "bootstrap"}
	tok, _, err := acc.CreateAPIKey(ctx, admin, access.PlatformOrg, trade.RoleAdmin, "bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	return srv, tok
}

// servedSpec is the document the server serves now, indented as committed.
func servedSpec(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	res, err := http.Get(srv.URL + served)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", served, res.StatusCode, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// TestSpecUpToDate ensures openapi.json, which client.gen.go is generated from, is the document
// the server serves now. With -update it writes it instead; then run go generate.
func TestSpecUpToDate(t *testing.T) {
	srv, _ := server(t)
	now := servedSpec(t, srv)
	if *update {
		if err := os.WriteFile("openapi.json", now, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	committed, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, now) {
		t.Fatalf("internal/oapigen/openapi.json differs from what the server serves at %s: run\n"+
			"  go test ./internal/oapigen -run TestSpecUpToDate -update && go generate ./internal/oapigen", served)
	}
}
