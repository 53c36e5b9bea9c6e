package metrics_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/metrics"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTimersAndTransfers drives one order to its shipping deadline and checks each metric
// against what happened: the guarantee funding and nothing else in the ledger, no timer due,
// then one due and waiting for as long as the clock moved past it, then fired once by this
// process and none due. On both databases.
func TestTimersAndTransfers(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "m.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := must(store.Open(ctx, url(t)))
			t.Cleanup(func() { db.Close() })
			reg := prometheus.NewRegistry()
			clock := escrow.NewManualClock(t0)
			svc := escrow.New(db, escrow.Options{Clock: clock, OnTimer: metrics.NewTimerCounter(reg)})
			reg.MustRegister(metrics.NewCollector(db, clock.Now, nil))
			n := 0
			key := func() string { n++; return fmt.Sprintf("k%d", n) }

			admin := trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin"}
			b := must(svc.CreateOrg(ctx, admin, key(), trade.KindBuyer, "Buyer Co", "US"))
			s := must(svc.CreateOrg(ctx, admin, key(), trade.KindSupplier, "Supplier Co", "CN"))
			must(svc.SetEligibility(ctx, admin, key(), s.ID, true, "Gold Supplier"))
			must(svc.SetCoverageLimit(ctx, admin, key(), s.ID, money.New(20_000_00, "USD")))
			must(svc.FundGuarantee(ctx, admin, key(), money.New(1_000_000_00, "USD")))
			buyer := trade.Actor{Role: trade.RoleBuyer, OrgID: b.ID, UserID: "b"}
			supplier := trade.Actor{Role: trade.RoleSupplier, OrgID: s.ID, UserID: "s"}

			shipBy := trade.Day(t0).AddDate(0, 0, 30)
			c := trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: shipBy,
				LineItems: []trade.LineItem{{Description: "Cotton T-shirts", Quantity: 1000, Unit: "pcs", UnitPrice: 4_50}}}
			o := must(svc.Place(ctx, buyer, key(), trade.Place{SupplierID: s.ID, Currency: "USD", ShipBy: shipBy,
				ComplianceConfirmed: true, Contract: &c}))
			must(svc.Do(ctx, supplier, key(), o.ID, trade.ConfirmContract{Hash: o.Proposal.Hash}))

			// value reads one sample: name{labels…} as "k=v,k=v"; -1 when absent.
			value := func(name, labels string) float64 {
				t.Helper()
				for _, mf := range must(reg.Gather()) {
					if mf.GetName() != name {
						continue
					}
					for _, m := range mf.GetMetric() {
						if labelString(m) == labels {
							return sampleValue(m)
						}
					}
				}
				return -1
			}
			want := func(what, name, labels string, v float64) {
				t.Helper()
				if got := value(name, labels); got != v {
					t.Errorf("%s: %s{%s} = %v, want %v", what, name, labels, got, v)
				}
			}
			want("before the deadline", "tradeassure_timers_due", "", 0)
			want("before the deadline", "tradeassure_timers_due_oldest_seconds", "", 0)
			want("before the deadline", "tradeassure_ledger_transfers_total", "code=guarantee_funded", 1)
			want("before the deadline", "tradeassure_metrics_scrape_error", "", 0)

			// The deadline is the end of the ship-by day; 90 minutes after it, the timer waits.
			deadline := must(svc.Order(ctx, admin, o.ID)).Deadline()
			clock.Set(deadline.Add(90 * time.Minute))
			want("after the deadline", "tradeassure_timers_due", "", 1)
			want("after the deadline", "tradeassure_timers_due_oldest_seconds", "", 5400)
			want("after the deadline", "tradeassure_timers_finished_total", "kind=shipping_deadline,result=fired", -1)

			if n := must(svc.RunTimers(ctx, "w1")); n != 1 {
				t.Fatalf("RunTimers finished %d timers, want 1", n)
			}
			want("after the worker ran", "tradeassure_timers_due", "", 0)
			want("after the worker ran", "tradeassure_timers_finished_total", "kind=shipping_deadline,result=fired", 1)
			want("after the worker ran", "tradeassure_timers_dead", "", 0)
			want("after the worker ran", "tradeassure_suspense_open", "", 0)

			// A database that cannot be read says so instead of reporting zeros.
			db.Close()
			want("database closed", "tradeassure_metrics_scrape_error", "", 1)
			want("database closed", "tradeassure_timers_due", "", -1)
		})
	}
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return -1
}
