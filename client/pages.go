package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// page is one page of a list: its items and the cursor of the next page, the zero value on the
// last.
type page[T any, C string | int64] struct {
	Items      []T `json:"items"`
	NextCursor C   `json:"next_cursor"`
}

// listPage reads one page of path after the cursor after (its zero value for the first page).
func listPage[T any, C string | int64](ctx context.Context, c *Client, path string, q url.Values, after C, limit int) (*page[T, C], error) {
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	var zero C
	if after != zero {
		q2.Set("after", fmt.Sprint(after))
	}
	if limit > 0 {
		q2.Set("limit", strconv.Itoa(min(limit, PageSizeMax)))
	}
	var p page[T, C]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q2, safe: true}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// all iterates over every item of the list at path, page after page of PageSizeMax items (or
// the client's page size). It stops at the first error, which it yields.
func all[T any, C string | int64](ctx context.Context, c *Client, path string, q url.Values) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var after C
		for {
			size := PageSizeMax
			if c.page > 0 {
				size = c.page
			}
			p, err := listPage[T](ctx, c, path, q, after, size)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			var zero C
			if p.NextCursor == zero || p.NextCursor == after {
				return
			}
			after = p.NextCursor
		}
	}
}

// collect gathers an iterator's items, stopping at its first error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	out := []T{}
	for it, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// AllOrderEvents iterates over an order's audit log, oldest first, page after page.
func (c *Client) AllOrderEvents(ctx context.Context, orderID string) iter.Seq2[AuditEvent, error] {
	return all[AuditEvent, int64](ctx, c, "/v1/orders/"+url.PathEscape(orderID)+"/events", nil)
}

// AllMessages iterates over an order's thread, oldest first, page after page (R23).
func (c *Client) AllMessages(ctx context.Context, orderID string) iter.Seq2[trade.Message, error] {
	return all[trade.Message, string](ctx, c, "/v1/orders/"+url.PathEscape(orderID)+"/messages", nil)
}

// AllSuppliers iterates over the suppliers an order may be placed with, by ID (R1, R22).
func (c *Client) AllSuppliers(ctx context.Context) iter.Seq2[Supplier, error] {
	return all[Supplier, string](ctx, c, "/v1/suppliers", nil)
}

// APIKey is an organization's API key as listed: never its secret.
type APIKey struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"org_id"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// AllAPIKeys iterates over an organization's API keys, revoked ones too, oldest first (the
// key's own organization, or any for an admin).
func (c *Client) AllAPIKeys(ctx context.Context, orgID string) iter.Seq2[APIKey, error] {
	return all[APIKey, string](ctx, c, "/v1/orgs/"+url.PathEscape(orgID)+"/api-keys", nil)
}

// AllWebhookEndpoints iterates over the organization's webhook endpoints, disabled ones too,
// without secrets, oldest first.
func (c *Client) AllWebhookEndpoints(ctx context.Context) iter.Seq2[WebhookEndpoint, error] {
	return all[WebhookEndpoint, string](ctx, c, "/v1/webhook-endpoints", nil)
}

// SuspenseItem is money a rail received that matched no payment (R8).
type SuspenseItem struct {
	ID         string       `json:"id"`
	Method     string       `json:"method"`
	Amount     money.Amount `json:"amount"`
	Reference  string       `json:"reference"`
	Payer      string       `json:"payer"`
	ReceivedAt time.Time    `json:"received_at"`
	State      string       `json:"state"`
	Note       string       `json:"note,omitempty"`
}

// AllSuspense iterates over the money held in suspense, oldest first (admin).
func (c *Client) AllSuspense(ctx context.Context) iter.Seq2[SuspenseItem, error] {
	return all[SuspenseItem, string](ctx, c, "/v1/suspense", nil)
}
