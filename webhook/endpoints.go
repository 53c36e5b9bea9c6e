package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/trade"
)

// ValidateURL applies the endpoint URL rule: an absolute https URL of at most URLMax bytes,
// without credentials or a fragment — or plain http to a loopback host (127.0.0.1, ::1,
// localhost), which only tests and local development can receive.
func ValidateURL(raw string) error {
	if len(raw) > URLMax {
		return fault.FieldErr("url", "webhook_url_too_long", "the URL has more than %d bytes", URLMax)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return fault.FieldErr("url", "webhook_url_invalid", "give an absolute URL, e.g. https://example.com/hooks")
	}
	if u.User != nil || u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return fault.FieldErr("url", "webhook_url_invalid", "the URL may not hold credentials, a fragment or spaces")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return fault.FieldErr("url", "webhook_url_not_https", "the URL must use https (plain http only to 127.0.0.1 or localhost)")
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// CreateEndpoint registers a URL at which a's organization receives its events from now on,
// idempotent by key: the same key with the same URL and description returns the endpoint the
// first call created (its secret too: secrets are stored to sign deliveries), another URL or
// description under that key is idempotency_key_reused. Keys share the organization's scope
// with its escrow commands.
func (s *Service) CreateEndpoint(ctx context.Context, a trade.Actor, key, rawURL, description string) (Endpoint, error) {
	if a.OrgID == "" || a.Role == trade.RoleSystem {
		return Endpoint{}, fault.New(fault.Forbidden, "role_not_allowed", "only an organization registers endpoints")
	}
	if err := checkKey(key); err != nil {
		return Endpoint{}, err
	}
	if err := ValidateURL(rawURL); err != nil {
		return Endpoint{}, err
	}
	if len(description) > DescriptionMax {
		return Endpoint{}, fault.FieldErr("description", "description_too_long", "at most %d bytes", DescriptionMax)
	}
	now := s.clock.Now()
	e := Endpoint{ID: "whe_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", ""), OrgID: a.OrgID,
		URL: rawURL, Secret: NewSecret(), Description: description, CreatedAt: now}
	cmd := command(a, key, now, "create_webhook_endpoint", rawURL, description)
	got, err := s.store.InsertEndpointOnce(ctx, e, EndpointsPerOrgMax, cmd)
	if errors.Is(err, escrow.ErrDuplicate) {
		// A concurrent run of the same key committed first: this one finds its endpoint.
		got, err = s.store.InsertEndpointOnce(ctx, e, EndpointsPerOrgMax, cmd)
	}
	switch {
	case errors.Is(err, ErrLimit):
		return Endpoint{}, fault.New(fault.Conflict, "webhook_endpoints_limit",
			"an organization has at most %d enabled endpoints; delete one first", EndpointsPerOrgMax)
	case errors.Is(err, ErrKeyReused):
		return Endpoint{}, keyReused()
	case err != nil:
		return Endpoint{}, fmt.Errorf("insert endpoint: %w", err)
	}
	return got, nil
}

// checkKey applies the idempotency key rule of escrow commands: 1 to escrow.KeyMax characters.
func checkKey(key string) error {
	if key == "" || len(key) > escrow.KeyMax {
		return fault.FieldErr("idempotency_key", "invalid_idempotency_key", "give an idempotency key of 1 to %d characters", escrow.KeyMax)
	}
	return nil
}

func keyReused() error {
	return fault.New(fault.Invalid, "idempotency_key_reused", "this idempotency key was used for a different request")
}

// command is the record of a keyed command: its request hash covers the operation and its
// arguments, so the same key for another operation or other arguments is told apart.
func command(a trade.Actor, key string, at time.Time, op string, args ...any) escrow.CommandRecord {
	b, err := json.Marshal(append([]any{op}, args...))
	if err != nil {
		panic(fmt.Sprintf("hash request: %v", err)) // requests are plain data
	}
	h := sha256.Sum256(b)
	return escrow.CommandRecord{Scope: a.OrgID, Key: key, RequestHash: hex.EncodeToString(h[:]), At: at}
}

// Endpoints lists the endpoints of orgID ("" for a's own), disabled ones too, without secrets.
// Only an admin lists another organization's.
func (s *Service) Endpoints(ctx context.Context, a trade.Actor, orgID string) ([]Endpoint, error) {
	if orgID == "" {
		orgID = a.OrgID
	}
	if orgID != a.OrgID && a.Role != trade.RoleAdmin {
		return nil, fault.New(fault.NotFound, "organization_not_found", "no such organization")
	}
	es, err := s.store.Endpoints(ctx, orgID, EndpointsListMax)
	for i := range es {
		es[i].Secret = ""
	}
	return es, err
}

// endpoint returns an endpoint a may manage: its organization's, or any for an admin.
func (s *Service) endpoint(ctx context.Context, a trade.Actor, id string) (Endpoint, error) {
	e, err := s.store.Endpoint(ctx, id)
	if errors.Is(err, escrow.ErrNotFound) || (err == nil && e.OrgID != a.OrgID && a.Role != trade.RoleAdmin) {
		return Endpoint{}, fault.New(fault.NotFound, "webhook_endpoint_not_found", "no such webhook endpoint")
	}
	e.Secret = ""
	return e, err
}

// DisableEndpoint stops all deliveries to an endpoint, pending ones included; it cannot be
// enabled again (register a new one).
func (s *Service) DisableEndpoint(ctx context.Context, a trade.Actor, id string) error {
	e, err := s.endpoint(ctx, a, id)
	if err != nil {
		return err
	}
	if e.DisabledAt != nil {
		return nil // deleting twice is not an error
	}
	err = s.store.DisableEndpoint(ctx, id, s.clock.Now())
	if errors.Is(err, escrow.ErrNotFound) {
		return nil // disabled concurrently
	}
	return err
}

// Deliveries lists the delivery log of an endpoint a may manage, oldest first.
func (s *Service) Deliveries(ctx context.Context, a trade.Actor, f DeliveryFilter) ([]Delivery, error) {
	if _, err := s.endpoint(ctx, a, f.EndpointID); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > escrow.PageSizeMax {
		f.Limit = escrow.PageSizeMax
	}
	return s.store.Deliveries(ctx, f)
}

// Redeliver sends a dead or delivered delivery again, now, with a fresh attempt budget,
// idempotent by key: a retry with the same key changes nothing and returns the delivery as it
// is now (so a redelivery that went out is not sent a third time); the key used for another
// delivery is idempotency_key_reused. While it is pending, later events of its order wait for
// it, as for any delivery.
func (s *Service) Redeliver(ctx context.Context, a trade.Actor, key string, id int64) (Delivery, error) {
	if err := checkKey(key); err != nil {
		return Delivery{}, err
	}
	d, err := s.store.Delivery(ctx, id)
	if errors.Is(err, escrow.ErrNotFound) || (err == nil && d.OrgID != a.OrgID && a.Role != trade.RoleAdmin) {
		return Delivery{}, fault.New(fault.NotFound, "webhook_delivery_not_found", "no such delivery")
	}
	if err != nil {
		return Delivery{}, err
	}
	e, err := s.endpoint(ctx, a, d.EndpointID)
	if err != nil {
		return Delivery{}, err
	}
	now := s.clock.Now()
	cmd := command(a, key, now, "redeliver_webhook", id)
	if e.DisabledAt != nil {
		return Delivery{}, fault.New(fault.Conflict, "webhook_endpoint_disabled", "the endpoint is disabled")
	}
	d, err = s.store.RedeliverOnce(ctx, id, now, cmd)
	if errors.Is(err, escrow.ErrDuplicate) {
		d, err = s.store.RedeliverOnce(ctx, id, now, cmd)
	}
	switch {
	case errors.Is(err, escrow.ErrConflict):
		return Delivery{}, fault.New(fault.Conflict, "webhook_delivery_pending", "the delivery is pending: it will be attempted anyway")
	case errors.Is(err, ErrKeyReused):
		return Delivery{}, keyReused()
	}
	return d, err
}

// Events returns up to limit events a's organization may see with GlobalSeq > after, in
// GlobalSeq order, which is commit order. Platform staff see every event.
func (s *Service) Events(ctx context.Context, a trade.Actor, after int64, limit int) ([]escrow.Event, error) {
	org := a.OrgID
	switch a.Role {
	case trade.RoleAdmin, trade.RoleArbiter, trade.RoleSystem:
		org = ledger.Platform // in every event's audience
	}
	if org == "" {
		return nil, fault.New(fault.Forbidden, "role_not_allowed", "only an organization reads events")
	}
	if after < 0 {
		return nil, fault.FieldErr("after", "invalid_cursor", "the cursor is a global_seq from a previous page")
	}
	if limit <= 0 || limit > FeedPageMax {
		limit = FeedPageMax
	}
	return s.store.OrgEvents(ctx, org, after, limit)
}

// EndpointsPage lists up to limit endpoints of orgID ("" for a's own) after the endpoint after,
// oldest first, disabled ones too, without secrets; next is the last one's ID when another page
// may follow. Only an admin lists another organization's.
func (s *Service) EndpointsPage(ctx context.Context, a trade.Actor, orgID, after string, limit int) (es []Endpoint, next string, err error) {
	if orgID == "" {
		orgID = a.OrgID
	}
	if orgID != a.OrgID && a.Role != trade.RoleAdmin {
		return nil, "", fault.New(fault.NotFound, "organization_not_found", "no such organization")
	}
	if limit <= 0 || limit > escrow.PageSizeMax {
		limit = escrow.PageSizeMax
	}
	es, err = s.store.EndpointsPage(ctx, orgID, after, limit)
	if err != nil {
		return nil, "", err
	}
	for i := range es {
		es[i].Secret = ""
	}
	if len(es) == limit {
		next = es[len(es)-1].ID
	}
	if es == nil {
		es = []Endpoint{}
	}
	return es, next, nil
}
