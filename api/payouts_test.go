package api_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
)

type payoutOut struct {
	ID, SupplierID, Status, Trigger, Reference string
	Sent, Netted                               struct{ Minor int64 }
	PayableBefore                              struct{ Minor int64 } `json:"payable_before"`
}

type balanceOut struct {
	SupplierID string `json:"supplier_id"`
	Balances   []struct {
		Currency     string
		Payable      struct{ Minor int64 }
		Receivable   struct{ Minor int64 }
		ToSend       struct{ Minor int64 } `json:"to_send"`
		NextPayoutAt *time.Time            `json:"next_payout_at"`
		Releases     []struct {
			OrderID string `json:"order_id"`
			Unpaid  struct{ Minor int64 }
		}
	}
}

// released drives an order through the API to released: the supplier is owed its total.
func (w *world) released() order {
	w.t.Helper()
	o := w.confirmed()
	w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "card"})
	w.tick(2 * time.Hour)
	w.report(o.ID, true)
	w.do("buyer", o.ID, "pay", map[string]any{"installment": "balance", "method": "tt_wire"})
	w.tick(2 * time.Hour)
	w.do("supplier", o.ID, "ship", map[string]any{"shipped_on": w.clock.Now().Truncate(24 * time.Hour).Format(time.RFC3339),
		"carrier": "COSCO", "tracking_number": "COSU1"})
	w.tick(time.Minute)
	if o = w.get("supplier", o.ID); o.State != "released" {
		w.t.Fatalf("state %s, want released", o.State)
	}
	return o
}

// TestPayoutsThroughHTTP drives payouts through the API only: the supplier reads what it is
// owed and when the automatic payout runs; an admin pays out now (idempotent by key), a second
// payout finds nothing to pay (409); the automatic payout pays the next release; the supplier
// lists and reads its payouts and sees them in its events feed, where an inspection company
// never does; the ledger check holds. R12 R21
func TestPayoutsThroughHTTP(t *testing.T) {
	run := func(t *testing.T, url string) {
		w := buildWorld(t, url, api.Options{Version: "test"}, defaultOrgs, 2_000_000)
		sup := w.ids["supplier"]
		o := w.released()
		var bal balanceOut
		w.ok(w.call("supplier", "GET", "/v1/payouts/balance", nil, &bal), 200)
		due := w.clock.Now().Truncate(24*time.Hour).AddDate(0, 0, 1).Add(escrow.PayoutDelay)
		if bal.SupplierID != sup || len(bal.Balances) != 1 {
			t.Fatalf("balance %+v", bal)
		}
		b := bal.Balances[0]
		if b.Payable.Minor != 10_000_00 || b.ToSend.Minor != 10_000_00 || b.NextPayoutAt == nil || !b.NextPayoutAt.Equal(due) ||
			len(b.Releases) != 1 || b.Releases[0].OrderID != o.ID || b.Releases[0].Unpaid.Minor != 10_000_00 {
			t.Fatalf("balance %+v", b)
		}
		body := map[string]any{"supplier_id": sup, "currency": "USD"}
		var p, again payoutOut
		w.ok(w.call("admin", "POST", "/v1/payouts", body, &p, "Idempotency-Key", "pay-now-1"), 201)
		w.ok(w.call("admin", "POST", "/v1/payouts", body, &again, "Idempotency-Key", "pay-now-1"), 201)
		if p.Sent.Minor != 10_000_00 || p.Status != "sent" || p.Trigger != "admin" || again.ID != p.ID {
			t.Fatalf("payout %+v, retry %+v", p, again)
		}
		r := w.call("admin", "POST", "/v1/payouts", body, nil)
		w.refused(r, 409, "nothing_to_pay_out")
		if !strings.Contains(string(r.body), "/problems/nothing_to_pay_out") {
			t.Fatalf("problem %s", r.body)
		}
		w.refused(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": sup, "currency": "XYZ"}, nil), 422, "invalid_currency")
		w.refused(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": w.ids["buyer"], "currency": "USD"}, nil), 404, "supplier_not_found")
		w.refused(w.call("admin", "GET", "/v1/payouts/balance", nil, nil), 422, "invalid_supplier_id")

		// The next release is paid by the automatic payout at its time.
		w.released()
		w.clock.Set(w.clock.Now().Truncate(24*time.Hour).AddDate(0, 0, 1).Add(escrow.PayoutDelay).Add(-time.Second))
		w.tick(0)
		w.tick(time.Second)
		var page struct {
			Items      []payoutOut
			NextCursor string `json:"next_cursor"`
		}
		w.ok(w.call("supplier", "GET", "/v1/payouts?limit=1", nil, &page), 200)
		if len(page.Items) != 1 || page.Items[0].Trigger != "automatic" || page.Items[0].Sent.Minor != 10_000_00 || page.NextCursor == "" {
			t.Fatalf("first page %+v", page)
		}
		auto := page.Items[0]
		w.ok(w.call("supplier", "GET", "/v1/payouts?limit=1&before="+page.NextCursor, nil, &page), 200)
		if len(page.Items) != 1 || page.Items[0].ID != p.ID {
			t.Fatalf("second page %+v, want %s", page, p.ID)
		}
		var one payoutOut
		w.ok(w.call("supplier", "GET", "/v1/payouts/"+auto.ID, nil, &one), 200)
		if one.ID != auto.ID || len(one.Reference) != 16 {
			t.Fatalf("payout %+v", one)
		}
		w.refused(w.call("inspector", "GET", "/v1/payouts/"+auto.ID, nil, nil), 403, "role_not_allowed")
		w.refused(w.call("buyer", "GET", "/v1/payouts", nil, nil), 403, "role_not_allowed")
		sent := 0
		for _, e := range w.feed("supplier", 0, 100) {
			if e.Type == "payout.sent" && e.Stream == sup {
				sent++
			}
		}
		if sent != 2 {
			t.Fatalf("the supplier's feed has %d payout.sent events, want 2", sent)
		}
		for _, e := range w.feed("inspector", 0, 100) {
			if strings.HasPrefix(e.Type, "payout.") {
				t.Fatalf("the inspection company sees %s", e.Type)
			}
		}
		var rep escrow.CheckReport
		w.ok(w.call("admin", "GET", "/v1/ledger/check", nil, &rep), 200)
		if !rep.OK() {
			t.Fatalf("ledger: %v", rep.Violations)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, pgtest.NewDatabase(t)) })
}
