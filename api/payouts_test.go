package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/trade"
)

type payoutOut struct {
	ID, SupplierID, Status, Trigger, Reference string
	Sent, Netted                               struct{ Minor int64 }
	PayableBefore                              struct{ Minor int64 } `json:"payable_before"`
	Sandbox                                    bool
	BankReference                              string   `json:"bank_reference"`
	ValueDate                                  string   `json:"value_date"`
	ReturnReason                               string   `json:"return_reason"`
	RecordedBy                                 string   `json:"recorded_by"`
	TransferIDs                                []string `json:"transfer_ids"`
}

type balanceOut struct {
	SupplierID  string `json:"supplier_id"`
	AccountFlag *struct {
		PayoutID string `json:"payout_id"`
		Reason   string
	} `json:"account_flag"`
	Balances []struct {
		Currency     string
		Payable      struct{ Minor int64 }
		Receivable   struct{ Minor int64 }
		ToSend       struct{ Minor int64 } `json:"to_send"`
		InTransit    struct{ Minor int64 } `json:"in_transit"`
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

// payoutWorker is the payout rail's worker a server process runs: it answers what is due.
func (w *world) payoutWorker() {
	w.t.Helper()
	for {
		n, err := w.svc.RunPayoutSends(context.Background(), "test-payout-worker")
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// TestPayoutsThroughHTTP drives payouts through the API only, on a sandbox server: the supplier
// reads what it is owed and when the automatic payout runs; an admin pays out now (idempotent by
// key) and the payout is requested, in transit and labelled sandbox until the sandbox payout
// rail's worker confirms it sent; a second payout finds nothing to pay (409); the automatic payout
// pays the next release; the supplier lists and reads its payouts and sees them in its events
// feed, where an inspection company never does; the ledger check holds. R12 R21
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
		if p.Sent.Minor != 10_000_00 || p.Status != "requested" || !p.Sandbox || p.Trigger != "admin" || again.ID != p.ID {
			t.Fatalf("payout %+v, retry %+v", p, again)
		}
		w.ok(w.call("supplier", "GET", "/v1/payouts/balance", nil, &bal), 200)
		if b := bal.Balances[0]; b.Payable.Minor != 0 || b.InTransit.Minor != 10_000_00 {
			t.Fatalf("balance while requested %+v", b)
		}
		var reqs struct{ Items []payoutOut }
		w.ok(w.call("admin", "GET", "/v1/payouts?status=requested", nil, &reqs), 200)
		if len(reqs.Items) != 1 || reqs.Items[0].ID != p.ID {
			t.Fatalf("requested payouts %+v", reqs)
		}
		w.payoutWorker()
		var sentOne payoutOut
		r0 := w.ok(w.call("supplier", "GET", "/v1/payouts/"+p.ID, nil, &sentOne), 200)
		if sentOne.Status != "sent" || !sentOne.Sandbox || sentOne.BankReference == "" || sentOne.ValueDate == "" || sentOne.RecordedBy != "" ||
			r0.header.Get(api.SandboxHeader) != "true" {
			t.Fatalf("after the sandbox payout rail: %+v", sentOne)
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
		w.payoutWorker()
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

// sandboxOff restarts the server over the same database with the sandbox off, as a real
// deployment runs: no payout adapter ships, so payouts wait for an operator.
func (w *world) sandboxOff() {
	w.t.Helper()
	w.svc = escrow.New(w.db, escrow.Options{Clock: w.clock, Config: trade.DefaultConfig(), Blobs: w.blobs})
	w.acc = access.New(w.db.Access(), w.svc, w.clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	mux := http.NewServeMux()
	api.New(mux, w.svc, w.acc, api.Options{Version: "test"})
	w.srv.Close()
	w.srv = httptest.NewServer(mux)
	w.t.Cleanup(w.srv.Close)
}

// TestPayoutAnswersThroughHTTP drives a payout's lifecycle on a real server (sandbox off)
// through the API only: the payout waits as requested and no worker answers it; an admin records
// the bank's confirmation — another amount is refused with 422, the same confirmation again
// changes nothing, a different one is 409 — then a later payout's return, which flags the
// supplier's account (the balance shows it and the next payout is refused) until an admin clears
// it; the sandbox payout rail cannot be set; the ledger check holds. R12
func TestPayoutAnswersThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		sup := w.ids["supplier"]
		w.released()
		w.sandboxOff()
		var p payoutOut
		w.ok(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": sup, "currency": "USD"}, &p), 201)
		if p.Status != "requested" || p.Sandbox {
			t.Fatalf("payout %+v", p)
		}
		w.payoutWorker()
		today := w.clock.Now().Format("2006-01-02")
		result := func(amount int64, ref string) map[string]any {
			return map[string]any{"outcome": "sent", "amount": map[string]any{"minor": amount, "currency": "USD"},
				"bank_reference": ref, "value_date": today}
		}
		path := "/v1/payouts/" + p.ID + "/result"
		w.refused(w.call("supplier", "POST", path, result(p.Sent.Minor, "FT1"), nil), 403, "role_not_allowed")
		w.refused(w.call("admin", "POST", path, result(p.Sent.Minor-1, "FT1"), nil), 422, "payout_amount_mismatch")
		w.refused(w.call("admin", "POST", path, map[string]any{"outcome": "sent", "amount": map[string]any{"minor": p.Sent.Minor, "currency": "USD"},
			"bank_reference": "FT1", "value_date": "yesterday"}, nil), 422, "validation_failed")
		var sent, dup payoutOut
		w.ok(w.call("admin", "POST", path, result(p.Sent.Minor, "FT26063"), &sent), 200)
		w.ok(w.call("admin", "POST", path, result(p.Sent.Minor, "FT26063"), &dup), 200)
		if sent.Status != "sent" || sent.BankReference != "FT26063" || sent.ValueDate != today || sent.RecordedBy == "" ||
			dup.Status != "sent" || len(dup.TransferIDs) != 2 {
			t.Fatalf("confirmed %+v, again %+v", sent, dup)
		}
		w.refused(w.call("admin", "POST", path, result(p.Sent.Minor, "FT-OTHER"), nil), 409, "payout_recorded")
		w.refused(w.call("admin", "POST", "/v1/payouts/po_none/result", result(1, "FT1"), nil), 404, "payout_not_found")

		w.clearingWorld()
		w.ok(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": sup, "currency": "USD"}, &p), 201)
		var ret payoutOut
		w.ok(w.call("admin", "POST", "/v1/payouts/"+p.ID+"/result", map[string]any{"outcome": "returned",
			"amount": map[string]any{"minor": p.Sent.Minor, "currency": "USD"}, "value_date": w.clock.Now().Format("2006-01-02"),
			"reason": "AC01 incorrect account number"}, &ret), 200)
		if ret.Status != "returned" || ret.ReturnReason != "AC01 incorrect account number" {
			t.Fatalf("returned %+v", ret)
		}
		var bal balanceOut
		w.ok(w.call("supplier", "GET", "/v1/payouts/balance", nil, &bal), 200)
		if bal.AccountFlag == nil || bal.AccountFlag.PayoutID != p.ID || bal.Balances[0].Payable.Minor != p.Sent.Minor || bal.Balances[0].ToSend.Minor != 0 {
			t.Fatalf("balance after the return %+v", bal)
		}
		w.refused(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": sup, "currency": "USD"}, nil), 409, "payout_account_flagged")
		w.refused(w.call("supplier", "POST", "/v1/payouts/flags/"+sup+"/clear", map[string]any{}, nil), 403, "role_not_allowed")
		w.ok(w.call("admin", "POST", "/v1/payouts/flags/"+sup+"/clear", map[string]any{}, nil), 200)
		w.refused(w.call("admin", "POST", "/v1/payouts/flags/"+sup+"/clear", map[string]any{}, nil), 409, "payout_account_not_flagged")
		bal = balanceOut{}
		w.ok(w.call("supplier", "GET", "/v1/payouts/balance", nil, &bal), 200)
		if bal.AccountFlag != nil || bal.Balances[0].ToSend.Minor != p.Sent.Minor || bal.Balances[0].NextPayoutAt == nil {
			t.Fatalf("balance after clearing %+v", bal)
		}
		w.refused(w.call("admin", "POST", "/v1/payouts/sandbox-rail", map[string]any{"supplier_id": sup, "return": true}, nil), 409,
			"sandbox_payout_rail_disabled")
		var rep escrow.CheckReport
		w.ok(w.call("admin", "GET", "/v1/ledger/check", nil, &rep), 200)
		if !rep.OK() {
			t.Fatalf("ledger: %v", rep.Violations)
		}
	})
}

// clearingWorld releases another order on a sandbox server and comes back with the sandbox
// off: the tests' payments arrive only through the sandbox rail.
func (w *world) clearingWorld() {
	w.t.Helper()
	w.svc = escrow.New(w.db, escrow.Options{Clock: w.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Hour}, Blobs: w.blobs})
	w.acc = access.New(w.db.Access(), w.svc, w.clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	mux := http.NewServeMux()
	api.New(mux, w.svc, w.acc, api.Options{Version: "test"})
	w.srv.Close()
	w.srv = httptest.NewServer(mux)
	w.released()
	w.sandboxOff()
}

// TestSandboxPayoutRailThroughHTTP ensures an admin makes the sandbox payout rail return a
// supplier's payouts on a sandbox server; the returned payout is labelled sandbox. R12
func TestSandboxPayoutRailThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		sup := w.ids["supplier"]
		w.released()
		w.refused(w.call("supplier", "POST", "/v1/payouts/sandbox-rail", map[string]any{"supplier_id": sup, "return": true}, nil), 403, "role_not_allowed")
		w.ok(w.call("admin", "POST", "/v1/payouts/sandbox-rail", map[string]any{"supplier_id": sup, "return": true}, nil), 200)
		var p payoutOut
		w.ok(w.call("admin", "POST", "/v1/payouts", map[string]any{"supplier_id": sup, "currency": "USD"}, &p), 201)
		w.payoutWorker()
		w.ok(w.call("admin", "GET", "/v1/payouts/"+p.ID, nil, &p), 200)
		if p.Status != "returned" || !p.Sandbox || p.RecordedBy != "rail:sandbox" || !strings.Contains(p.ReturnReason, "sandbox") {
			t.Fatalf("sandbox return %+v", p)
		}
	})
}
