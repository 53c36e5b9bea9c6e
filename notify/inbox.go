package notify

import (
	"context"
	"errors"
	"strconv"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
)

// Scope is whose notifications a caller may read: a person's own (the portal), or every one of
// an organization's people (an API key, which belongs to the organization, not to a person).
type Scope struct {
	UserID string
	OrgID  string
}

// UserScope is a person's own notifications.
func UserScope(userID string) Scope { return Scope{UserID: userID} }

// OrgScope is the notifications of every user of an organization.
func OrgScope(orgID string) Scope { return Scope{OrgID: orgID} }

func (sc Scope) owns(n Notification) bool {
	return sc.UserID != "" && n.UserID == sc.UserID || sc.UserID == "" && sc.OrgID != "" && n.OrgID == sc.OrgID
}

func notFound(id int64) error {
	return fault.New(fault.NotFound, "notification_not_found", "no notification %d", id)
}

// List returns a page of the scope's notifications, newest first: those with an ID below
// before (0: from the newest), read, unread or either, at most limit (1..PageSizeMax).
// userID, with an organization scope, narrows it to one of its users.
func (s *Service) List(ctx context.Context, sc Scope, userID string, state ReadState, before int64, limit int) ([]Notification, error) {
	if sc.UserID == "" && sc.OrgID == "" {
		return nil, fault.New(fault.Forbidden, "no_scope", "notifications belong to a user or an organization")
	}
	if limit < 1 || limit > PageSizeMax {
		return nil, fault.FieldErr("limit", "invalid_limit", "limit is 1 to %d", PageSizeMax)
	}
	if before < 0 {
		return nil, fault.FieldErr("before", "invalid_cursor", "before is a notification ID from an earlier page")
	}
	if state != AnyState && state != Unread && state != Read {
		return nil, fault.FieldErr("state", "invalid_state", "state is read or unread")
	}
	f := Filter{UserID: sc.UserID, OrgID: sc.OrgID, State: state, Before: before, Limit: limit}
	if sc.UserID == "" && userID != "" {
		f.UserID = userID
	}
	return s.store.Notifications(ctx, f)
}

// Get returns one notification of the scope; another's is not found, exactly like a missing one.
func (s *Service) Get(ctx context.Context, sc Scope, id int64) (Notification, error) {
	n, err := s.store.Notification(ctx, id)
	if errors.Is(err, escrow.ErrNotFound) || err == nil && !sc.owns(n) {
		return Notification{}, notFound(id)
	}
	return n, err
}

// MarkRead marks a notification of the scope read, once: marking it again changes nothing.
func (s *Service) MarkRead(ctx context.Context, sc Scope, id int64) (Notification, error) {
	n, err := s.Get(ctx, sc, id)
	if err != nil {
		return Notification{}, err
	}
	if n.ReadAt != nil {
		return n, nil
	}
	if err := s.store.MarkRead(ctx, id, s.clock.Now()); err != nil {
		return Notification{}, err
	}
	return s.store.Notification(ctx, id)
}

// MarkAllRead marks a user's unread notifications up to ID upTo read — those the user was
// shown, not one that arrived since — and returns how many.
func (s *Service) MarkAllRead(ctx context.Context, userID string, upTo int64) (int, error) {
	if userID == "" {
		return 0, fault.New(fault.Forbidden, "no_user", "only a person marks their notifications read")
	}
	if upTo < 0 {
		return 0, fault.FieldErr("up_to", "invalid_cursor", "up_to is a notification ID")
	}
	return s.store.MarkAllRead(ctx, userID, upTo, s.clock.Now())
}

// Unread counts a user's unread notifications, at most UnreadCountMax.
func (s *Service) Unread(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	return s.store.Unread(ctx, userID, UnreadCountMax)
}

// ParseID reads a notification ID from a path.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "notification_not_found", "no notification %q", s)
	}
	return id, nil
}
