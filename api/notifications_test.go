package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

type notePage struct {
	Items []struct {
		ID      int64
		UserID  string `json:"user_id"`
		OrderID string `json:"order_id"`
		Kind    string
		Title   string
		Link    string
		ReadAt  *time.Time `json:"read_at"`
	}
	NextCursor int64 `json:"next_cursor"`
}

// notifiedWorld gives the buyer organization two users, the supplier and buyer2 one each, and
// runs the notifier after the order's contract is proposed and again after it is confirmed,
// as serve does within a second of each.
func notifiedWorld(t *testing.T, w *world) (o order, users map[string]string) {
	t.Helper()
	users = map[string]string{}
	for _, u := range []struct{ name, org string }{{"buyer", "buyer"}, {"buyer_b", "buyer"}, {"supplier", "supplier"}, {"buyer2", "buyer2"}} {
		role := map[string]trade.Role{"buyer": trade.RoleBuyer, "buyer2": trade.RoleBuyer, "supplier": trade.RoleSupplier}[u.org]
		user, err := w.acc.CreateUser(context.Background(), trade.System, w.ids[u.org], u.name+"@api.test", u.name, role, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		users[u.name] = user.ID
	}
	run := func() {
		if _, err := w.notes.RunOnce(context.Background(), "api-test"); err != nil {
			t.Fatal(err)
		}
	}
	c := w.contract()
	w.ok(w.call("buyer", "POST", "/v1/orders", map[string]any{"supplier_id": w.ids["supplier"], "currency": "USD",
		"ship_by": c["ship_by"], "compliance_confirmed": true}, &o), 201)
	o = w.do("supplier", o.ID, "propose-contract", c)
	run()
	o = w.do("buyer", o.ID, "confirm-contract", map[string]any{"hash": o.Proposal.Hash})
	run()
	return o, users
}

// TestNotificationsAPI lists an organization's notifications through its key, newest first,
// page by page, unread only and for one user; marks one read, idempotently; and shows that
// another organization's key can neither list nor mark them (404, like a missing one).
func TestNotificationsAPI(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		o, users := notifiedWorld(t, w)
		var all notePage
		w.ok(w.call("buyer", "GET", "/v1/notifications", nil, &all), 200)
		// Each buyer user is asked to confirm the contract and then to send the initial payment.
		if len(all.Items) != 4 || all.NextCursor != 0 {
			t.Fatalf("buyer's notifications: %+v", all)
		}
		for i, n := range all.Items {
			if n.OrderID != o.ID || n.Link != "/orders/"+o.ID || n.ReadAt != nil || i > 0 && n.ID >= all.Items[i-1].ID {
				t.Fatalf("item %d: %+v", i, n)
			}
		}
		if all.Items[0].Kind != string(notify.PaymentDue) || all.Items[3].Kind != string(notify.ContractToConfirm) {
			t.Fatalf("not newest first: %+v", all.Items)
		}

		// Pages of one, following next_cursor.
		var seen []int64
		for before := int64(0); ; {
			var p notePage
			w.ok(w.call("buyer", "GET", fmt.Sprintf("/v1/notifications?limit=1&before=%d", before), nil, &p), 200)
			for _, n := range p.Items {
				seen = append(seen, n.ID)
			}
			if p.NextCursor == 0 {
				break
			}
			before = p.NextCursor
		}
		if len(seen) != 4 || seen[0] != all.Items[0].ID || seen[3] != all.Items[3].ID {
			t.Fatalf("paged: %v", seen)
		}

		var mine notePage
		w.ok(w.call("buyer", "GET", "/v1/notifications?user_id="+users["buyer_b"], nil, &mine), 200)
		if len(mine.Items) != 2 || mine.Items[0].UserID != users["buyer_b"] {
			t.Fatalf("buyer_b's: %+v", mine)
		}

		// Mark one read, twice: the same read_at; the unread list no longer has it.
		id := all.Items[0].ID
		var first, again struct {
			ReadAt *time.Time `json:"read_at"`
		}
		w.ok(w.call("buyer", "POST", fmt.Sprintf("/v1/notifications/%d/read", id), nil, &first), 200)
		w.clock.Advance(time.Minute)
		w.ok(w.call("buyer", "POST", fmt.Sprintf("/v1/notifications/%d/read", id), nil, &again), 200)
		if first.ReadAt == nil || again.ReadAt == nil || !first.ReadAt.Equal(*again.ReadAt) {
			t.Fatalf("read_at %v, then %v", first.ReadAt, again.ReadAt)
		}
		var unread notePage
		w.ok(w.call("buyer", "GET", "/v1/notifications?unread=true", nil, &unread), 200)
		if len(unread.Items) != 3 {
			t.Fatalf("%d unread, want 3", len(unread.Items))
		}

		// Another organization: nothing to list, and the buyer's notification does not exist for it.
		var other notePage
		w.ok(w.call("buyer2", "GET", "/v1/notifications?user_id="+users["buyer"], nil, &other), 200)
		if len(other.Items) != 0 {
			t.Fatalf("buyer2 sees %+v", other.Items)
		}
		w.refused(w.call("buyer2", "POST", fmt.Sprintf("/v1/notifications/%d/read", all.Items[1].ID), nil, nil), 404, "notification_not_found")
		w.refused(w.call("supplier", "POST", fmt.Sprintf("/v1/notifications/%d/read", all.Items[1].ID), nil, nil), 404, "notification_not_found")
		w.refused(w.call("buyer", "POST", "/v1/notifications/999999/read", nil, nil), 404, "notification_not_found")
		var still notePage
		w.ok(w.call("buyer", "GET", "/v1/notifications?unread=true", nil, &still), 200)
		if len(still.Items) != 3 {
			t.Fatalf("another organization's call changed the buyer's unread: %d", len(still.Items))
		}
	})
}

// TestNotificationsAPIBadInput answers bad parameters with problems, never a 500.
func TestNotificationsAPIBadInput(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		for _, path := range []string{"/v1/notifications?limit=0", "/v1/notifications?limit=101",
			"/v1/notifications?before=-1", "/v1/notifications?unread=maybe"} {
			if r := w.call("buyer", "GET", path, nil, nil); r.status != 422 {
				t.Errorf("GET %s: %d %s", path, r.status, r.body)
			}
		}
		if r := w.call("buyer", "POST", "/v1/notifications/abc/read", nil, nil); r.status != 422 {
			t.Errorf("POST read abc: %d %s", r.status, r.body)
		}
		if r := w.call("", "GET", "/v1/notifications", nil, nil); r.status != 401 {
			t.Errorf("without a key: %d", r.status)
		}
	})
}
