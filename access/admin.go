package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// The admin's credential commands: add a user with a one-time password, reset a password,
// disable and enable a user, issue a key. Those that create a secret are idempotent by key: a
// repeat returns what the first one created, without the secret, which existed only in the
// first answer. Disabling, enabling and revoking set a state, so a repeat changes nothing.

// KeyMax bounds an idempotency key.
const KeyMax = 255

// oneTimePasswordBytes is the randomness of a one-time password: 100 bits, written as 20
// base32 letters and digits in groups of five.
const oneTimePasswordBytes = 12

func newOneTimePassword() (string, error) {
	b := make([]byte, oneTimePasswordBytes+1) // 13 bytes make 21 base32 characters; 20 are used
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
	return enc[0:5] + "-" + enc[5:10] + "-" + enc[10:15] + "-" + enc[15:20], nil
}

// onceID derives the ID of what a keyed command creates from its key, so that a repeat finds
// the first one's result instead of creating another.
func onceID(prefix, orgID, key string) string {
	h := sha256.Sum256([]byte(prefix + "\x00" + orgID + "\x00" + key))
	return prefix + "_" + hex.EncodeToString(h[:16])
}

func checkKey(key string) error {
	if key == "" || len(key) > KeyMax {
		return fault.FieldErr("idempotency_key", "invalid_idempotency_key", "an idempotency key has 1 to %d characters", KeyMax)
	}
	return nil
}

func keyReused() error {
	return fault.New(fault.Conflict, "idempotency_key_reused", "this key was used for another request")
}

func requireAdmin(by trade.Actor) error {
	if by.Role != trade.RoleAdmin {
		return fault.New(fault.Forbidden, "role_not_allowed", "only an admin manages users")
	}
	return nil
}

// Users lists the users of an organization the actor belongs to (any, for an admin), oldest
// first; the password hashes stay in the store's hands only as far as the caller shows them.
func (s *Service) Users(ctx context.Context, by trade.Actor, orgID string) ([]User, error) {
	if by.Role != trade.RoleAdmin && by.OrgID != orgID {
		return nil, fault.New(fault.NotFound, "organization_not_found", "no such organization")
	}
	us, err := s.store.Users(ctx, orgID)
	for i := range us {
		us[i].PasswordHash = "" // no caller needs it
	}
	return us, err
}

// AddUser adds a person to an organization with a one-time password to hand over, by the rules
// of CreateUser; they must change it at first login (User.MustChangePassword). A repeat with the same key returns the user it created and no password.
func (s *Service) AddUser(ctx context.Context, by trade.Actor, key, orgID, email, name string, role trade.Role) (User, string, error) {
	if err := checkKey(key); err != nil {
		return User{}, "", err
	}
	pw, err := newOneTimePassword()
	if err != nil {
		return User{}, "", err
	}
	id := onceID("usr", orgID, key)
	u, err := s.createUser(ctx, by, id, orgID, email, name, role, pw, true)
	if err == nil {
		u.PasswordHash = ""
		return u, pw, nil
	}
	if fault.ReasonOf(err) != "email_taken" {
		return User{}, "", err
	}
	// The email exists: this key's own user (a repeat), or another's.
	prev, lerr := s.store.User(ctx, id)
	if errors.Is(lerr, ErrNotFound) {
		return User{}, "", err
	}
	if lerr != nil {
		return User{}, "", lerr
	}
	if prev.OrgID != orgID || prev.Email != strings.ToLower(email) || prev.Role != role {
		return User{}, "", keyReused()
	}
	prev.PasswordHash = ""
	return prev, "", nil
}

// ResetPassword gives a user a new one-time password, which they must change at their next
// login (User.MustChangePassword), and lifts the account's login lockout;
// only an admin does. A repeat with the same key returns the user and no password.
func (s *Service) ResetPassword(ctx context.Context, by trade.Actor, key, userID string) (User, string, error) {
	if err := requireAdmin(by); err != nil {
		return User{}, "", err
	}
	if err := checkKey(key); err != nil {
		return User{}, "", err
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return User{}, "", err
	}
	pw, err := newOneTimePassword()
	if err != nil {
		return User{}, "", err
	}
	hash, err := hashPassword(pw, s.params)
	if err != nil {
		return User{}, "", err
	}
	applied, err := s.store.SetPasswordOnce(ctx, key, u.ID, hash, s.now(), s.record(by, ActionPasswordReset, u.OrgID, u.ID, userDetail(u)))
	switch {
	case errors.Is(err, ErrDuplicate):
		return User{}, "", keyReused()
	case err != nil:
		return User{}, "", err
	case !applied:
		return u, "", nil
	}
	if err := s.clearAccount(ctx, u.Email); err != nil {
		return User{}, "", fmt.Errorf("lift lockout: %w", err)
	}
	u.MustChangePassword = true
	return u, pw, nil
}

// DisableUser stops a user from logging in; the portal ends their sessions at their next
// request. An admin cannot disable themselves (someone must be left to enable them).
func (s *Service) DisableUser(ctx context.Context, by trade.Actor, userID string) (User, error) {
	if err := requireAdmin(by); err != nil {
		return User{}, err
	}
	if userID == by.UserID {
		return User{}, fault.New(fault.Conflict, "cannot_disable_self", "you cannot disable yourself")
	}
	u, err := s.user(ctx, userID)
	if err != nil || u.DisabledAt != nil {
		return u, err
	}
	now := s.now()
	u.DisabledAt = &now
	return u, s.store.UpdateUser(ctx, u, s.record(by, ActionUserDisabled, u.OrgID, u.ID, userDetail(u)))
}

// EnableUser lets a disabled user log in again with their password.
func (s *Service) EnableUser(ctx context.Context, by trade.Actor, userID string) (User, error) {
	if err := requireAdmin(by); err != nil {
		return User{}, err
	}
	u, err := s.user(ctx, userID)
	if err != nil || u.DisabledAt == nil {
		return u, err
	}
	u.DisabledAt = nil
	return u, s.store.UpdateUser(ctx, u, s.record(by, ActionUserEnabled, u.OrgID, u.ID, userDetail(u)))
}

// user reads a user for a command, as a not_found fault when there is none.
func (s *Service) user(ctx context.Context, id string) (User, error) {
	u, err := s.store.User(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, fault.New(fault.NotFound, "user_not_found", "no such user")
	}
	return u, err
}

// CreateAPIKeyOnce is CreateAPIKey idempotent by key: a repeat returns the key it created and
// no token (the secret existed only in the first answer).
func (s *Service) CreateAPIKeyOnce(ctx context.Context, by trade.Actor, key, orgID string, role trade.Role, name string) (string, APIKey, error) {
	if err := checkKey(key); err != nil {
		return "", APIKey{}, err
	}
	id := onceID("key", orgID, key)
	token, k, err := s.createAPIKey(ctx, by, id, orgID, role, name)
	if !errors.Is(err, ErrDuplicate) {
		return token, k, err
	}
	prev, err := s.store.APIKey(ctx, id)
	if err != nil {
		return "", APIKey{}, err
	}
	if prev.OrgID != orgID || prev.Role != role || prev.Name != name {
		return "", APIKey{}, keyReused()
	}
	return "", prev, nil
}
