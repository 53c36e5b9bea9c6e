package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

// TestNotificationsSQLite runs the notification store conformance suite on SQLite.
func TestNotificationsSQLite(t *testing.T) { runNotificationConformance(t, openSQLiteT) }

// TestNotificationsPostgres runs the notification store conformance suite on PostgreSQL.
func TestNotificationsPostgres(t *testing.T) {
	runNotificationConformance(t, func(t testing.TB) *DB { return openPostgresT(t, "") })
}

// runNotificationConformance holds both databases to one contract for the event cursor,
// notifications, their email outbox and reminders (a new, empty database per subtest).
func runNotificationConformance(t *testing.T, open func(t testing.TB) *DB) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"race_event_cursor", testRaceEventCursor},
		{"users_and_dedupe", testNotificationUsersDedupe},
		{"race_claim_emails", testRaceClaimEmails},
		{"inbox", testNotificationInbox},
		{"reminders", testReminders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// testRaceEventCursor has two handlers take batches of the event log at once: every event is
// handed to exactly one committed batch, in order within it.
func testRaceEventCursor(t *testing.T, db *DB) {
	const events = 120
	for i := 1; i <= events; i += 20 {
		var keys []string
		for j := i; j < i+20; j++ {
			keys = append(keys, fmt.Sprintf("ord_x#%d", j))
		}
		appendEvents(t, db, nil, keys...)
	}
	s := db.Notifications()
	var mu sync.Mutex
	var handled []int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				var batch []int64
				n, err := s.HandleEvents(ctx, 7, func(_ notify.Tx, evs []escrow.Event) error {
					batch = batch[:0] // a rerun after a retryable error starts over
					for _, e := range evs {
						batch = append(batch, e.GlobalSeq)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
				mu.Lock()
				handled = append(handled, batch...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(handled)
	if len(handled) != events || len(slices.Compact(slices.Clone(handled))) != events {
		t.Fatalf("%d events handled, %d distinct; want %d once each", len(handled), len(slices.Compact(slices.Clone(handled))), events)
	}
	// A failed batch moves nothing: the next handler gets the same events.
	appendEvents(t, db, nil, "ord_y#1")
	boom := errors.New("boom")
	if _, err := s.HandleEvents(ctx, 10, func(notify.Tx, []escrow.Event) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	var again []escrow.Event
	if _, err := s.HandleEvents(ctx, 10, func(_ notify.Tx, evs []escrow.Event) error { again = evs; return nil }); err != nil || len(again) != 1 || again[0].Stream != "ord_y" {
		t.Fatalf("after a failed batch: %v %v", again, err)
	}
}

func addUser(t *testing.T, db *DB, id, org string, role trade.Role, disabled bool) {
	t.Helper()
	u := access.User{ID: id, OrgID: org, Email: id + "@people.test", Name: id, Role: role, PasswordHash: "x", CreatedAt: t0}
	if disabled {
		u.DisabledAt = &t0
	}
	if err := db.Access().InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// notifyWrite runs fn with a notify.Tx in one transaction (through an empty event batch).
func notifyWrite(t *testing.T, db *DB, fn func(tx notify.Tx) error) {
	t.Helper()
	appendEvents(t, db, nil, fmt.Sprintf("ord_w#%d", time.Now().UnixNano()))
	if _, err := db.Notifications().HandleEvents(ctx, 1, func(tx notify.Tx, _ []escrow.Event) error { return fn(tx) }); err != nil {
		t.Fatal(err)
	}
}

// testNotificationUsersDedupe: recipients are the enabled users of an organization with the
// role asked for; a notification is stored once per user and source.
func testNotificationUsersDedupe(t *testing.T, db *DB) {
	addUser(t, db, "usr_b1", "org_b", trade.RoleBuyer, false)
	addUser(t, db, "usr_b2", "org_b", trade.RoleBuyer, true)
	addUser(t, db, "usr_a1", "platform", trade.RoleArbiter, false)
	addUser(t, db, "usr_a2", "platform", trade.RoleAdmin, false)
	notifyWrite(t, db, func(tx notify.Tx) error {
		us, err := tx.Users(ctx, "org_b", []trade.Role{trade.RoleBuyer}, 10)
		if err != nil || len(us) != 1 || us[0].ID != "usr_b1" || us[0].Email != "usr_b1@people.test" {
			t.Errorf("buyers: %+v %v", us, err)
		}
		if us, err := tx.Users(ctx, "platform", []trade.Role{trade.RoleArbiter}, 10); err != nil || len(us) != 1 || us[0].ID != "usr_a1" {
			t.Errorf("arbiters: %+v %v", us, err)
		}
		n := notify.Notification{UserID: "usr_b1", OrgID: "org_b", OrderID: "ord_1", Kind: notify.PaymentDue, Title: "t",
			Body: "b", Link: "/orders/ord_1", Dedupe: "event/1/payment_due", CreatedAt: t0}
		id, err := tx.InsertNotification(ctx, n)
		if err != nil || id == 0 {
			t.Errorf("first insert: %d %v", id, err)
		}
		if again, err := tx.InsertNotification(ctx, n); err != nil || again != 0 {
			t.Errorf("second insert: %d %v", again, err)
		}
		if err := tx.EnqueueEmail(ctx, id, "usr_b1@people.test", "B1", t0); err != nil {
			return err
		}
		return tx.EnqueueEmail(ctx, id, "usr_b1@people.test", "B1", t0) // harmless twice
	})
	ns, err := db.Notifications().Notifications(ctx, notify.Filter{UserID: "usr_b1", Limit: 10})
	if err != nil || len(ns) != 1 {
		t.Fatalf("%+v %v", ns, err)
	}
}

// testRaceClaimEmails has two senders claim the outbox at once: each email goes to one of
// them; a sender whose lease was taken over cannot record an outcome.
func testRaceClaimEmails(t *testing.T, db *DB) {
	const emails = 40
	notifyWrite(t, db, func(tx notify.Tx) error {
		for i := range emails {
			id, err := tx.InsertNotification(ctx, notify.Notification{UserID: "u", OrgID: "o", OrderID: "ord", Kind: notify.OrderLate,
				Title: "t", Body: "b", Link: "/orders/ord", Dedupe: fmt.Sprint("event/", i), CreatedAt: t0})
			if err != nil {
				return err
			}
			if err := tx.EnqueueEmail(ctx, id, "u@people.test", "U", t0); err != nil {
				return err
			}
		}
		return nil
	})
	s := db.Notifications()
	var mu sync.Mutex
	claimed := map[int64]string{}
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b"} {
		wg.Go(func() {
			for {
				jobs, err := s.ClaimEmails(ctx, t0, owner, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if prev, dup := claimed[j.NotificationID]; dup {
						t.Errorf("email %d claimed by %s and %s", j.NotificationID, prev, owner)
					}
					claimed[j.NotificationID] = owner
					if j.Attempts != 1 || j.To != "u@people.test" || j.Notification.Link != "/orders/ord" {
						t.Errorf("claimed %+v", j)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != emails {
		t.Fatalf("%d claimed, want %d", len(claimed), emails)
	}
	var id int64
	for k := range claimed {
		id = k
		break
	}
	other := map[string]string{"a": "b", "b": "a"}[claimed[id]]
	if err := s.FinishEmail(ctx, id, other, notify.EmailOutcome{State: notify.EmailSent, At: t0}); !errors.Is(err, escrow.ErrNotFound) {
		t.Fatalf("finish by the wrong owner: %v", err)
	}
	if err := s.FinishEmail(ctx, id, claimed[id], notify.EmailOutcome{State: notify.EmailSent, At: t0}); err != nil {
		t.Fatal(err)
	}
	// Once the leases run out, every unfinished email is due again; the sent one never is.
	later, err := s.ClaimEmails(ctx, t0.Add(2*time.Minute), "c", time.Minute, 100)
	if err != nil || len(later) != emails-1 {
		t.Fatalf("reclaimed %d, want %d (%v)", len(later), emails-1, err)
	}
	for _, j := range later {
		if j.NotificationID == id || j.Attempts != 2 {
			t.Fatalf("reclaimed %+v", j)
		}
	}
}

// testNotificationInbox pages a user's and an organization's notifications newest first,
// filters read and unread, marks read once, marks all up to an ID, and counts with a cap.
func testNotificationInbox(t *testing.T, db *DB) {
	var ids []int64
	notifyWrite(t, db, func(tx notify.Tx) error {
		for i, u := range []string{"u1", "u2", "u1", "u1", "u1"} {
			id, err := tx.InsertNotification(ctx, notify.Notification{UserID: u, OrgID: "org", OrderID: "ord", Kind: notify.PaymentDue,
				Title: "t", Body: "b", Link: "/orders/ord", Dedupe: fmt.Sprint("event/", i), CreatedAt: t0.Add(time.Duration(i) * time.Second)})
			ids = append(ids, id)
			if err != nil {
				return err
			}
		}
		return nil
	})
	s := db.Notifications()
	list := func(f notify.Filter) []int64 {
		t.Helper()
		f.Limit = 10
		ns, err := s.Notifications(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	u1 := []int64{ids[4], ids[3], ids[2], ids[0]}
	if got := list(notify.Filter{UserID: "u1"}); !slices.Equal(got, u1) {
		t.Fatalf("u1: %v, want %v", got, u1)
	}
	if got := list(notify.Filter{OrgID: "org"}); len(got) != 5 {
		t.Fatalf("org: %v", got)
	}
	if got := list(notify.Filter{UserID: "u1", Before: ids[3]}); !slices.Equal(got, u1[2:]) {
		t.Fatalf("before %d: %v", ids[3], got)
	}
	if err := s.MarkRead(ctx, ids[2], t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, ids[2], t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Notification(ctx, ids[2]); n.ReadAt == nil || !n.ReadAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("read_at %v, want the first", n.ReadAt)
	}
	if got := list(notify.Filter{UserID: "u1", State: notify.Read}); !slices.Equal(got, []int64{ids[2]}) {
		t.Fatalf("read: %v", got)
	}
	if n, _ := s.Unread(ctx, "u1", 2); n != 2 {
		t.Fatalf("capped unread %d", n)
	}
	if n, err := s.MarkAllRead(ctx, "u1", ids[3], t0); err != nil || n != 2 {
		t.Fatalf("mark all up to %d: %d %v", ids[3], n, err)
	}
	if got := list(notify.Filter{UserID: "u1", State: notify.Unread}); !slices.Equal(got, []int64{ids[4]}) {
		t.Fatalf("unread after mark-all: %v", got)
	}
	if n, _ := s.Unread(ctx, "u2", 10); n != 1 {
		t.Fatalf("u2's unread: %d", n)
	}
	if _, err := s.Notification(ctx, 999999); !errors.Is(err, escrow.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

// testReminders: a reminder is put once per key, handed out only when due, and once finished
// never again.
func testReminders(t *testing.T, db *DB) {
	r := notify.Reminder{Key: "ship_by/ord/2026-05-01", Kind: notify.ShipByNear, OrderID: "ord", Ref: "2026-05-01", DueAt: t0.Add(time.Hour)}
	notifyWrite(t, db, func(tx notify.Tx) error {
		if err := tx.PutReminder(ctx, r); err != nil {
			return err
		}
		moved := r
		moved.DueAt = t0.Add(time.Minute)
		return tx.PutReminder(ctx, moved) // the same key: ignored
	})
	s := db.Notifications()
	if n, err := s.HandleReminders(ctx, t0.Add(30*time.Minute), 10, func(notify.Tx, []notify.Reminder) error {
		t.Error("handed out early")
		return nil
	}); err != nil || n != 0 {
		t.Fatalf("%d %v", n, err)
	}
	n, err := s.HandleReminders(ctx, t0.Add(time.Hour), 10, func(tx notify.Tx, rs []notify.Reminder) error {
		if len(rs) != 1 || rs[0] != r {
			t.Errorf("due: %+v", rs)
		}
		return tx.FinishReminder(ctx, rs[0].Key, "sent", t0.Add(time.Hour))
	})
	if err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	if n, err := s.HandleReminders(ctx, t0.Add(48*time.Hour), 10, func(notify.Tx, []notify.Reminder) error { return nil }); err != nil || n != 0 {
		t.Fatalf("again: %d %v", n, err)
	}
}
