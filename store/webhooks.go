package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/webhook"
)

// webhookStore implements webhook.Store on the same database as the escrow store. Reads are one
// statement on the reader pool; writes that check before they change run in one transaction.
type webhookStore struct{ db *DB }

var _ webhook.Store = webhookStore{}

// Webhooks returns the store of the events feed, webhook endpoints and deliveries.
func (db *DB) Webhooks() webhook.Store { return webhookStore{db: db} }

const (
	endpointCols = `id, org_id, url, secret, description, created_at, disabled_at`
	deliveryCols = `id, endpoint_id, org_id, global_seq, stream, seq, state, attempts, next_attempt_at,
		lease_owner, lease_until, last_status, last_error, created_at, delivered_at`
)

// EnqueueDeliveries inserts a pending delivery of event (e.Stream, e.Seq), appended earlier in
// this transaction, for every enabled endpoint of an organization in e.Audience.
func (t *tx) EnqueueDeliveries(ctx context.Context, e escrow.Event) error {
	if len(e.Audience) == 0 {
		return nil
	}
	if len(e.Audience) > EventAudienceMax {
		return fmt.Errorf("enqueue deliveries: audience of %d, at most %d", len(e.Audience), EventAudienceMax) // a bug in the caller
	}
	args := []any{e.Stream, e.Seq, micros(e.At)}
	in := make([]string, len(e.Audience))
	for i, org := range e.Audience {
		args = append(args, org)
		in[i] = "$" + strconv.Itoa(len(args))
	}
	// The global_seq comes from the event row; ON CONFLICT makes a repeated call harmless.
	_, err := t.q.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, org_id, global_seq, stream, seq,
			state, attempts, next_attempt_at, lease_owner, lease_until, last_status, last_error, created_at, delivered_at)
		SELECT ep.id, ep.org_id, ev.global_seq, ev.stream, ev.seq, 'pending', 0, $3, '', NULL, 0, '', $3, NULL
		FROM webhook_endpoints ep, events ev
		WHERE ev.stream = $1 AND ev.seq = $2 AND ep.disabled_at IS NULL AND ep.org_id IN (`+strings.Join(in, ", ")+`)
		ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return t.fail(fmt.Errorf("enqueue deliveries of %s#%d: %w", e.Stream, e.Seq, err))
	}
	return nil
}

// OrgEvents lists up to limit events in orgID's audience after a global_seq, ascending.
func (s webhookStore) OrgEvents(ctx context.Context, orgID string, after int64, limit int) ([]escrow.Event, error) {
	var out []escrow.Event
	err := s.read(ctx, func(r reader) error {
		var err error
		out, err = r.events(ctx, `SELECT ev.global_seq, ev.stream, ev.seq, ev.type, ev.actor, ev.at, ev.payload,
				ev.prev_hash, ev.hash
			FROM event_audience au JOIN events ev ON ev.global_seq = au.global_seq
			WHERE au.org_id = $1 AND au.global_seq > $2 ORDER BY au.global_seq LIMIT $3`, orgID, after, clampLimit(limit))
		return err
	})
	return out, err
}

// read runs fn in a read-only transaction.
func (s webhookStore) read(ctx context.Context, fn func(reader) error) error {
	sqlTx, err := s.db.r.BeginTx(ctx, s.db.d.readOpts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	return fn(reader{db: s.db, q: sqlTx})
}

// InsertEndpoint stores e unless its organization has perOrgMax enabled endpoints already.
func (s webhookStore) InsertEndpoint(ctx context.Context, e webhook.Endpoint, perOrgMax int) error {
	return s.db.write(ctx, func(t *tx) error {
		if err := lockEndpoints(ctx, t, e.OrgID); err != nil {
			return err
		}
		return insertEndpoint(ctx, t, e, perOrgMax)
	})
}

// InsertEndpointOnce is InsertEndpoint recorded as an idempotent command; see webhook.Store.
func (s webhookStore) InsertEndpointOnce(ctx context.Context, e webhook.Endpoint, perOrgMax int, cmd escrow.CommandRecord) (webhook.Endpoint, error) {
	var out webhook.Endpoint
	err := s.db.write(ctx, func(t *tx) error {
		// The lock comes first, so a concurrent run of the same key finds this one's record.
		if err := lockEndpoints(ctx, t, e.OrgID); err != nil {
			return err
		}
		var id string
		done, err := recordedCommand(ctx, t, cmd, &id)
		if err != nil || done {
			if err == nil {
				out, err = scanEndpoint(t.q.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, id))
				err = t.fail(wrapNotFound(err, "webhook endpoint", id))
			}
			return err
		}
		if err := insertEndpoint(ctx, t, e, perOrgMax); err != nil {
			return err
		}
		if cmd.Result, err = json.Marshal(e.ID); err != nil {
			return err
		}
		out = e
		return t.SaveCommand(ctx, cmd)
	})
	return out, err
}

// lockEndpoints serializes the writes to one organization's endpoints on PostgreSQL: two
// concurrent inserts would both count perOrgMax−1 under READ COMMITTED; this lock makes the
// second count after the first commits. SQLite's single writer already does.
func lockEndpoints(ctx context.Context, t *tx, orgID string) error {
	if t.db.d != postgresDialect {
		return nil
	}
	if _, err := t.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
		"webhook_endpoints/"+orgID); err != nil {
		return t.fail(fmt.Errorf("lock endpoints of %q: %w", orgID, err))
	}
	return nil
}

func insertEndpoint(ctx context.Context, t *tx, e webhook.Endpoint, perOrgMax int) error {
	var n int
	if err := t.q.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints WHERE org_id = $1 AND disabled_at IS NULL`,
		e.OrgID).Scan(&n); err != nil {
		return t.fail(fmt.Errorf("count endpoints of %q: %w", e.OrgID, err))
	}
	if n >= perOrgMax {
		return webhook.ErrLimit
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO webhook_endpoints (`+endpointCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		e.ID, e.OrgID, e.URL, e.Secret, e.Description, micros(e.CreatedAt), optMicros(e.DisabledAt))
	if err != nil {
		return t.fail(insertErr("webhook endpoint", e.ID, err))
	}
	return changed(res, duplicate("webhook endpoint", e.ID))
}

// recordedCommand looks cmd's key up in the commands table: not done when it is not recorded;
// done with the recorded result decoded into result when it is, for the same request hash;
// done with webhook.ErrKeyReused when it was recorded for another request.
func recordedCommand(ctx context.Context, t *tx, cmd escrow.CommandRecord, result any) (bool, error) {
	rec, err := t.Command(ctx, cmd.Scope, cmd.Key)
	if err != nil || rec == nil {
		return false, err
	}
	if rec.RequestHash != cmd.RequestHash {
		return true, webhook.ErrKeyReused
	}
	if err := json.Unmarshal(rec.Result, result); err != nil {
		return true, fmt.Errorf("command %s/%s: %w", cmd.Scope, cmd.Key, err)
	}
	return true, nil
}

func wrapNotFound(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	if err != nil {
		return fmt.Errorf("select %s %q: %w", what, id, err)
	}
	return nil
}

// Endpoint reads an endpoint, secret included.
func (s webhookStore) Endpoint(ctx context.Context, id string) (webhook.Endpoint, error) {
	e, err := scanEndpoint(s.db.r.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return webhook.Endpoint{}, notFound("webhook endpoint", id)
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("select webhook endpoint %q: %w", id, err)
	}
	return e, nil
}

// Endpoints lists up to limit endpoints of an organization by creation time, then ID.
func (s webhookStore) Endpoints(ctx context.Context, orgID string, limit int) ([]webhook.Endpoint, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE org_id = $1
		ORDER BY created_at, id LIMIT $2`, orgID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("select webhook endpoints of %q: %w", orgID, err)
	}
	defer rows.Close()
	var out []webhook.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("scan webhook endpoint: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select webhook endpoints of %q: %w", orgID, err)
	}
	return out, nil
}

// DisableEndpoint marks an enabled endpoint disabled.
func (s webhookStore) DisableEndpoint(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.w.ExecContext(ctx, `UPDATE webhook_endpoints SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL`,
		id, micros(at))
	if err != nil {
		return fmt.Errorf("disable webhook endpoint %q: %w", id, err)
	}
	return changed(res, notFound("enabled webhook endpoint", id))
}

func scanEndpoint(row interface{ Scan(...any) error }) (webhook.Endpoint, error) {
	var e webhook.Endpoint
	var created int64
	var disabled sql.NullInt64
	if err := row.Scan(&e.ID, &e.OrgID, &e.URL, &e.Secret, &e.Description, &created, &disabled); err != nil {
		return webhook.Endpoint{}, err
	}
	e.CreatedAt, e.DisabledAt = fromMicros(created), fromOptMicros(disabled)
	return e, nil
}

// Delivery reads one delivery.
func (s webhookStore) Delivery(ctx context.Context, id int64) (webhook.Delivery, error) {
	d, err := scanDelivery(s.db.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return webhook.Delivery{}, notFound("webhook delivery", strconv.FormatInt(id, 10))
	}
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("select webhook delivery %d: %w", id, err)
	}
	return d, nil
}

// Deliveries lists a page of an endpoint's deliveries by ID.
func (s webhookStore) Deliveries(ctx context.Context, f webhook.DeliveryFilter) ([]webhook.Delivery, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries
		WHERE endpoint_id = $1 AND id > $2 ORDER BY id LIMIT $3`, f.EndpointID, f.After, clampLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select webhook deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// Redeliver makes a dead or delivered delivery pending again.
func (s webhookStore) Redeliver(ctx context.Context, id int64, at time.Time) (webhook.Delivery, error) {
	var d webhook.Delivery
	err := s.db.write(ctx, func(t *tx) error {
		var err error
		d, err = redeliver(ctx, t, id, at)
		return err
	})
	return d, err
}

// RedeliverOnce is Redeliver recorded as an idempotent command; see webhook.Store.
func (s webhookStore) RedeliverOnce(ctx context.Context, id int64, at time.Time, cmd escrow.CommandRecord) (webhook.Delivery, error) {
	var d webhook.Delivery
	err := s.db.write(ctx, func(t *tx) error {
		var recorded int64
		done, err := recordedCommand(ctx, t, cmd, &recorded)
		if !done && err == nil {
			d, err = redeliver(ctx, t, id, at)
			if errors.Is(err, escrow.ErrConflict) {
				// On PostgreSQL a concurrent run of the same key may have made it pending while
				// this one waited for the row: then it is that run's answer, not a conflict.
				if done, rerr := recordedCommand(ctx, t, cmd, &recorded); done {
					err = rerr
				}
			} else if err == nil {
				if cmd.Result, err = json.Marshal(id); err != nil {
					return err
				}
				return t.SaveCommand(ctx, cmd)
			}
		}
		if err != nil {
			return err
		}
		d, err = scanDelivery(t.q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, recorded))
		return t.fail(wrapNotFound(err, "webhook delivery", strconv.FormatInt(recorded, 10)))
	})
	return d, err
}

func redeliver(ctx context.Context, t *tx, id int64, at time.Time) (webhook.Delivery, error) {
	d, err := scanDelivery(t.q.QueryRowContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', attempts = 0,
			next_attempt_at = $2, lease_owner = '', lease_until = NULL, delivered_at = NULL
		WHERE id = $1 AND state IN ('dead', 'delivered') RETURNING `+deliveryCols, id, micros(at)))
	if err == nil {
		return d, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return d, t.fail(fmt.Errorf("redeliver %d: %w", id, err))
	}
	var state string
	err = t.q.QueryRowContext(ctx, `SELECT state FROM webhook_deliveries WHERE id = $1`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("webhook delivery", strconv.FormatInt(id, 10))
	}
	if err != nil {
		return d, t.fail(fmt.Errorf("select webhook delivery %d: %w", id, err))
	}
	return d, fmt.Errorf("redeliver %d: it is %s: %w", id, state, escrow.ErrConflict)
}

// deliveryOutbox claims the deliveries that are due and first in line for their endpoint and
// stream, and returns their IDs. A delivery leased by another claimer is pending, so the next one
// of its stream waits for it.
var deliveryOutbox = outbox[int64]{
	what: "deliveries", table: "webhook_deliveries", from: "webhook_deliveries d", key: "id", cols: "id", scan: scanID,
	lease: leaseTo,
	due: `d.state = 'pending' AND d.next_attempt_at <= $3 AND (d.lease_until IS NULL OR d.lease_until < $3)
		AND EXISTS (SELECT 1 FROM webhook_endpoints ep WHERE ep.id = d.endpoint_id AND ep.disabled_at IS NULL)
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
			AND p.stream = d.stream AND p.seq < d.seq AND p.state <> 'delivered')`,
	order: `d.next_attempt_at, d.id`, batchMax: escrow.PageSizeMax,
}

// ClaimDeliveries leases due deliveries, at most one per endpoint and stream; see webhook.Store.
func (s webhookStore) ClaimDeliveries(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]webhook.Job, error) {
	if err := checkLease(deliveryOutbox.what, owner, lease); err != nil {
		return nil, err
	}
	var out []webhook.Job
	err := s.db.write(ctx, func(t *tx) error {
		out = nil
		ids, err := claimDueIn(ctx, t, deliveryOutbox, now, owner, lease, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		out, err = t.jobs(ctx, ids)
		return t.fail(err)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, byDue(func(j webhook.Job) (time.Time, int64) { return j.NextAttemptAt, j.ID })) // as claimed
	return out, nil
}

// jobs reads claimed deliveries with their endpoint's URL and secret and their event.
func (t *tx) jobs(ctx context.Context, ids []int64) ([]webhook.Job, error) {
	args := make([]any, len(ids))
	in := make([]string, len(ids))
	for i, id := range ids {
		args[i], in[i] = id, "$"+strconv.Itoa(i+1)
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+prefixed("d.", deliveryCols)+`, ep.url, ep.secret, ev.type, ev.at, ev.payload
		FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
		JOIN events ev ON ev.global_seq = d.global_seq
		WHERE d.id IN (`+strings.Join(in, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("select claimed deliveries: %w", err)
	}
	defer rows.Close()
	var out []webhook.Job
	for rows.Next() {
		var j webhook.Job
		var at int64
		var payload string
		d, err := scanDeliveryWith(rows, &j.URL, &j.Secret, &j.Type, &at, &payload)
		if err != nil {
			return nil, fmt.Errorf("scan claimed delivery: %w", err)
		}
		j.Delivery, j.At, j.Payload = d, fromMicros(at), fromRawText(payload)
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select claimed deliveries: %w", err)
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("claimed %d deliveries, read %d back", len(ids), len(out)) // an event or endpoint row is missing
	}
	return out, nil
}

// FinishDelivery records an attempt's outcome if owner still holds the delivery.
func (s webhookStore) FinishDelivery(ctx context.Context, id int64, owner string, o webhook.Outcome) error {
	next := o.At
	var delivered any
	switch o.State {
	case webhook.Pending:
		next = o.NextAttemptAt
	case webhook.Delivered:
		delivered = micros(o.At)
	case webhook.Dead:
	default:
		return fmt.Errorf("finish delivery %d: state %q", id, o.State) // a bug in the caller
	}
	res, err := s.db.w.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $3, next_attempt_at = $4,
			lease_owner = '', lease_until = NULL, last_status = $5, last_error = $6, delivered_at = $7
		WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
		id, owner, string(o.State), micros(next), o.Status, o.Error, delivered)
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", id, err)
	}
	return changed(res, notFound("webhook delivery claimed by "+owner, strconv.FormatInt(id, 10)))
}

// prefixed qualifies each column of a list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// scanID reads a row's one int64 column: its key.
func scanID(r scanner) (id int64, err error) {
	err = r.Scan(&id)
	return id, err
}

func scanDeliveries(rows *sql.Rows) ([]webhook.Delivery, error) {
	return scanAll(rows, "webhook deliveries", func(r scanner) (webhook.Delivery, error) { return scanDelivery(r) })
}

func scanDelivery(row interface{ Scan(...any) error }) (webhook.Delivery, error) {
	return scanDeliveryWith(row)
}

// scanDeliveryWith scans deliveryCols and then extra columns into extra.
func scanDeliveryWith(row interface{ Scan(...any) error }, extra ...any) (webhook.Delivery, error) {
	var d webhook.Delivery
	var state string
	var next, created int64
	var lease, delivered sql.NullInt64
	dest := append([]any{&d.ID, &d.EndpointID, &d.OrgID, &d.GlobalSeq, &d.Stream, &d.Seq, &state, &d.Attempts, &next,
		&d.LeaseOwner, &lease, &d.LastStatus, &d.LastError, &created, &delivered}, extra...)
	if err := row.Scan(dest...); err != nil {
		return webhook.Delivery{}, err
	}
	d.EventID = webhook.EventID(d.GlobalSeq)
	d.State, d.NextAttemptAt, d.CreatedAt = webhook.State(state), fromMicros(next), fromMicros(created)
	d.LeaseUntil, d.DeliveredAt = fromNullMicros(lease), fromOptMicros(delivered)
	return d, nil
}
