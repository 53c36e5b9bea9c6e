package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// TestServePayLaterMetrics ensures the server serve builds counts what its Pay Later workers
// do: after a lender round records a decision, GET /metrics carries
// tradeassure_lender_requests_total for it, and the gauges of the bank debits and lender
// requests waiting for an operator. On both databases. R11
func TestServePayLaterMetrics(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "serve.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv, err := newServer(ctx, serveConfig{db: url(t), blobs: filepath.Join(t.TempDir(), "blobs")}, io.Discard,
				slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.close)
			admin := trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin"}
			b, err := srv.svc.CreateOrg(ctx, admin, "org-buyer", trade.KindBuyer, "Buyer Co", "US")
			if err != nil {
				t.Fatal(err)
			}
			now, revenue := srv.svc.Now(), money.New(500_000_00, credit.USD)
			if _, err := srv.svc.ApplyForCredit(ctx, trade.Actor{Role: trade.RoleBuyer, OrgID: b.ID, UserID: "b"}, "apply",
				credit.Application{Channel: credit.InAdvance,
					Business: credit.Business{LegalName: "Buyer Co", EINLast4: "6789", Country: "US", State: "NY",
						Established: now.AddDate(-3, 0, 0), Revenue: &revenue},
					Owner:    credit.Owner{Name: "Pat Owner", BirthYear: 1980, SSNLast4: "1234"},
					Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
					Consent:  credit.Consent{Given: true, At: now, TextVersion: "2025-01"}}); err != nil {
				t.Fatal(err)
			}
			scrape := func() string {
				rec := httptest.NewRecorder()
				srv.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK {
					t.Fatalf("GET /metrics: %d", rec.Code)
				}
				return rec.Body.String()
			}
			if m := scrape(); strings.Contains(m, "tradeassure_lender_requests_total{") {
				t.Fatalf("a lender request counted before the worker ran:\n%s", m)
			}
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if n, err := srv.svc.RunLenderRequests(ctx, "test"); err != nil || n != 1 {
				t.Fatalf("lender round: %d requests, %v", n, err)
			}
			m := scrape()
			for _, line := range []string{`tradeassure_lender_requests_total{kind="decision",result="recorded"} 1`,
				"tradeassure_lender_requests_attention 0", "tradeassure_bank_debits_attention 0", "tradeassure_metrics_scrape_error 0"} {
				if !strings.Contains(m, line+"\n") {
					t.Errorf("/metrics lacks %s", line)
				}
			}
		})
	}
}
