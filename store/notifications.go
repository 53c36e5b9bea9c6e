package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

// notifyStore implements notify.Store on the same database as the escrow store.
type notifyStore struct{ db *DB }

var _ notify.Store = notifyStore{}

// Notifications returns the store of notifications, their email outbox and reminders.
func (db *DB) Notifications() notify.Store { return notifyStore{db: db} }

// notifyTx is a write transaction as the notifier sees it: the escrow reads plus its own writes.
type notifyTx struct{ *tx }

var _ notify.Tx = notifyTx{}

const notificationCols = `id, user_id, org_id, order_id, kind, title, body, link, dedupe, created_at, read_at`

// HandleEvents locks the cursor, hands fn the events after it and moves it past them.
func (s notifyStore) HandleEvents(ctx context.Context, limit int, fn func(notify.Tx, []escrow.Event) error) (int, error) {
	if ok, err := s.any(ctx, `SELECT 1 FROM events WHERE global_seq > (SELECT global_seq FROM notification_cursor WHERE id = 1)`); !ok {
		return 0, err
	}
	var n int
	err := s.db.write(ctx, func(t *tx) error {
		n = 0
		var cur int64
		// FOR UPDATE on PostgreSQL: a second handler waits here and then reads the moved cursor.
		err := t.q.QueryRowContext(ctx, `SELECT global_seq FROM notification_cursor WHERE id = 1`+t.db.d.forUpdate).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return notify.ErrNoCursor
		}
		if err != nil {
			return t.fail(fmt.Errorf("lock notification cursor: %w", err))
		}
		evs, err := t.EventsAfter(ctx, cur, limit)
		if err != nil || len(evs) == 0 {
			return t.fail(err)
		}
		if err := fn(notifyTx{t}, evs); err != nil {
			return err
		}
		if _, err := t.q.ExecContext(ctx, `UPDATE notification_cursor SET global_seq = $1 WHERE id = 1`,
			evs[len(evs)-1].GlobalSeq); err != nil {
			return t.fail(fmt.Errorf("move notification cursor: %w", err))
		}
		n = len(evs)
		return nil
	})
	return n, err
}

// HandleReminders locks the due reminders (skipping those another handler holds) for fn.
func (s notifyStore) HandleReminders(ctx context.Context, now time.Time, limit int, fn func(notify.Tx, []notify.Reminder) error) (int, error) {
	if ok, err := s.any(ctx, `SELECT 1 FROM notification_reminders WHERE state = 'pending' AND due_at <= $1`, micros(now)); !ok {
		return 0, err
	}
	var n int
	err := s.db.write(ctx, func(t *tx) error {
		n = 0
		rows, err := t.q.QueryContext(ctx, `SELECT key, kind, order_id, ref, due_at FROM notification_reminders
			WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, key LIMIT $2`+t.db.d.skipLocked,
			micros(now), clampLimit(limit))
		if err != nil {
			return t.fail(fmt.Errorf("select due reminders: %w", err))
		}
		var rs []notify.Reminder
		for rows.Next() {
			var r notify.Reminder
			var kind string
			var due int64
			if err := rows.Scan(&r.Key, &kind, &r.OrderID, &r.Ref, &due); err != nil {
				rows.Close()
				return t.fail(fmt.Errorf("scan reminder: %w", err))
			}
			r.Kind, r.DueAt = notify.Kind(kind), fromMicros(due)
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(rs) == 0 {
			return t.fail(err)
		}
		if err := fn(notifyTx{t}, rs); err != nil {
			return err
		}
		n = len(rs)
		return nil
	})
	return n, err
}

// any reports whether query (SELECT 1 …) finds a row, on the reader pool: an idle notifier then
// takes no write lock (SQLite has one writer for everything). A row it misses, committed just
// now, is found on the next round.
func (s notifyStore) any(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.db.r.QueryRowContext(ctx, query+` LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for notifier work: %w", err)
	}
	return true, nil
}

// Users lists enabled users of an organization with one of roles.
func (t notifyTx) Users(ctx context.Context, orgID string, roles []trade.Role, limit int) ([]notify.User, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	args := []any{orgID, clampLimit(limit)}
	in := make([]string, len(roles))
	for i, r := range roles {
		args = append(args, string(r))
		in[i] = "$" + strconv.Itoa(len(args))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT id, org_id, email, name, role FROM users
		WHERE org_id = $1 AND disabled_at IS NULL AND role IN (`+strings.Join(in, ", ")+`) ORDER BY id LIMIT $2`, args...)
	if err != nil {
		return nil, t.fail(fmt.Errorf("select users of %q: %w", orgID, err))
	}
	defer rows.Close()
	var out []notify.User
	for rows.Next() {
		var u notify.User
		var role string
		if err := rows.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &role); err != nil {
			return nil, t.fail(fmt.Errorf("scan user: %w", err))
		}
		u.Role = trade.Role(role)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(fmt.Errorf("select users of %q: %w", orgID, err))
	}
	return out, nil
}

// InsertNotification stores n unless the user has one from the same source already.
func (t notifyTx) InsertNotification(ctx context.Context, n notify.Notification) (int64, error) {
	var id int64
	err := t.q.QueryRowContext(ctx, `INSERT INTO notifications
			(user_id, org_id, order_id, kind, title, body, link, dedupe, created_at, read_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL) ON CONFLICT DO NOTHING RETURNING id`,
		n.UserID, n.OrgID, n.OrderID, string(n.Kind), n.Title, n.Body, n.Link, n.Dedupe, micros(n.CreatedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.fail(insertErr("notification", n.Dedupe, err))
	}
	return id, nil
}

// EnqueueEmail queues a notification's email.
func (t notifyTx) EnqueueEmail(ctx context.Context, id int64, to, name string, at time.Time) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO notification_emails (notification_id, to_addr, to_name, state, attempts,
			next_attempt_at, lease_owner, lease_until, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, 'pending', 0, $4, '', NULL, '', $4, NULL) ON CONFLICT DO NOTHING`, id, to, name, micros(at))
	if err != nil {
		return t.fail(fmt.Errorf("enqueue email of notification %d: %w", id, err))
	}
	return nil
}

// PutReminder schedules a reminder unless its key exists.
func (t notifyTx) PutReminder(ctx context.Context, r notify.Reminder) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO notification_reminders (key, kind, order_id, ref, due_at, state, outcome, done_at)
		VALUES ($1, $2, $3, $4, $5, 'pending', '', NULL) ON CONFLICT DO NOTHING`,
		r.Key, string(r.Kind), r.OrderID, r.Ref, micros(r.DueAt))
	if err != nil {
		return t.fail(fmt.Errorf("put reminder %q: %w", r.Key, err))
	}
	return nil
}

// FinishReminder marks a reminder done.
func (t notifyTx) FinishReminder(ctx context.Context, key, outcome string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE notification_reminders SET state = 'done', outcome = $2, done_at = $3
		WHERE key = $1 AND state = 'pending'`, key, outcome, micros(at))
	if err != nil {
		return t.fail(fmt.Errorf("finish reminder %q: %w", key, err))
	}
	return changed(res, notFound("pending reminder", key))
}

// emailOutbox claims due emails and returns their notifications' IDs.
var emailOutbox = outbox[int64]{
	what: "emails", table: "notification_emails", key: "notification_id", cols: "notification_id", scan: scanID,
	lease: leaseTo, due: `state = 'pending' AND ` + dueNow, order: `next_attempt_at, notification_id`,
	batchMax: escrow.PageSizeMax,
}

// ClaimEmails leases due emails, counting an attempt for each.
func (s notifyStore) ClaimEmails(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]notify.Email, error) {
	if err := checkLease(emailOutbox.what, owner, lease); err != nil {
		return nil, err
	}
	if ok, err := s.any(ctx, `SELECT 1 FROM notification_emails WHERE state = 'pending' AND next_attempt_at <= $1
			AND (lease_until IS NULL OR lease_until < $1)`, micros(now)); !ok {
		return nil, err
	}
	var out []notify.Email
	err := s.db.write(ctx, func(t *tx) error {
		out = nil
		ids, err := claimDueIn(ctx, t, emailOutbox, now, owner, lease, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			e, err := scanEmail(t.q.QueryRowContext(ctx, emailSelect+` WHERE e.notification_id = $1`, id))
			if err != nil {
				return t.fail(fmt.Errorf("read claimed email %d: %w", id, err))
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

var emailSelect = `SELECT e.notification_id, e.to_addr, e.to_name, e.state, e.attempts, e.next_attempt_at, e.last_error,
		e.sent_at, (u.id IS NULL OR u.disabled_at IS NOT NULL), ` + prefixedCols + `
	FROM notification_emails e JOIN notifications n ON n.id = e.notification_id LEFT JOIN users u ON u.id = n.user_id`

var prefixedCols = prefixed("n.", notificationCols)

func scanEmail(row interface{ Scan(...any) error }) (notify.Email, error) {
	var e notify.Email
	var state string
	var next int64
	var sent sql.NullInt64
	n, err := scanNotificationWith(row, &e.NotificationID, &e.To, &e.Name, &state, &e.Attempts, &next, &e.LastError, &sent, &e.Disabled)
	if err != nil {
		return notify.Email{}, err
	}
	e.State, e.NextAttemptAt, e.SentAt, e.Notification = notify.EmailState(state), fromMicros(next), fromOptMicros(sent), n
	return e, nil
}

// FinishEmail records an attempt's outcome if owner still holds the email.
func (s notifyStore) FinishEmail(ctx context.Context, id int64, owner string, o notify.EmailOutcome) error {
	next := o.At
	var sent any
	switch o.State {
	case notify.EmailPending:
		next = o.NextAttemptAt
	case notify.EmailSent:
		sent = micros(o.At)
	case notify.EmailDead:
	default:
		return fmt.Errorf("finish email %d: state %q", id, o.State) // a bug in the caller
	}
	res, err := s.db.w.ExecContext(ctx, `UPDATE notification_emails SET state = $3, next_attempt_at = $4,
			lease_owner = '', lease_until = NULL, last_error = $5, sent_at = $6
		WHERE notification_id = $1 AND lease_owner = $2 AND state = 'pending'`,
		id, owner, string(o.State), micros(next), o.Error, sent)
	if err != nil {
		return fmt.Errorf("finish email %d: %w", id, err)
	}
	return changed(res, notFound("email claimed by "+owner, strconv.FormatInt(id, 10)))
}

// Email reads one outbox row with its notification.
func (s notifyStore) Email(ctx context.Context, id int64) (notify.Email, error) {
	e, err := scanEmail(s.db.r.QueryRowContext(ctx, emailSelect+` WHERE e.notification_id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return notify.Email{}, notFound("notification email", strconv.FormatInt(id, 10))
	}
	if err != nil {
		return notify.Email{}, fmt.Errorf("select email %d: %w", id, err)
	}
	return e, nil
}

// Notifications lists a page of notifications, newest first.
func (s notifyStore) Notifications(ctx context.Context, f notify.Filter) ([]notify.Notification, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.OrgID != "" {
		add("org_id = ?", f.OrgID)
	}
	if len(where) == 0 {
		return nil, fmt.Errorf("list notifications: want a user or an organization") // a bug in the caller
	}
	switch f.State {
	case notify.Unread:
		where = append(where, "read_at IS NULL")
	case notify.Read:
		where = append(where, "read_at IS NOT NULL")
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	args = append(args, clampLimit(f.Limit))
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("select notifications: %w", err)
	}
	defer rows.Close()
	var out []notify.Notification
	for rows.Next() {
		n, err := scanNotificationWith(rows)
		if err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select notifications: %w", err)
	}
	return out, nil
}

// Notification reads one notification.
func (s notifyStore) Notification(ctx context.Context, id int64) (notify.Notification, error) {
	n, err := scanNotificationWith(s.db.r.QueryRowContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return notify.Notification{}, notFound("notification", strconv.FormatInt(id, 10))
	}
	if err != nil {
		return notify.Notification{}, fmt.Errorf("select notification %d: %w", id, err)
	}
	return n, nil
}

// MarkRead sets read_at once.
func (s notifyStore) MarkRead(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.w.ExecContext(ctx, `UPDATE notifications SET read_at = $2 WHERE id = $1 AND read_at IS NULL`, id, micros(at))
	if err != nil {
		return fmt.Errorf("mark notification %d read: %w", id, err)
	}
	return nil
}

// MarkAllRead marks a user's unread notifications up to an ID read.
func (s notifyStore) MarkAllRead(ctx context.Context, userID string, upTo int64, at time.Time) (int, error) {
	res, err := s.db.w.ExecContext(ctx, `UPDATE notifications SET read_at = $3
		WHERE user_id = $1 AND id <= $2 AND read_at IS NULL`, userID, upTo, micros(at))
	if err != nil {
		return 0, fmt.Errorf("mark notifications of %q read: %w", userID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Unread counts a user's unread notifications, at most max.
func (s notifyStore) Unread(ctx context.Context, userID string, max int) (int, error) {
	var n int
	err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM notifications
		WHERE user_id = $1 AND read_at IS NULL LIMIT $2) AS unread`, userID, max).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications of %q: %w", userID, err)
	}
	return n, nil
}

// scanNotificationWith scans extra columns, then notificationCols.
func scanNotificationWith(row interface{ Scan(...any) error }, extra ...any) (notify.Notification, error) {
	var n notify.Notification
	var kind string
	var created int64
	var read sql.NullInt64
	dest := append(extra, &n.ID, &n.UserID, &n.OrgID, &n.OrderID, &kind, &n.Title, &n.Body, &n.Link, &n.Dedupe, &created, &read)
	if err := row.Scan(dest...); err != nil {
		return notify.Notification{}, err
	}
	n.Kind, n.CreatedAt, n.ReadAt = notify.Kind(kind), fromMicros(created), fromOptMicros(read)
	return n, nil
}
