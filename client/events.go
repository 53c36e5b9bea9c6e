package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// FeedEvent is one entry of the events feed.
type FeedEvent struct {
	GlobalSeq int64           `json:"global_seq"` // position in the feed: pass the last one seen as after
	Stream    string          `json:"stream"`     // the order ID for an order's events; an organization's ID, or platform
	Seq       int64           `json:"seq"`        // 1, 2, … within the stream
	Type      string          `json:"type"`
	At        time.Time       `json:"at"`
	Payload   json.RawMessage `json:"payload"`
}

// EventPage is one page of the feed. NextCursor is always set: on the last page it is where to
// poll from next; HasMore says whether the next page has events already.
type EventPage struct {
	Items      []FeedEvent `json:"items"`
	NextCursor int64       `json:"next_cursor"`
	HasMore    bool        `json:"has_more"`
}

// Events reads the feed after the global_seq after (0: from the start); limit 0 is the server's
// default.
func (c *Client) Events(ctx context.Context, after int64, limit int) (*EventPage, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, PageSizeMax)))
	}
	var page EventPage
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events", query: q, safe: true}, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// EventsSince iterates over the feed after the global_seq after, up to the events committed
// now; to follow it, call again later from the last GlobalSeq seen. It stops at the first
// error, which it yields.
func (c *Client) EventsSince(ctx context.Context, after int64) iter.Seq2[FeedEvent, error] {
	return func(yield func(FeedEvent, error) bool) {
		for {
			page, err := c.Events(ctx, after, PageSizeMax)
			if err != nil {
				yield(FeedEvent{}, err)
				return
			}
			for _, e := range page.Items {
				if !yield(e, nil) {
					return
				}
			}
			if !page.HasMore || page.NextCursor <= after {
				return
			}
			after = page.NextCursor
		}
	}
}

// WebhookEndpoint is a URL that receives the organization's events.
type WebhookEndpoint struct {
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	URL         string     `json:"url"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	Secret      string     `json:"secret,omitempty"` // whsec_…: only in the answer to CreateWebhookEndpoint
}

// WebhookDelivery is one event's delivery to one endpoint.
type WebhookDelivery struct {
	ID            int64      `json:"id"`
	EndpointID    string     `json:"endpoint_id"`
	OrgID         string     `json:"org_id"`
	EventID       string     `json:"event_id"` // the webhook-id header: the same on every attempt
	GlobalSeq     int64      `json:"global_seq"`
	Stream        string     `json:"stream"`
	Seq           int64      `json:"seq"`
	State         string     `json:"state"` // pending, delivered, dead
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// DeliveryPage is one page of an endpoint's delivery log; NextCursor is 0 on the last page.
type DeliveryPage struct {
	Items      []WebhookDelivery `json:"items"`
	NextCursor int64             `json:"next_cursor"`
}

// CreateWebhookEndpoint registers url (https://…) for the key's organization. Keep the returned
// Secret: it is shown only here (and to a retry with the same idempotency key, "" for a random
// one), so the call is retried after a 5xx or a lost connection like a command.
func (c *Client) CreateWebhookEndpoint(ctx context.Context, rawURL, description, idempotencyKey string) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/webhook-endpoints",
		body: map[string]string{"url": rawURL, "description": description}, idemKey: keyOr(idempotencyKey), safe: true}, &e)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// WebhookEndpoints lists the organization's endpoints, disabled ones too, without secrets:
// every page of them.
func (c *Client) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	return collect(c.AllWebhookEndpoints(ctx))
}

// DeleteWebhookEndpoint disables an endpoint: nothing more is sent to it. Deleting twice is
// not an error.
func (c *Client) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/webhook-endpoints/" + url.PathEscape(id), safe: true}, nil)
	return err
}

// WebhookDeliveries reads one page of an endpoint's delivery log after the delivery ID after.
func (c *Client) WebhookDeliveries(ctx context.Context, endpointID string, after int64, limit int) (*DeliveryPage, error) {
	q := url.Values{"endpoint_id": {endpointID}, "after": {strconv.FormatInt(after, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, PageSizeMax)))
	}
	var page DeliveryPage
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/webhook-deliveries", query: q, safe: true}, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Redeliver sends a dead or delivered delivery again (reason webhook_delivery_pending if it is
// still pending), idempotent by key ("" for a random one): a retry with the same key sends
// nothing again and returns the delivery as it is now.
func (c *Client) Redeliver(ctx context.Context, deliveryID int64, idempotencyKey string) (*WebhookDelivery, error) {
	var d WebhookDelivery
	_, err := c.do(ctx, request{method: http.MethodPost,
		path:    "/v1/webhook-deliveries/" + strconv.FormatInt(deliveryID, 10) + "/redeliver",
		idemKey: keyOr(idempotencyKey), safe: true}, &d)
	if err != nil {
		return nil, err
	}
	return &d, nil
}
