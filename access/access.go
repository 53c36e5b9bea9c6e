// Package access is who may call the platform: users of organizations (argon2id passwords) and
// API keys (shown once, stored hashed, revocable, scoped to an organization and a role). It turns
// a credential into the trade.Actor the use cases authorize against.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Errors a Store returns.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
)

// User is a person who logs in for an organization.
type User struct {
	ID           string     `json:"id"`
	OrgID        string     `json:"org_id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         trade.Role `json:"role"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
	// MustChangePassword is set while the user holds a one-time password an admin handed over
	// (AddUser, ResetPassword) and cleared when they choose their own (ChangePassword).
	MustChangePassword bool `json:"must_change_password,omitempty"`
}

// APIKey is a credential for software. The secret is shown once; only its hash is kept.
type APIKey struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"org_id"`
	Role      trade.Role `json:"role"`
	Name      string     `json:"name"`
	Hash      string     `json:"-"` // hex SHA-256 of the secret: the secret has 160 random bits
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Store keeps users and keys. The package store implements it for both databases. A write
// given audit records appends them in the same transaction, only when it changes something.
type Store interface {
	InsertUser(ctx context.Context, u User, audit ...Record) error // ErrDuplicate on the email
	UserByEmail(ctx context.Context, email string) (User, error)
	User(ctx context.Context, id string) (User, error)
	UpdateUser(ctx context.Context, u User, audit ...Record) error
	Users(ctx context.Context, orgID string) ([]User, error)
	InsertAPIKey(ctx context.Context, k APIKey, audit ...Record) error
	APIKey(ctx context.Context, id string) (APIKey, error)
	APIKeys(ctx context.Context, orgID string) ([]APIKey, error)
	// APIKeysPage lists up to limit keys of an organization after the key after, oldest first.
	APIKeysPage(ctx context.Context, orgID, after string, limit int) ([]APIKey, error)
	// RevokeAPIKey revokes a key (ErrNotFound for none); revoking it again changes nothing and
	// records nothing.
	RevokeAPIKey(ctx context.Context, id string, at time.Time, audit ...Record) error
	// AccessAudit lists an organization's audit records, newest first, at most max.
	AccessAudit(ctx context.Context, orgID string, max int) ([]Record, error)

	// LoginTx runs fn in one transaction over the login throttles, again if the database asks.
	LoginTx(ctx context.Context, fn func(LoginTx) error) error
	// SweepLogins deletes up to max failures recorded before failedBefore and throttles idle
	// (no attempt, no lockout) since idleBefore.
	SweepLogins(ctx context.Context, failedBefore, idleBefore time.Time, max int) (int64, error)
	// SetPasswordOnce replaces a user's password hash with a one-time password's and marks that
	// they must change it (User.MustChangePassword), unless key was used before: applied is
	// false for a repeat on the same user; ErrDuplicate when key was used for another request,
	// ErrNotFound for an unknown user.
	SetPasswordOnce(ctx context.Context, key, userID, hash string, at time.Time, audit ...Record) (applied bool, err error)
}

// Orgs looks organizations up; the escrow service provides it.
type Orgs interface {
	Org(ctx context.Context, id string) (trade.Org, error)
}

// Service authenticates and manages credentials.
type Service struct {
	store  Store
	orgs   Orgs
	now    func() time.Time
	params Argon2Params
	log    *slog.Logger

	mu        sync.Mutex
	lastSweep time.Time // of the login throttles
}

// New returns a Service. now is the clock; params tune password hashing (tests use tiny ones).
func New(s Store, orgs Orgs, now func() time.Time, params Argon2Params) *Service {
	return &Service{store: s, orgs: orgs, now: now, params: params, log: slog.New(slog.DiscardHandler)}
}

// SetLogger sets where lockouts are logged (nowhere by default). Call it before serving.
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// Limits.
const (
	KeyNameMax  = 100
	EmailMax    = 254
	PasswordMin = 12
	PasswordMax = 256
)

// RolesFor lists the roles an organization's credentials may carry.
func RolesFor(k trade.OrgKind) []trade.Role {
	switch k {
	case trade.KindBuyer:
		return []trade.Role{trade.RoleBuyer}
	case trade.KindSupplier:
		return []trade.Role{trade.RoleSupplier}
	case trade.KindInspector:
		return []trade.Role{trade.RoleInspector}
	case trade.KindPlatform:
		return []trade.Role{trade.RoleAdmin, trade.RoleArbiter}
	}
	return nil
}

func (s *Service) checkRole(ctx context.Context, orgID string, role trade.Role) error {
	if orgID == PlatformOrg {
		if role == trade.RoleAdmin || role == trade.RoleArbiter {
			return nil
		}
		return fault.FieldErr("role", "invalid_role", "platform staff are admins or arbiters")
	}
	org, err := s.orgs.Org(ctx, orgID)
	if err != nil {
		return fault.FieldErr("org_id", "organization_not_found", "no such organization")
	}
	for _, r := range RolesFor(org.Kind) {
		if r == role {
			return nil
		}
	}
	return fault.FieldErr("role", "invalid_role", "a %s organization's credentials act as %v", org.Kind, RolesFor(org.Kind))
}

// PlatformOrg is the organization of platform staff (admins, arbiters).
const PlatformOrg = "platform"

func newID(prefix string) string {
	return prefix + "_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// keyPrefix starts every API key secret so it is recognizable in logs and secret scanners.
const keyPrefix = "ta_"

// CreateAPIKey issues a key for orgID acting as role. The returned token is the only time the
// secret exists outside the caller's hands.
func (s *Service) CreateAPIKey(ctx context.Context, by trade.Actor, orgID string, role trade.Role, name string) (token string, k APIKey, err error) {
	return s.createAPIKey(ctx, by, newID("key"), orgID, role, name)
}

// createAPIKey is CreateAPIKey with the new key's ID given.
func (s *Service) createAPIKey(ctx context.Context, by trade.Actor, id, orgID string, role trade.Role, name string) (token string, k APIKey, err error) {
	if by.Role != trade.RoleAdmin && !(by.OrgID == orgID && by.Role != trade.RoleSystem) {
		return "", APIKey{}, fault.New(fault.Forbidden, "role_not_allowed", "only an admin or the organization itself issues its keys")
	}
	if by.Role != trade.RoleAdmin && role != by.Role {
		return "", APIKey{}, fault.New(fault.Forbidden, "role_not_allowed", "only an admin issues credentials with another role")
	}
	if strings.TrimSpace(name) == "" || len(name) > KeyNameMax {
		return "", APIKey{}, fault.FieldErr("name", "invalid_name", "name the key in 1 to %d characters", KeyNameMax)
	}
	if err := s.checkRole(ctx, orgID, role); err != nil {
		return "", APIKey{}, err
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return "", APIKey{}, err
	}
	enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret))
	k = APIKey{ID: id, OrgID: orgID, Role: role, Name: name, Hash: hashSecret(enc),
		CreatedAt: s.now(), CreatedBy: by.UserID}
	if err := s.store.InsertAPIKey(ctx, k, s.record(by, ActionAPIKeyCreated, orgID, k.ID, keyDetail(k))); err != nil {
		return "", APIKey{}, err
	}
	return keyPrefix + k.ID + "." + enc, k, nil
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Authenticate turns a bearer token into an actor. Every failure is the same error, so a caller
// learns nothing about which part was wrong.
func (s *Service) Authenticate(ctx context.Context, token string) (trade.Actor, error) {
	bad := fault.New(fault.Unauthorized, "invalid_credentials", "the API key is missing, malformed, unknown or revoked")
	rest, ok := strings.CutPrefix(token, keyPrefix)
	if !ok {
		return trade.Actor{}, bad
	}
	id, secret, ok := strings.Cut(rest, ".")
	if !ok || len(id) > 64 || len(secret) > 64 {
		return trade.Actor{}, bad
	}
	k, err := s.store.APIKey(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return trade.Actor{}, err // an outage is not a bad credential
	}
	if err != nil || k.RevokedAt != nil {
		return trade.Actor{}, bad
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.Hash)) != 1 {
		return trade.Actor{}, bad
	}
	return trade.Actor{Role: k.Role, OrgID: k.OrgID, UserID: k.ID}, nil
}

// RevokeAPIKey revokes a key of the actor's organization (or any, for an admin).
func (s *Service) RevokeAPIKey(ctx context.Context, by trade.Actor, id string) error {
	k, err := s.store.APIKey(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil || (by.Role != trade.RoleAdmin && k.OrgID != by.OrgID) {
		return fault.New(fault.NotFound, "api_key_not_found", "no such API key")
	}
	if k.RevokedAt != nil {
		return nil
	}
	return s.store.RevokeAPIKey(ctx, id, s.now(), s.record(by, ActionAPIKeyRevoked, k.OrgID, k.ID, keyDetail(k)))
}

// APIKeys lists the keys of an organization the actor belongs to (any, for an admin).
func (s *Service) APIKeys(ctx context.Context, by trade.Actor, orgID string) ([]APIKey, error) {
	if by.Role != trade.RoleAdmin && by.OrgID != orgID {
		return nil, fault.New(fault.NotFound, "organization_not_found", "no such organization")
	}
	return s.store.APIKeys(ctx, orgID)
}

// APIKeysPageMax bounds one page of APIKeysPage.
const APIKeysPageMax = 500

// APIKeysPage lists up to limit keys of an organization the actor belongs to (any, for an
// admin) after the key after, oldest first; next is the last one's ID when another page may
// follow.
func (s *Service) APIKeysPage(ctx context.Context, by trade.Actor, orgID, after string, limit int) (ks []APIKey, next string, err error) {
	if by.Role != trade.RoleAdmin && by.OrgID != orgID {
		return nil, "", fault.New(fault.NotFound, "organization_not_found", "no such organization")
	}
	if limit <= 0 || limit > APIKeysPageMax {
		limit = APIKeysPageMax
	}
	ks, err = s.store.APIKeysPage(ctx, orgID, after, limit)
	if err != nil {
		return nil, "", err
	}
	if len(ks) == limit {
		next = ks[len(ks)-1].ID
	}
	return ks, next, nil
}
