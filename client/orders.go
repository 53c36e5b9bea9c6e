package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tradeassure/tradeassure/trade"
)

// Order is an order as the API shows it: the domain's order plus the figures the server
// computes. An inspection company's view has no payments, money or disputes.
type Order struct {
	trade.Order
	Total       int64 `json:"total"`       // agreed value after price reductions, minor units
	Outstanding int64 `json:"outstanding"` // what the buyer still owes
	EscrowHeld  int64 `json:"escrow_held"` // what escrow holds for the order now
	// ETag is the order's version as the response's ETag ("v3"): pass it to CommandIfMatch.
	ETag string `json:"-"`
}

// PlaceOrder is a checkout (R1, R2).
type PlaceOrder struct {
	SupplierID          string          `json:"supplier_id"`
	Currency            string          `json:"currency"`
	ShipBy              time.Time       `json:"ship_by"` // midnight UTC of the last day to ship
	ComplianceConfirmed bool            `json:"compliance_confirmed"`
	Contract            *trade.Contract `json:"contract,omitempty"` // the buyer's proposal, if ready
}

// ListOrders narrows a listing of orders.
type ListOrders struct {
	State trade.State // only orders in this state; "" for all
	// Only orders of these parties ("" for any). A party sees only its own orders whatever it
	// asks: naming another organization in its own role's filter gives no order.
	BuyerID, SupplierID, InspectorID string
	// Only orders placed in [PlacedFrom, PlacedBefore); zero for unbounded.
	PlacedFrom, PlacedBefore time.Time
	After                    string // the NextCursor of the previous page
	Limit                    int    // 1 … PageSizeMax; 0 for the server's default
}

// OrderPage is one page of orders. NextCursor is empty on the last page.
type OrderPage struct {
	Items      []Order `json:"items"`
	NextCursor string  `json:"next_cursor"`
}

// AuditEvent is one entry of an order's hash-chained audit log.
type AuditEvent struct {
	Seq      int64           `json:"seq"`
	Type     string          `json:"type"`
	Actor    trade.Actor     `json:"actor"`
	At       time.Time       `json:"at"`
	Payload  json.RawMessage `json:"payload"`
	Hash     string          `json:"hash"`
	PrevHash string          `json:"prev_hash"`
}

func (c *Client) order(ctx context.Context, r request) (*Order, error) {
	var o Order
	h, err := c.do(ctx, r, &o)
	if err != nil {
		return nil, err
	}
	o.ETag = h.Get("ETag")
	return &o, nil
}

// PlaceOrder places an order as the buyer. idempotencyKey may be empty: one is generated.
func (c *Client) PlaceOrder(ctx context.Context, p PlaceOrder, idempotencyKey string) (*Order, error) {
	return c.order(ctx, request{method: http.MethodPost, path: "/v1/orders", body: p, idemKey: keyOr(idempotencyKey), safe: true})
}

// Order reads an order.
func (c *Client) Order(ctx context.Context, id string) (*Order, error) {
	return c.order(ctx, request{method: http.MethodGet, path: "/v1/orders/" + url.PathEscape(id), safe: true})
}

// Orders reads one page of the orders the key may see.
func (c *Client) Orders(ctx context.Context, f ListOrders) (*OrderPage, error) {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	for k, v := range map[string]string{"buyer_id": f.BuyerID, "supplier_id": f.SupplierID, "inspector_id": f.InspectorID, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.PlacedFrom.IsZero() {
		q.Set("placed_from", f.PlacedFrom.Format(time.RFC3339Nano))
	}
	if !f.PlacedBefore.IsZero() {
		q.Set("placed_before", f.PlacedBefore.Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(f.Limit, PageSizeMax)))
	}
	var page OrderPage
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/orders", query: q, safe: true}, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// AllOrders iterates over every order matching f, page after page from f.After. It stops at the
// first error, which it yields.
func (c *Client) AllOrders(ctx context.Context, f ListOrders) iter.Seq2[*Order, error] {
	return func(yield func(*Order, error) bool) {
		for {
			page, err := c.Orders(ctx, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Items {
				if !yield(&page.Items[i], nil) {
					return
				}
			}
			if page.NextCursor == "" || page.NextCursor == f.After {
				return
			}
			f.After = page.NextCursor
		}
	}
}

// OrderEvents reads an order's whole audit log, every page of it.
func (c *Client) OrderEvents(ctx context.Context, id string) ([]AuditEvent, error) {
	return collect(c.AllOrderEvents(ctx, id))
}

// Command issues a lifecycle command: POST /v1/orders/{orderID}/{verb} with body (nil for
// none). verb is the API's, e.g. "book-inspection". idempotencyKey may be empty: one is
// generated and reused by the retries.
func (c *Client) Command(ctx context.Context, orderID, verb string, body any, idempotencyKey string) (*Order, error) {
	return c.CommandIfMatch(ctx, orderID, verb, body, idempotencyKey, "")
}

// CommandIfMatch is Command applied only if the order is still at etag (an Order's ETag);
// otherwise it fails with reason version_mismatch. An empty etag applies to whatever the order is.
func (c *Client) CommandIfMatch(ctx context.Context, orderID, verb string, body any, idempotencyKey, etag string) (*Order, error) {
	if body == nil {
		body = struct{}{}
	}
	return c.order(ctx, request{method: http.MethodPost, path: "/v1/orders/" + url.PathEscape(orderID) + "/" + url.PathEscape(verb),
		body: body, idemKey: keyOr(idempotencyKey), ifMatch: etag, safe: true})
}

// The main lifecycle commands, typed. Every other one is Command with its verb.

// ProposeContract proposes (or counters) the purchase contract (buyer or supplier).
func (c *Client) ProposeContract(ctx context.Context, orderID string, ct trade.Contract, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "propose-contract", ct, idempotencyKey)
}

// ConfirmContract confirms the other party's proposal, named by its hash (Order.Proposal.Hash).
func (c *Client) ConfirmContract(ctx context.Context, orderID, hash, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "confirm-contract", map[string]string{"hash": hash}, idempotencyKey)
}

// BookInspection books a pre-shipment inspection with an inspection company (buyer). A zero aql
// means the default (0 critical, 2.5 major, 4.0 minor).
func (c *Client) BookInspection(ctx context.Context, orderID, inspectorID string, aql trade.AQL, idempotencyKey string) (*Order, error) {
	body := map[string]any{"inspector_id": inspectorID}
	if aql != (trade.AQL{}) {
		body["aql"] = aql
	}
	return c.Command(ctx, orderID, "book-inspection", body, idempotencyKey)
}

// Pay issues payment instructions for an installment ("initial" or "balance") by a method
// ("tt_wire", "card", …) (buyer). The instructions are in the order's Payments.
func (c *Client) Pay(ctx context.Context, orderID string, installment trade.Installment, method, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "pay", map[string]string{"installment": string(installment), "method": method}, idempotencyKey)
}

// InspectionReport submits the inspection report (the booked inspector). Who and when are
// recorded by the server: InspectorID and SubmittedAt are not sent.
func (c *Client) InspectionReport(ctx context.Context, orderID string, r trade.Report, idempotencyKey string) (*Order, error) {
	body := map[string]any{"passed": r.Passed, "sample_size": r.SampleSize, "critical": r.Critical, "major": r.Major,
		"minor": r.Minor, "summary": r.Summary}
	if len(r.Findings) > 0 {
		body["findings"] = r.Findings
	}
	if len(r.Photos) > 0 {
		body["photos"] = r.Photos
	}
	return c.Command(ctx, orderID, "inspection-report", body, idempotencyKey)
}

// Ship records the shipment (supplier). shippedOn is a date: midnight UTC.
func (c *Client) Ship(ctx context.Context, orderID string, shippedOn time.Time, carrier, tracking, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "ship", map[string]any{"shipped_on": shippedOn.UTC().Format(time.RFC3339),
		"carrier": carrier, "tracking_number": tracking}, idempotencyKey)
}

// Release releases escrow to the supplier now instead of at the timer (admin).
func (c *Client) Release(ctx context.Context, orderID, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "release", nil, idempotencyKey)
}

// Complete confirms receipt and closes the order (buyer).
func (c *Client) Complete(ctx context.Context, orderID, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "complete", nil, idempotencyKey)
}

// Cancel cancels an order before any money arrived (buyer or supplier).
func (c *Client) Cancel(ctx context.Context, orderID, reason, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "cancel", map[string]string{"reason": reason}, idempotencyKey)
}

// FileDispute files a dispute about the named contract requirements (buyer).
func (c *Client) FileDispute(ctx context.Context, orderID, reason string, requirements []string, idempotencyKey string) (*Order, error) {
	return c.Command(ctx, orderID, "file-dispute", map[string]any{"reason": reason, "requirements": requirements}, idempotencyKey)
}

// Supplier is a supplier eligible for Trade Assurance, with the coverage new orders can use.
type Supplier struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Country           string `json:"country"`
	Eligible          bool   `json:"eligible"`
	CoverageLimit     int64  `json:"coverage_limit"`
	CoverageAvailable int64  `json:"coverage_available"`
	CoverageCurrency  string `json:"coverage_currency,omitempty"`
}

// Suppliers lists every supplier an order may be placed with (R1, R22), every page of them.
func (c *Client) Suppliers(ctx context.Context) ([]Supplier, error) {
	return collect(c.AllSuppliers(ctx))
}

// String names the order for logs.
func (o *Order) String() string { return fmt.Sprintf("%s (%s, v%d)", o.ID, o.State, o.Version) }
