package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// orderCols are what an order is read from: the document, and the columns that override its
// times so that they come back in UTC with microsecond precision.
const orderCols = `SELECT doc, placed_at, updated_at FROM orders`

// Order reads an order.
func (r reader) Order(ctx context.Context, id string) (*trade.Order, error) {
	return r.order(ctx, id, "")
}

// LockOrder reads an order and locks it until commit.
func (t *tx) LockOrder(ctx context.Context, id string) (*trade.Order, error) {
	o, err := t.order(ctx, id, t.db.d.forUpdate)
	return o, t.fail(err)
}

func (r reader) order(ctx context.Context, id, lock string) (*trade.Order, error) {
	o, err := scanOrder(r.q.QueryRowContext(ctx, orderCols+` WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("order", id)
	}
	if err != nil {
		return nil, fmt.Errorf("select order %q: %w", id, err)
	}
	return o, nil
}

func scanOrder(row interface{ Scan(...any) error }) (*trade.Order, error) {
	var doc string
	var placed, updated int64
	if err := row.Scan(&doc, &placed, &updated); err != nil {
		return nil, err
	}
	o := new(trade.Order)
	if err := json.Unmarshal([]byte(doc), o); err != nil {
		return nil, fmt.Errorf("decode order: %w", err)
	}
	o.PlacedAt, o.UpdatedAt = fromMicros(placed), fromMicros(updated)
	return o, nil
}

// Orders lists the orders f selects, by ID ascending, after f.After.
func (r reader) Orders(ctx context.Context, f escrow.OrderFilter) ([]*trade.Order, error) {
	var b strings.Builder
	args, order := []any{f.After}, " ORDER BY id"
	b.WriteString(orderCols + ` WHERE id > $1`)
	if f.Newest {
		// Newest first: the same indexes, scanned backwards from the cursor.
		args, order = []any{}, " ORDER BY id DESC"
		b.Reset()
		b.WriteString(orderCols + ` WHERE TRUE`)
		if f.Before != "" {
			args = append(args, f.Before)
			b.WriteString(` AND id < $1`)
		}
	}
	for _, c := range []struct{ col, val string }{
		{"buyer_id", f.BuyerID}, {"supplier_id", f.SupplierID},
		{"inspector_id", f.InspectorID}, {"state", string(f.State)},
	} {
		if c.val != "" {
			args = append(args, c.val)
			b.WriteString(" AND " + c.col + " = $" + strconv.Itoa(len(args)))
		}
	}
	if !f.PlacedFrom.IsZero() {
		args = append(args, micros(f.PlacedFrom))
		b.WriteString(" AND placed_at >= $" + strconv.Itoa(len(args)))
	}
	if !f.PlacedBefore.IsZero() {
		args = append(args, micros(f.PlacedBefore))
		b.WriteString(" AND placed_at < $" + strconv.Itoa(len(args)))
	}
	args = append(args, clampLimit(f.Limit))
	b.WriteString(order + " LIMIT $" + strconv.Itoa(len(args)))
	rows, err := r.q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("select orders: %w", err)
	}
	defer rows.Close()
	var out []*trade.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("scan order: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select orders: %w", err)
	}
	return out, nil
}

// inspectorID is the order's inspector column: NULL until an inspection is booked.
func inspectorID(o *trade.Order) any {
	if o.Inspection == nil || o.Inspection.InspectorID == "" {
		return nil
	}
	return o.Inspection.InspectorID
}

// InsertOrder stores a new order, or returns ErrDuplicate.
func (t *tx) InsertOrder(ctx context.Context, o *trade.Order) error {
	doc, err := marshalDoc("order", o)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO orders
		(id, buyer_id, supplier_id, inspector_id, state, version, placed_at, updated_at, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		o.ID, o.BuyerID, o.SupplierID, inspectorID(o), string(o.State), o.Version,
		micros(o.PlacedAt), micros(o.UpdatedAt), doc)
	if err != nil {
		return t.fail(insertErr("order", o.ID, err))
	}
	return t.fail(changed(res, duplicate("order", o.ID)))
}

// UpdateOrder writes o if the stored version is prevVersion, else returns ErrConflict.
func (t *tx) UpdateOrder(ctx context.Context, o *trade.Order, prevVersion int64) error {
	if o.Version <= prevVersion {
		// Optimistic concurrency needs every change to bump the version: a bug in the caller.
		return fmt.Errorf("update order %q: version %d not after %d", o.ID, o.Version, prevVersion)
	}
	doc, err := marshalDoc("order", o)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE orders SET buyer_id = $3, supplier_id = $4, inspector_id = $5,
		state = $6, version = $7, placed_at = $8, updated_at = $9, doc = $10
		WHERE id = $1 AND version = $2`,
		o.ID, prevVersion, o.BuyerID, o.SupplierID, inspectorID(o), string(o.State), o.Version,
		micros(o.PlacedAt), micros(o.UpdatedAt), doc)
	if err != nil {
		return t.fail(fmt.Errorf("update order %q: %w", o.ID, err))
	}
	return t.fail(changed(res, fmt.Errorf("update order %q from version %d: %w", o.ID, prevVersion, escrow.ErrConflict)))
}

// InsertPaymentRef maps a payment reference to its order and payment, or returns ErrDuplicate.
func (t *tx) InsertPaymentRef(ctx context.Context, ref, orderID, paymentID string) error {
	res, err := t.q.ExecContext(ctx,
		`INSERT INTO payment_refs (reference, order_id, payment_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		ref, orderID, paymentID)
	if err != nil {
		return t.fail(insertErr("payment reference", ref, err))
	}
	return t.fail(changed(res, duplicate("payment reference", ref)))
}

// PaymentByReference finds the payment a reference names.
func (r reader) PaymentByReference(ctx context.Context, ref string) (orderID, paymentID string, err error) {
	err = r.q.QueryRowContext(ctx, `SELECT order_id, payment_id FROM payment_refs WHERE reference = $1`, ref).
		Scan(&orderID, &paymentID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", notFound("payment reference", ref)
	}
	if err != nil {
		return "", "", fmt.Errorf("select payment reference %q: %w", ref, err)
	}
	return orderID, paymentID, nil
}

// InsertMessage appends a message to an order's thread, or returns ErrDuplicate for its ID.
func (t *tx) InsertMessage(ctx context.Context, m trade.Message) error {
	doc, err := marshalDoc("message", m)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx,
		`INSERT INTO messages (id, order_id, at, doc) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		m.ID, m.OrderID, micros(m.At), doc)
	if err != nil {
		return t.fail(insertErr("message", m.ID, err))
	}
	return t.fail(changed(res, duplicate("message", m.ID)))
}

// Messages lists an order's thread, oldest first.
func (r reader) Messages(ctx context.Context, orderID string) ([]trade.Message, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT at, doc FROM messages WHERE order_id = $1 ORDER BY at, id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("select messages of %q: %w", orderID, err)
	}
	defer rows.Close()
	var out []trade.Message
	for rows.Next() {
		var at int64
		var doc string
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, fmt.Errorf("scan message: %w", err)
		}
		var m trade.Message
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("decode message: %w", err)
		}
		m.At = fromMicros(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select messages of %q: %w", orderID, err)
	}
	return out, nil
}
