// Package webhook tells organizations what happened to their orders: the events feed they can
// page through, and webhook deliveries signed as Standard Webhooks. The escrow use cases queue a
// delivery for every enabled endpoint of an event's audience in the event's own transaction
// (escrow.Tx.EnqueueDeliveries); the dispatcher here claims due deliveries with a lease, sends
// them, and records each outcome. Delivery is at least once, in per-stream (per-order) seq
// order for each endpoint, with exponential backoff and a give-up limit.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeassure/tradeassure/escrow"
)

// Limits.
const (
	EndpointsPerOrgMax = 10                 // enabled endpoints one organization may have
	EndpointsListMax   = 100                // endpoints listed, disabled ones included, oldest first
	URLMax             = 2048               // bytes of an endpoint URL
	DescriptionMax     = 200                // bytes of an endpoint's description
	AttemptsMax        = 12                 // failed attempts before a delivery is dead
	BackoffBase        = 30 * time.Second   // wait after the first failure; doubles after each
	BackoffMax         = 8 * time.Hour      // the longest wait between two attempts
	SendTimeout        = 10 * time.Second   // one HTTP attempt, connect to last byte
	ClaimBatchMax      = 50                 // deliveries claimed at once
	SendConcurrency    = 8                  // deliveries in flight at once per dispatcher
	Lease              = 2 * time.Minute    // a claim holds this long; longer than a batch takes
	ResponseMax        = 4 << 10            // bytes of a receiver's response read (and dropped)
	ErrorTextMax       = 500                // bytes of last_error kept
	FeedPageMax        = escrow.PageSizeMax // events per page of the feed
)

// Errors a Store returns besides escrow.ErrNotFound and escrow.ErrConflict.
var (
	ErrLimit     = errors.New("limit reached")
	ErrKeyReused = errors.New("idempotency key recorded for another request")
)

// Endpoint is a URL an organization receives its events at.
type Endpoint struct {
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	URL         string     `json:"url"`
	Secret      string     `json:"-"` // whsec_…: shown once, when the endpoint is created
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
}

// State is where a delivery is.
type State string

const (
	Pending   State = "pending"   // waiting for its first or next attempt (or for an earlier seq)
	Delivered State = "delivered" // the endpoint answered 2xx
	Dead      State = "dead"      // failed AttemptsMax times; redeliver to try again
)

// Delivery is one event for one endpoint: the outbox row and, once tried, its log entry.
type Delivery struct {
	ID            int64      `json:"id"`
	EndpointID    string     `json:"endpoint_id"`
	OrgID         string     `json:"org_id"`
	EventID       string     `json:"event_id" doc:"The webhook-id header: the same on every attempt."`
	GlobalSeq     int64      `json:"global_seq"`
	Stream        string     `json:"stream"`
	Seq           int64      `json:"seq"`
	State         State      `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LeaseOwner    string     `json:"-"`
	LeaseUntil    time.Time  `json:"-"`
	LastStatus    int        `json:"last_status,omitempty" doc:"The HTTP status of the last attempt; 0 when none came back."`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// EventID is the stable message ID of an event: the webhook-id header, the same on every
// attempt and for every endpoint, so receivers can drop repeats.
func EventID(globalSeq int64) string { return "evt_" + strconv.FormatInt(globalSeq, 10) }

// Job is a claimed delivery with what it takes to send it.
type Job struct {
	Delivery
	URL    string
	Secret string
	Type   string
	At     time.Time
	// Payload is the event's payload as stored.
	Payload json.RawMessage
}

// Outcome is how an attempt ended, as the dispatcher records it.
type Outcome struct {
	State         State
	NextAttemptAt time.Time // when State is Pending
	Status        int
	Error         string
	At            time.Time
}

// DeliveryFilter selects a page of the delivery log.
type DeliveryFilter struct {
	EndpointID string
	After      int64 // the last ID of the previous page
	Limit      int
}

// Store is the persistence of events for organizations, endpoints and deliveries. The package
// store implements it for SQLite and PostgreSQL; its conformance tests run on both.
type Store interface {
	// OrgEvents lists up to limit events in orgID's audience with GlobalSeq > after, ascending.
	OrgEvents(ctx context.Context, orgID string, after int64, limit int) ([]escrow.Event, error)
	// InsertEndpoint stores e unless its organization has perOrgMax enabled endpoints already
	// (ErrLimit), checked and inserted atomically; escrow.ErrDuplicate when e.ID exists.
	InsertEndpoint(ctx context.Context, e Endpoint, perOrgMax int) error
	// InsertEndpointOnce is InsertEndpoint as an idempotent command: cmd (scope, key, request
	// hash) is recorded in the endpoint's transaction, in the commands table the escrow
	// commands use. When its key is recorded already nothing is inserted: the endpoint that
	// key created is returned, secret included, or ErrKeyReused if the request hash differs.
	// escrow.ErrDuplicate when a concurrent run of the key committed first (run it again).
	InsertEndpointOnce(ctx context.Context, e Endpoint, perOrgMax int, cmd escrow.CommandRecord) (Endpoint, error)
	Endpoint(ctx context.Context, id string) (Endpoint, error) // escrow.ErrNotFound
	// Endpoints lists an organization's endpoints, disabled ones too, oldest first.
	Endpoints(ctx context.Context, orgID string, limit int) ([]Endpoint, error)
	// EndpointsPage lists up to limit endpoints after the endpoint after, in the same order.
	EndpointsPage(ctx context.Context, orgID, after string, limit int) ([]Endpoint, error)
	// DisableEndpoint stops deliveries to an endpoint; escrow.ErrNotFound when it does not
	// exist or is disabled already.
	DisableEndpoint(ctx context.Context, id string, at time.Time) error
	Delivery(ctx context.Context, id int64) (Delivery, error) // escrow.ErrNotFound
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// Redeliver makes a dead or delivered delivery pending again, due at, with a fresh
	// attempt count; escrow.ErrConflict when it is pending, escrow.ErrNotFound when absent.
	Redeliver(ctx context.Context, id int64, at time.Time) (Delivery, error)
	// RedeliverOnce is Redeliver as an idempotent command recorded like InsertEndpointOnce's:
	// a recorded key changes nothing and returns the delivery as it is now (ErrKeyReused if
	// the key was recorded for another request).
	RedeliverOnce(ctx context.Context, id int64, at time.Time, cmd escrow.CommandRecord) (Delivery, error)
	// ClaimDeliveries leases up to limit due deliveries to owner until now+lease, counting an
	// attempt for each. Due: pending, next_attempt_at <= now, not leased (or the lease has
	// run out), its endpoint enabled, and no delivery of the same endpoint and stream with a
	// lower seq undelivered — so each endpoint gets a stream's events one at a time, in order.
	// Concurrent claimers never get the same delivery (SKIP LOCKED on PostgreSQL, the single
	// writer on SQLite).
	ClaimDeliveries(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]Job, error)
	// FinishDelivery records an attempt's outcome if owner still holds the delivery, else
	// returns escrow.ErrNotFound (its lease ran out and someone else took it over).
	FinishDelivery(ctx context.Context, id int64, owner string, o Outcome) error
}

// Options configure a Service.
type Options struct {
	Clock  escrow.Clock
	Logger *slog.Logger
	// Client sends the deliveries; nil means one with SendTimeout that follows no redirects.
	Client *http.Client
	// Outcomes, if set, counts attempts by outcome: delivered, retry, dead (label "outcome").
	Outcomes *prometheus.CounterVec
	// AllowPrivateNetworks lets the default client connect to loopback, private and link-local
	// addresses: for tests and the demo. Otherwise an endpoint that resolves to one fails its
	// attempts, so a tenant cannot make the platform call its own internal services.
	AllowPrivateNetworks bool
}

// Service runs the events feed, the endpoints and the dispatcher.
type Service struct {
	store    Store
	clock    escrow.Clock
	log      *slog.Logger
	client   *http.Client
	outcomes *prometheus.CounterVec
}

// New returns a Service over s.
func New(s Store, opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = escrow.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Client == nil {
		opt.Client = newClient(opt.AllowPrivateNetworks)
	}
	return &Service{store: s, clock: opt.Clock, log: opt.Logger, client: opt.Client, outcomes: opt.Outcomes}
}

// NewOutcomeCounter returns the counter of delivery attempts by outcome, registered with reg
// when reg is not nil.
func NewOutcomeCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_webhook_attempts_total",
		Help: "Webhook delivery attempts by outcome: delivered, retry, dead."}, []string{"outcome"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}
