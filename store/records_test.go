package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// testPaymentRefs covers InsertPaymentRef and PaymentByReference.
func testPaymentRefs(t *testing.T, db *DB) {
	write(t, db, func(tx escrow.Tx) error { return tx.InsertPaymentRef(ctx, "TA-123", "ord_1", "pay_1") })
	write(t, db, func(tx escrow.Tx) error {
		wantIs(t, "duplicate reference", tx.InsertPaymentRef(ctx, "TA-123", "ord_2", "pay_2"), escrow.ErrDuplicate)
		return tx.InsertPaymentRef(ctx, "TA-456", "ord_2", "pay_2")
	})
	read(t, db, func(r escrow.Reader) error {
		o, p, err := r.PaymentByReference(ctx, "TA-123")
		if o != "ord_1" || p != "pay_1" {
			t.Errorf("PaymentByReference = %q, %q", o, p)
		}
		_, _, err2 := r.PaymentByReference(ctx, "TA-none")
		wantIs(t, "missing reference", err2, escrow.ErrNotFound)
		return err
	})
}

// testMessages covers InsertMessage and Messages (oldest first).
func testMessages(t *testing.T, db *DB) {
	author := trade.Actor{Role: trade.RoleBuyer, OrgID: "org_b", UserID: "u1"}
	msgs := []trade.Message{
		{ID: "msg_b", OrderID: "ord_1", Author: author, Body: "second", At: t0.Add(time.Minute)},
		{ID: "msg_a", OrderID: "ord_1", Author: author, Body: "first ✓", At: t0,
			Attachments: []trade.Attachment{{Name: "label.pdf", Ref: "sha256:00", Size: 10, MediaType: "application/pdf"}}},
		{ID: "msg_c", OrderID: "ord_2", Author: author, Body: "other order", At: t0},
	}
	write(t, db, func(tx escrow.Tx) error {
		for _, m := range msgs {
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		wantIs(t, "duplicate message", tx.InsertMessage(ctx, msgs[0]), escrow.ErrDuplicate)
		return nil
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Messages(ctx, "ord_1")
		same(t, "messages", got, []trade.Message{msgs[1], msgs[0]})
		none, err2 := r.Messages(ctx, "ord_none")
		if len(none) != 0 {
			t.Errorf("messages of a missing order: %v", none)
		}
		return errors.Join(err, err2)
	})
}

// testEvents covers AppendEvent, LastEvent, Events, EventsAfter and StreamIDs, and that a
// payload comes back byte for byte (it is hashed).
func testEvents(t *testing.T, db *DB) {
	payloads := []string{
		"{\"b\":1,\"a\":[2,   3]}",
		"{ \"b\" : 1 ,\n\t\"a\": [2, 3] }  ",
		`{"n":12345678901234567890.10,"s":"\u00e9é","z":null}`,
		`[]`,
	}
	var want []escrow.Event
	write(t, db, func(tx escrow.Tx) error {
		seq, hash, err := tx.LastEvent(ctx, "order/1")
		if seq != 0 || hash != "" || err != nil {
			t.Errorf("LastEvent of an empty stream = %d, %q, %v", seq, hash, err)
		}
		for i, p := range payloads {
			stream, seq := "order/1", int64(i+1)
			if i == 3 {
				stream, seq = "order/0", 1
			}
			e := escrow.Event{GlobalSeq: int64(i + 1), Stream: stream, Seq: seq, Type: "order.changed",
				Actor: trade.System, At: t0.Add(time.Duration(i) * time.Second), Payload: json.RawMessage(p),
				PrevHash: fmt.Sprintf("h%d", i), Hash: fmt.Sprintf("h%d", i+1)}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
			want = append(want, e)
		}
		dup := want[0]
		dup.Payload = json.RawMessage(`{}`)
		wantIs(t, "duplicate (stream, seq)", tx.AppendEvent(ctx, dup), escrow.ErrDuplicate)
		seq, hash, err = tx.LastEvent(ctx, "order/1")
		if seq != 3 || hash != "h3" {
			t.Errorf("LastEvent = %d, %q", seq, hash)
		}
		return err
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Events(ctx, "order/1")
		same(t, "events of order/1", got, want[:3])
		for i := range got {
			if string(got[i].Payload) != payloads[i] {
				t.Errorf("payload %d = %q, want %q", i, got[i].Payload, payloads[i])
			}
		}
		first, err2 := r.EventsAfter(ctx, 0, 3)
		same(t, "events after 0", first, want[:3])
		rest, err3 := r.EventsAfter(ctx, 3, 3)
		same(t, "events after 3", rest, want[3:])
		streams, err4 := r.StreamIDs(ctx, "", 1)
		same(t, "first stream", streams, []string{"order/0"})
		streams, err5 := r.StreamIDs(ctx, "order/0", 10)
		same(t, "streams after order/0", streams, []string{"order/1"})
		return errors.Join(err, err2, err3, err4, err5)
	})
}

// testCommands covers Command and SaveCommand.
func testCommands(t *testing.T, db *DB) {
	c := escrow.CommandRecord{Scope: "org_b", Key: "idem-1", RequestHash: "sha256:req", Result: json.RawMessage(`{"id": "ord_1"}`), At: t0}
	write(t, db, func(tx escrow.Tx) error {
		got, err := tx.Command(ctx, "org_b", "idem-1")
		if got != nil || err != nil {
			t.Errorf("absent command = %v, %v; want nil, nil", got, err)
		}
		return tx.SaveCommand(ctx, c)
	})
	write(t, db, func(tx escrow.Tx) error {
		other := c
		other.RequestHash = "sha256:other"
		wantIs(t, "duplicate command", tx.SaveCommand(ctx, other), escrow.ErrDuplicate)
		got, err := tx.Command(ctx, "org_b", "idem-1")
		same(t, "command", got, &c)
		none, err2 := tx.Command(ctx, "org_s", "idem-1")
		if none != nil {
			t.Errorf("command of another scope: %v", none)
		}
		return errors.Join(err, err2)
	})
}

// testSuspense covers the suspense items.
func testSuspense(t *testing.T, db *DB) {
	items := []escrow.SuspenseItem{
		{ID: "sus_2", Method: payment.TTWire, Amount: money.New(5000, "USD"), Reference: "?", Payer: "ACME",
			ReceivedAt: t0.Add(time.Hour), State: escrow.SuspenseOpen},
		{ID: "sus_1", Method: payment.TTLocal, Amount: money.New(700, "EUR"), Reference: "TA-9", Payer: "Foo GmbH",
			ReceivedAt: t0, State: escrow.SuspenseOpen, Note: "typo in reference"},
	}
	write(t, db, func(tx escrow.Tx) error {
		for _, s := range items {
			if err := tx.InsertSuspense(ctx, s); err != nil {
				return err
			}
		}
		wantIs(t, "duplicate suspense", tx.InsertSuspense(ctx, items[0]), escrow.ErrDuplicate)
		return nil
	})
	allocated := items[1]
	allocated.State, allocated.OrderID, allocated.PaymentID = escrow.SuspenseAllocated, "ord_9", "pay_9"
	write(t, db, func(tx escrow.Tx) error {
		missing := items[0]
		missing.ID = "sus_none"
		wantIs(t, "update missing suspense", tx.UpdateSuspense(ctx, missing), escrow.ErrNotFound)
		return tx.UpdateSuspense(ctx, allocated)
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.Suspense(ctx, "sus_1")
		same(t, "suspense", got, allocated)
		_, err2 := r.Suspense(ctx, "sus_none")
		wantIs(t, "missing suspense", err2, escrow.ErrNotFound)
		open, err3 := r.SuspenseItems(ctx, escrow.SuspenseOpen, 10)
		same(t, "open items", open, items[:1])
		all, err4 := r.SuspenseItems(ctx, "", 10)
		same(t, "all items by received_at", all, []escrow.SuspenseItem{allocated, items[0]})
		one, err5 := r.SuspenseItems(ctx, "", 1)
		same(t, "limited items", one, []escrow.SuspenseItem{allocated})
		return errors.Join(err, err3, err4, err5)
	})
}

// testWriteRetries ensures Write reruns fn on a retryable error, at most WriteRetriesMax times.
func testWriteRetries(t *testing.T, db *DB) {
	serialization := &pgconn.PgError{Code: "40001"}
	calls := 0
	err := db.Write(ctx, func(tx escrow.Tx) error {
		calls++
		if err := tx.InsertPaymentRef(ctx, "ref", "o", "p"); err != nil {
			return err // a retry that saw the first attempt's row would fail here
		}
		if calls < 3 {
			return fmt.Errorf("wrapped: %w", serialization)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("Write = %v after %d calls; want success after 3", err, calls)
	}
	calls = 0
	err = db.Write(ctx, func(tx escrow.Tx) error { calls++; return serialization })
	if !errors.Is(err, serialization) || calls != WriteRetriesMax+1 {
		t.Errorf("Write = %v after %d calls; want the error after %d", err, calls, WriteRetriesMax+1)
	}
	calls = 0
	plain := errors.New("refused")
	err = db.Write(ctx, func(tx escrow.Tx) error { calls++; return plain })
	if err != plain || calls != 1 {
		t.Errorf("Write = %v after %d calls; want the error at once", err, calls)
	}
}

// testReadOnly ensures Read hands out no write methods.
func testReadOnly(t *testing.T, db *DB) {
	read(t, db, func(r escrow.Reader) error {
		if _, ok := r.(escrow.Tx); ok {
			t.Error("the Reader of Read is an escrow.Tx")
		}
		return nil
	})
}
