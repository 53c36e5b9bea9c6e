package access

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Record is one entry of the audit of account administration: who changed which credential of
// an organization, when, and how. The store appends it in the same transaction as the change
// and never updates or deletes it. It holds no secret: no password, no hash, no key's secret.
type Record struct {
	ID     int64       `json:"id"` // assigned by the store, increasing
	OrgID  string      `json:"org_id"`
	At     time.Time   `json:"at"`
	Actor  trade.Actor `json:"actor"`
	Action Action      `json:"action"`
	Target string      `json:"target"` // the user's or the key's ID
	Detail string      `json:"detail"` // the user's email and role, or the key's name and role
}

// Action is what a Record says was done.
type Action string

// The recorded actions.
const (
	ActionUserAdded       Action = "user_added"
	ActionUserDisabled    Action = "user_disabled"
	ActionUserEnabled     Action = "user_enabled"
	ActionPasswordReset   Action = "password_reset"
	ActionPasswordChanged Action = "password_changed" // by the user, with their current password
	ActionAPIKeyCreated   Action = "api_key_created"
	ActionAPIKeyRevoked   Action = "api_key_revoked"
)

// AuditMax is how many records AccessAudit returns, newest first.
const AuditMax = 200

func (s *Service) record(by trade.Actor, action Action, orgID, target, detail string) Record {
	return Record{OrgID: orgID, At: s.now(), Actor: by, Action: action, Target: target, Detail: detail}
}

func userDetail(u User) string  { return u.Email + " (" + string(u.Role) + ")" }
func keyDetail(k APIKey) string { return k.Name + " (" + string(k.Role) + ")" }

// AccessAudit returns the audit of an organization's credentials, newest first, at most
// AuditMax records. Admins only.
func (s *Service) AccessAudit(ctx context.Context, by trade.Actor, orgID string) ([]Record, error) {
	if by.Role != trade.RoleAdmin {
		return nil, fault.New(fault.Forbidden, "role_not_allowed", "only an admin reviews the audit of credentials")
	}
	return s.store.AccessAudit(ctx, orgID, AuditMax)
}
