package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/webhook"
)

// FeedEvent is one entry of the events feed.
type FeedEvent struct {
	GlobalSeq int64           `json:"global_seq" doc:"The event's position in the feed: pass the last one seen as ?after=."`
	Stream    string          `json:"stream" doc:"The order ID for an order's events; an organization's ID, or platform."`
	Seq       int64           `json:"seq" doc:"1, 2, … within the stream."`
	Type      string          `json:"type"`
	At        time.Time       `json:"at"`
	Payload   json.RawMessage `json:"payload"`
}

type feedPage struct {
	Items      []FeedEvent `json:"items"`
	NextCursor int64       `json:"next_cursor" doc:"Pass as ?after= for the next page; on the last page it is where to poll from next."`
	HasMore    bool        `json:"has_more" doc:"Whether the next page already has events."`
}

// EndpointView is a webhook endpoint as the API shows it; its secret only when it is created.
type EndpointView struct {
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	URL         string     `json:"url"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	Secret      string     `json:"secret,omitempty" doc:"whsec_…: the signing secret, shown only in the response that creates the endpoint (and a retry of it)."`
}

func endpointView(e webhook.Endpoint) EndpointView {
	return EndpointView{ID: e.ID, OrgID: e.OrgID, URL: e.URL, Description: e.Description, CreatedAt: e.CreatedAt,
		DisabledAt: e.DisabledAt, Secret: e.Secret}
}

type deliveryPage struct {
	Items      []webhook.Delivery `json:"items"`
	NextCursor int64              `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// RegisterWebhooks adds the events feed, webhook endpoints and the delivery log to an API built
// by New, with the same authentication, problems and metrics.
func RegisterWebhooks(a huma.API, wh *webhook.Service, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: log}
	s.registerFeed(a, wh)
	s.registerEndpoints(a, wh)
	s.registerDeliveries(a, wh)
}

func (s *Server) registerFeed(a huma.API, wh *webhook.Service) {
	huma.Register(a, huma.Operation{OperationID: "list_events", Method: http.MethodGet, Path: "/v1/events",
		Summary: "Every event your organization may see, in commit order", Tags: []string{"Events"}, Security: bearerAuth,
		Description: "An order's events are shown to its buyer and supplier, an organization's own events to it, and " +
			"every event to platform staff. Poll with ?after=<next_cursor>: the feed never skips an event."},
		func(ctx context.Context, in *struct {
			After int64 `query:"after" minimum:"0" default:"0" doc:"The next_cursor of the previous page; 0 for the start."`
			Limit int   `query:"limit" minimum:"1" maximum:"100" default:"50"`
		}) (*struct{ Body feedPage }, error) {
			evs, err := wh.Events(ctx, actor(ctx), in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := feedPage{Items: make([]FeedEvent, len(evs)), NextCursor: in.After, HasMore: len(evs) == in.Limit}
			for i, e := range evs {
				page.Items[i] = FeedEvent{GlobalSeq: e.GlobalSeq, Stream: e.Stream, Seq: e.Seq, Type: e.Type, At: e.At, Payload: e.Payload}
				page.NextCursor = e.GlobalSeq
			}
			return &struct{ Body feedPage }{page}, nil
		})
}

func (s *Server) registerEndpoints(a huma.API, wh *webhook.Service) {
	tags := []string{"Webhooks"}
	huma.Register(a, huma.Operation{OperationID: "create_webhook_endpoint", Method: http.MethodPost, Path: "/v1/webhook-endpoints",
		Summary: "Register a URL to receive your organization's events; the signing secret is shown only here",
		Tags:    tags, Security: bearerAuth, DefaultStatus: http.StatusCreated,
		Description: "The URL must be https (plain http only to 127.0.0.1 or localhost), at most 2048 bytes, without " +
			"credentials. An organization has at most 10 enabled endpoints. Idempotent by key: a retry with the same " +
			"Idempotency-Key, URL and description registers nothing new and answers the endpoint registered the first " +
			"time, secret included; another URL or description under that key is 422 idempotency_key_reused."},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255" doc:"Unique per intended endpoint; a retry with the same key returns the first response."`
			Body           struct {
				URL         string `json:"url" doc:"https://…, at most 2048 bytes."`
				Description string `json:"description,omitempty" maxLength:"200"`
			}
		}) (*struct{ Body EndpointView }, error) {
			e, err := wh.CreateEndpoint(ctx, actor(ctx), in.IdempotencyKey, in.Body.URL, in.Body.Description)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body EndpointView }{endpointView(e)}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_webhook_endpoints", Method: http.MethodGet, Path: "/v1/webhook-endpoints",
		Summary: "Your organization's webhook endpoints, disabled ones too (never their secrets), oldest first", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			OrgID string `query:"org_id" maxLength:"64" doc:"Another organization's (admin only)."`
			After string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body endpointPage }, error) {
			es, next, err := wh.EndpointsPage(ctx, actor(ctx), in.OrgID, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := endpointPage{Items: make([]EndpointView, len(es)), NextCursor: next}
			for i, e := range es {
				page.Items[i] = endpointView(e)
			}
			return &struct{ Body endpointPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "delete_webhook_endpoint", Method: http.MethodDelete, Path: "/v1/webhook-endpoints/{id}",
		Summary: "Disable an endpoint: nothing more is sent to it, pending deliveries included", Tags: tags,
		Security: bearerAuth, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*struct{}, error) {
			if err := wh.DisableEndpoint(ctx, actor(ctx), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{}{}, nil
		})
}

func (s *Server) registerDeliveries(a huma.API, wh *webhook.Service) {
	tags := []string{"Webhooks"}
	huma.Register(a, huma.Operation{OperationID: "list_webhook_deliveries", Method: http.MethodGet, Path: "/v1/webhook-deliveries",
		Summary: "The delivery log of an endpoint: one entry per event, with its state, attempts and last answer", Tags: tags,
		Security: bearerAuth},
		func(ctx context.Context, in *struct {
			EndpointID string `query:"endpoint_id" required:"true" maxLength:"64"`
			After      int64  `query:"after" minimum:"0" default:"0" doc:"The next_cursor of the previous page."`
			Limit      int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
		}) (*struct{ Body deliveryPage }, error) {
			ds, err := wh.Deliveries(ctx, actor(ctx), webhook.DeliveryFilter{EndpointID: in.EndpointID, After: in.After, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := deliveryPage{Items: ds}
			if ds == nil {
				page.Items = []webhook.Delivery{}
			}
			if len(ds) == in.Limit {
				page.NextCursor = ds[len(ds)-1].ID
			}
			return &struct{ Body deliveryPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "redeliver_webhook", Method: http.MethodPost, Path: "/v1/webhook-deliveries/{id}/redeliver",
		Summary: "Send a dead or delivered delivery again, with a fresh attempt budget", Tags: tags, Security: bearerAuth,
		Description: "Later events of the same order wait until it is delivered again, so their order is kept. " +
			"Idempotent by key: a retry with the same Idempotency-Key sends nothing again and answers the delivery as it " +
			"is now (pending, or delivered by then); the key used for another delivery is 422 idempotency_key_reused."},
		func(ctx context.Context, in *struct {
			ID             int64  `path:"id" minimum:"1"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255" doc:"Unique per intended redelivery."`
		}) (*struct{ Body webhook.Delivery }, error) {
			d, err := wh.Redeliver(ctx, actor(ctx), in.IdempotencyKey, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body webhook.Delivery }{d}, nil
		})
}
