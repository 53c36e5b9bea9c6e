package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// t0 is the tests' clock: UTC, microsecond precision, as the store returns times.
var t0 = time.Date(2025, 3, 1, 9, 30, 0, 123456000, time.UTC)

// runConformance runs every behaviour of escrow.Store against the stores open returns (a new,
// empty database per subtest), so SQLite and PostgreSQL are held to one contract.
func runConformance(t *testing.T, open func(t *testing.T) *DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"orgs", testOrgs},
		{"orders", testOrders},
		{"order_filter", testOrderFilter},
		{"payment_refs", testPaymentRefs},
		{"messages", testMessages},
		{"events", testEvents},
		{"commands", testCommands},
		{"suspense", testSuspense},
		{"ledger", testLedger},
		{"ledger_negative", testLedgerNegative},
		{"ledger_overflow", testLedgerOverflow},
		{"transfers_pages", testTransfersPages},
		{"timers", testTimers},
		{"timer_replace_claimed", testTimerReplaceClaimed},
		{"write_retries", testWriteRetries},
		{"read_only", testReadOnly},
		{"race_release", testRaceRelease},
		{"race_claim", testRaceClaim},
		{"events_tail", testEventsTail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func write(t *testing.T, db *DB, fn func(escrow.Tx) error) {
	t.Helper()
	if err := db.Write(context.Background(), fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func read(t *testing.T, db *DB, fn func(escrow.Reader) error) {
	t.Helper()
	if err := db.Read(context.Background(), fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// wantIs fails unless errors.Is(err, target).
func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// same fails unless got and want are deeply equal; it shows both as JSON.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

var ctx = context.Background()

func testOrg(id string, kind trade.OrgKind) trade.Org {
	o := trade.Org{ID: id, Kind: kind, Name: "Org " + id, Country: "DE", CreatedAt: t0}
	if kind == trade.KindSupplier {
		o.Country = "CN"
		o.Eligibility = trade.Eligibility{Eligible: true, Reason: "audited", Since: t0, By: "admin_1"}
		o.Coverage = trade.Coverage{Limit: 5_000_000, Currency: "USD", Used: 120_000}
		o.Policy = trade.ReleaseInitialForProduction
	}
	return o
}

// testOrgs covers InsertOrg, Org, Orgs, LockOrg, UpdateOrg and the history.
func testOrgs(t *testing.T, db *DB) {
	buyer, supplier, qc := testOrg("org_b", trade.KindBuyer), testOrg("org_s", trade.KindSupplier), testOrg("org_q", trade.KindInspector)
	write(t, db, func(tx escrow.Tx) error {
		for _, o := range []trade.Org{supplier, buyer} {
			if err := tx.InsertOrg(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	write(t, db, func(tx escrow.Tx) error {
		wantIs(t, "insert duplicate org", tx.InsertOrg(ctx, buyer), escrow.ErrDuplicate)
		return tx.InsertOrg(ctx, qc) // the transaction is still usable after ErrDuplicate
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Org(ctx, "org_s")
		same(t, "org", got, supplier)
		_, err2 := r.Org(ctx, "org_none")
		wantIs(t, "missing org", err2, escrow.ErrNotFound)
		all, err3 := r.Orgs(ctx, "")
		same(t, "all orgs by id", all, []trade.Org{buyer, qc, supplier})
		sup, err4 := r.Orgs(ctx, trade.KindSupplier)
		same(t, "suppliers", sup, []trade.Org{supplier})
		return errors.Join(err, err3, err4)
	})
	change1, change2 := json.RawMessage(`{"eligible":true,  "reason" : "audited"}`), json.RawMessage(`{"limit": 5000000}`)
	write(t, db, func(tx escrow.Tx) error {
		o, err := tx.LockOrg(ctx, "org_s")
		if err != nil {
			return err
		}
		o.Coverage.Used += 1000
		if err := tx.UpdateOrg(ctx, o); err != nil {
			return err
		}
		_, err = tx.LockOrg(ctx, "org_none")
		wantIs(t, "lock missing org", err, escrow.ErrNotFound)
		wantIs(t, "update missing org", tx.UpdateOrg(ctx, testOrg("org_none", trade.KindBuyer)), escrow.ErrNotFound)
		return errors.Join(
			tx.AppendOrgHistory(ctx, escrow.OrgChange{OrgID: "org_s", At: t0, Actor: trade.System, Field: "eligibility", Change: change1}),
			tx.AppendOrgHistory(ctx, escrow.OrgChange{OrgID: "org_s", At: t0, Actor: trade.Actor{Role: trade.RoleAdmin, OrgID: "platform", UserID: "u1"}, Field: "coverage_limit", Change: change2}))
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Org(ctx, "org_s")
		if got.Coverage.Used != supplier.Coverage.Used+1000 {
			t.Errorf("updated coverage used = %d", got.Coverage.Used)
		}
		h, err2 := r.OrgHistory(ctx, "org_s")
		same(t, "org history", h, []escrow.OrgChange{
			{OrgID: "org_s", At: t0, Actor: trade.System, Field: "eligibility", Change: change1},
			{OrgID: "org_s", At: t0, Actor: trade.Actor{Role: trade.RoleAdmin, OrgID: "platform", UserID: "u1"}, Field: "coverage_limit", Change: change2},
		})
		none, err3 := r.OrgHistory(ctx, "org_b")
		if len(none) != 0 {
			t.Errorf("history of org_b = %v", none)
		}
		return errors.Join(err, err2, err3)
	})
}

// testOrder builds an order with most of its document filled in.
func testOrder(id, buyer, supplier string, state trade.State) *trade.Order {
	received := t0.Add(time.Hour)
	return &trade.Order{
		ID: id, BuyerID: buyer, SupplierID: supplier, Currency: "USD", State: state, Version: 1,
		PlacedAt: t0, UpdatedAt: t0.Add(time.Minute), ShipBy: trade.Day(t0).AddDate(0, 1, 0),
		ComplianceConfirmed: true, Policy: trade.HoldUntilShipment, Coverage: 10_000, CoverageCurrency: "USD",
		Contracts: []trade.ContractVersion{{Version: 1, Hash: "sha256:abc", ProposedBy: supplier, ConfirmedBy: buyer,
			ProposedAt: t0, ConfirmedAt: t0, Contract: trade.Contract{Currency: "USD", Incoterm: "FOB",
				ShipBy: trade.Day(t0).AddDate(0, 1, 0), Terms: trade.PaymentTerms{InitialBP: 3000},
				LineItems: []trade.LineItem{{Description: "T-shirt, 200 g/m²", Quantity: 1000, Unit: "pcs", UnitPrice: 350}},
				Quality:   []trade.Requirement{{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%"}}}}},
		Payments: []trade.Payment{{ID: "pay_1", Installment: trade.Initial, Method: payment.TTWire, Amount: 105_000,
			Fee: 0, FeeCollector: payment.CollectedByThirdParty, Total: 105_000, Reference: "TA-" + id,
			Status: trade.PaymentReceived, CreatedAt: t0, ExpiresAt: t0.AddDate(0, 0, 14), ReceivedAt: &received}},
		Money: trade.Tally{Paid: 105_000},
	}
}

// testOrders covers InsertOrder, Order, LockOrder and UpdateOrder's optimistic concurrency.
func testOrders(t *testing.T, db *DB) {
	o := testOrder("ord_1", "org_b", "org_s", trade.InProduction)
	write(t, db, func(tx escrow.Tx) error { return tx.InsertOrder(ctx, o) })
	write(t, db, func(tx escrow.Tx) error {
		wantIs(t, "insert duplicate order", tx.InsertOrder(ctx, o), escrow.ErrDuplicate)
		return nil
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Order(ctx, "ord_1")
		same(t, "order", got, o)
		_, err2 := r.Order(ctx, "ord_none")
		wantIs(t, "missing order", err2, escrow.ErrNotFound)
		return err
	})
	updated := o.Clone()
	write(t, db, func(tx escrow.Tx) error {
		locked, err := tx.LockOrder(ctx, "ord_1")
		if err != nil {
			return err
		}
		same(t, "locked order", locked, o)
		_, err = tx.LockOrder(ctx, "ord_none")
		wantIs(t, "lock missing order", err, escrow.ErrNotFound)
		updated.Version, updated.State, updated.UpdatedAt = 2, trade.InspectionPassed, t0.Add(time.Hour)
		updated.Inspection = &trade.Inspection{InspectorID: "org_q", BookedAt: t0, AtPlacement: true, AQL: trade.DefaultAQL}
		return tx.UpdateOrder(ctx, updated, 1)
	})
	write(t, db, func(tx escrow.Tx) error {
		stale := updated.Clone()
		stale.Version = 2
		wantIs(t, "update from a stale version", tx.UpdateOrder(ctx, stale, 1), escrow.ErrConflict)
		missing := testOrder("ord_none", "b", "s", trade.Draft)
		missing.Version = 2
		wantIs(t, "update missing order", tx.UpdateOrder(ctx, missing, 1), escrow.ErrConflict)
		if err := tx.UpdateOrder(ctx, updated, 2); err == nil || errors.Is(err, escrow.ErrConflict) {
			t.Errorf("update without a version bump: %v, want a refusal", err)
		}
		return nil
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Order(ctx, "ord_1")
		same(t, "updated order", got, updated)
		byInspector, err2 := r.Orders(ctx, escrow.OrderFilter{InspectorID: "org_q"})
		if len(byInspector) != 1 || byInspector[0].ID != "ord_1" {
			t.Errorf("orders of the inspector booked by the update: %v", ids(byInspector))
		}
		return errors.Join(err, err2)
	})
}

func ids(os []*trade.Order) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

// testOrderFilter covers Orders: each filter column, their combination and cursor paging.
func testOrderFilter(t *testing.T, db *DB) {
	var all []string
	write(t, db, func(tx escrow.Tx) error {
		for i := range 9 {
			o := testOrder(fmt.Sprintf("ord_%02d", 9-i), fmt.Sprintf("b%d", i%2), fmt.Sprintf("s%d", i%3), trade.Confirmed)
			if i%4 == 0 {
				o.State = trade.Shipped
				o.Inspection = &trade.Inspection{InspectorID: "qc1", BookedAt: t0}
			}
			if err := tx.InsertOrder(ctx, o); err != nil {
				return err
			}
			all = append([]string{o.ID}, all...)
		}
		return nil
	})
	for _, tc := range []struct {
		name string
		f    escrow.OrderFilter
		want []string
	}{
		{"all", escrow.OrderFilter{}, all},
		{"buyer", escrow.OrderFilter{BuyerID: "b1"}, []string{"ord_02", "ord_04", "ord_06", "ord_08"}},
		{"supplier", escrow.OrderFilter{SupplierID: "s0"}, []string{"ord_03", "ord_06", "ord_09"}},
		{"inspector", escrow.OrderFilter{InspectorID: "qc1"}, []string{"ord_01", "ord_05", "ord_09"}},
		{"state", escrow.OrderFilter{State: trade.Shipped}, []string{"ord_01", "ord_05", "ord_09"}},
		{"combined", escrow.OrderFilter{BuyerID: "b0", SupplierID: "s0", State: trade.Confirmed}, []string{"ord_03"}},
		{"after", escrow.OrderFilter{After: "ord_07"}, []string{"ord_08", "ord_09"}},
		{"limit", escrow.OrderFilter{Limit: 2}, []string{"ord_01", "ord_02"}},
		{"none", escrow.OrderFilter{BuyerID: "nobody"}, nil},
	} {
		read(t, db, func(r escrow.Reader) error {
			got, err := r.Orders(ctx, tc.f)
			same(t, "orders "+tc.name, ids(got), tc.want)
			return err
		})
	}
	// Paging with the cursor visits every order once, in order.
	var paged []string
	f := escrow.OrderFilter{Limit: 4}
	for range 10 {
		var page []*trade.Order
		read(t, db, func(r escrow.Reader) (err error) { page, err = r.Orders(ctx, f); return err })
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		f.After = page[len(page)-1].ID
	}
	same(t, "paged orders", paged, all)
}
