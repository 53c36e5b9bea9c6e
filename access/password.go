package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Argon2Params tune argon2id. The defaults follow RFC 9106's second recommendation, sized for a
// small server; tests pass tiny ones.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is RFC 9106 §4, second recommended option.
var DefaultArgon2 = Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// hashPassword returns "argon2id$v=19$m=…,t=…,p=…$salt$hash" (PHC-like), so parameters can change
// later without breaking stored hashes.
func hashPassword(pw string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	h := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)), nil
}

func checkPassword(pw, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[0] != "argon2id" {
		return false
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	// A stored hash is data: refuse parameters that would panic or exhaust memory.
	if p.Threads < 1 || p.Time < 1 || p.Time > 16 || p.Memory < 8 || p.Memory > 1<<20 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[3])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func validPassword(pw string) error {
	if n := len([]rune(pw)); n < PasswordMin || len(pw) > PasswordMax {
		return fault.FieldErr("password", "weak_password", "a password has %d to %d characters", PasswordMin, PasswordMax)
	}
	return nil
}

// CreateUser adds a person to an organization. Admins add anyone; an organization's own users
// add colleagues.
func (s *Service) CreateUser(ctx context.Context, by trade.Actor, orgID, email, name string, role trade.Role, password string) (User, error) {
	return s.createUser(ctx, by, newID("usr"), orgID, email, name, role, password, false)
}

// createUser is CreateUser with the new user's ID given, and whether the password is a one-time
// password the user must change at first login.
func (s *Service) createUser(ctx context.Context, by trade.Actor, id, orgID, email, name string, role trade.Role, password string, oneTime bool) (User, error) {
	if by.Role != trade.RoleAdmin && by.Role != trade.RoleSystem && by.OrgID != orgID {
		return User{}, fault.New(fault.Forbidden, "role_not_allowed", "only an admin or the organization itself adds its users")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || len(email) > EmailMax || addr.Address != email {
		return User{}, fault.FieldErr("email", "invalid_email", "give a plain email address")
	}
	if strings.TrimSpace(name) == "" || len(name) > trade.OrgNameMax {
		return User{}, fault.FieldErr("name", "invalid_name", "give a name of 1 to %d characters", trade.OrgNameMax)
	}
	if err := validPassword(password); err != nil {
		return User{}, err
	}
	if by.Role != trade.RoleAdmin && by.Role != trade.RoleSystem && role != by.Role {
		return User{}, fault.New(fault.Forbidden, "role_not_allowed", "only an admin adds users with another role")
	}
	if err := s.checkRole(ctx, orgID, role); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password, s.params)
	if err != nil {
		return User{}, err
	}
	u := User{ID: id, OrgID: orgID, Email: strings.ToLower(email), Name: name, Role: role, PasswordHash: hash, CreatedAt: s.now(),
		MustChangePassword: oneTime}
	if err := s.store.InsertUser(ctx, u, s.record(by, ActionUserAdded, orgID, u.ID, userDetail(u))); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return User{}, fault.FieldErr("email", "email_taken", "a user with this email exists")
		}
		return User{}, err
	}
	return u, nil
}

// checkLogin checks an email (lower-cased) and password and returns the user's actor. Unknown
// email and wrong password take the same time (an unknown email hashes the password all the
// same) and give the same error.
func (s *Service) checkLogin(ctx context.Context, email, password string) (trade.Actor, User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return trade.Actor{}, User{}, err
	}
	if err != nil {
		hashPassword(password, s.params) // spend the same time as a real check
		return trade.Actor{}, User{}, errBadLogin()
	}
	if !checkPassword(password, u.PasswordHash) || u.DisabledAt != nil {
		return trade.Actor{}, User{}, errBadLogin()
	}
	return trade.Actor{Role: u.Role, OrgID: u.OrgID, UserID: u.ID}, u, nil
}

// ChangePassword replaces a user's password after checking the current one, and so ends the
// obligation to replace a one-time password (User.MustChangePassword).
func (s *Service) ChangePassword(ctx context.Context, by trade.Actor, current, next string) error {
	u, err := s.store.User(ctx, by.UserID)
	if err != nil || u.DisabledAt != nil || !checkPassword(current, u.PasswordHash) {
		return fault.FieldErr("current_password", "invalid_credentials", "the current password is wrong")
	}
	if err := validPassword(next); err != nil {
		return err
	}
	if next == current {
		return fault.FieldErr("password", "password_unchanged", "choose a password other than the current one")
	}
	if u.PasswordHash, err = hashPassword(next, s.params); err != nil {
		return err
	}
	u.MustChangePassword = false
	return s.store.UpdateUser(ctx, u, s.record(by, ActionPasswordChanged, u.OrgID, u.ID, userDetail(u)))
}
