package access_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

var oneTimeRE = regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{5}$`)

// TestAddUserOnce ensures an admin adds a user with a one-time password that logs in; the same
// key again returns that user without a password; the key reused for another user, an email
// taken, a role the organization cannot have and another organization's user are refused.
func TestAddUserOnce(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		u, pw, err := f.svc.AddUser(ctx, admin, "k1", "sup-1", "Grace@Example.com", "Grace", trade.RoleSupplier)
		if err != nil {
			t.Fatal(err)
		}
		if !oneTimeRE.MatchString(pw) || u.Email != "grace@example.com" || u.OrgID != "sup-1" || u.PasswordHash != "" {
			t.Errorf("user %+v, password %q", u, pw)
		}
		if _, got, err := f.svc.LoginFrom(ctx, "grace@example.com", pw, "192.0.2.1"); err != nil || got.ID != u.ID {
			t.Fatalf("login with the one-time password: %v", err)
		}
		again, pw2, err := f.svc.AddUser(ctx, admin, "k1", "sup-1", "Grace@Example.com", "Grace", trade.RoleSupplier)
		if err != nil || again.ID != u.ID || pw2 != "" {
			t.Errorf("repeat: %+v, %q, %v", again, pw2, err)
		}
		_, _, err = f.svc.AddUser(ctx, admin, "k1", "sup-1", "heidi@example.com", "Heidi", trade.RoleSupplier)
		wantFault(t, "the key again for another email", err, fault.Conflict, "idempotency_key_reused")
		_, _, err = f.svc.AddUser(ctx, admin, "k1", "sup-1", "grace@example.com", "Grace", trade.RoleSupplier)
		if err != nil {
			t.Errorf("repeat with the email lower-cased: %v", err)
		}
		_, _, err = f.svc.AddUser(ctx, admin, "k2", "sup-1", "grace@example.com", "Grace", trade.RoleSupplier)
		wantFault(t, "email taken", err, fault.Invalid, "email_taken")
		_, _, err = f.svc.AddUser(ctx, admin, "k3", "sup-1", "ivan@example.com", "Ivan", trade.RoleBuyer)
		wantFault(t, "a buyer at a supplier", err, fault.Invalid, "invalid_role")
		_, _, err = f.svc.AddUser(ctx, buyer1, "k4", "buy-2", "judy@example.com", "Judy", trade.RoleBuyer)
		wantFault(t, "another organization's user", err, fault.Forbidden, "role_not_allowed")
		_, _, err = f.svc.AddUser(ctx, admin, "", "sup-1", "judy@example.com", "Judy", trade.RoleSupplier)
		wantFault(t, "no key", err, fault.Invalid, "invalid_idempotency_key")

		users, err := f.svc.Users(ctx, admin, "sup-1")
		if err != nil || len(users) != 1 {
			t.Fatalf("users: %d, %v", len(users), err)
		}
		for _, u := range users {
			if u.PasswordHash != "" {
				t.Errorf("Users returns the hash of %s", u.Email)
			}
		}
		if _, err := f.svc.Users(ctx, buyer1, "sup-1"); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("a buyer lists a supplier's users: %v", err)
		}
	})
}

// TestResetPassword ensures an admin's reset gives a new one-time password that works at once,
// even on an account locked out by failures; the old password stops working; the same key again
// changes nothing and shows no password; others may not reset.
func TestResetPassword(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		u := f.user(t, "mallory@example.com")
		for range access.AccountFailuresMax {
			f.svc.LoginFrom(ctx, u.Email, otherPW, "")
		}
		_, _, err := f.svc.LoginFrom(ctx, u.Email, goodPW, "")
		wantFault(t, "locked", err, fault.Unauthorized, "too_many_attempts")
		got, pw, err := f.svc.ResetPassword(ctx, admin, "r1", u.ID)
		if err != nil || got.ID != u.ID || !oneTimeRE.MatchString(pw) {
			t.Fatalf("reset: %+v %q %v", got, pw, err)
		}
		if _, _, err := f.svc.LoginFrom(ctx, u.Email, pw, ""); err != nil {
			t.Fatalf("login with the reset password on a locked account: %v", err)
		}
		_, _, err = f.svc.LoginFrom(ctx, u.Email, goodPW, "")
		wantFault(t, "the old password", err, fault.Unauthorized, "invalid_credentials")
		_, pw2, err := f.svc.ResetPassword(ctx, admin, "r1", u.ID)
		if err != nil || pw2 != "" {
			t.Errorf("repeat: %q %v", pw2, err)
		}
		if _, _, err := f.svc.LoginFrom(ctx, u.Email, pw, ""); err != nil {
			t.Errorf("the repeat changed the password: %v", err)
		}
		other := f.user(t, "niaj@example.com")
		_, _, err = f.svc.ResetPassword(ctx, admin, "r1", other.ID)
		wantFault(t, "the key on another user", err, fault.Conflict, "idempotency_key_reused")
		_, _, err = f.svc.ResetPassword(ctx, buyer1, "r2", other.ID)
		wantFault(t, "a buyer resets", err, fault.Forbidden, "role_not_allowed")
		_, _, err = f.svc.ResetPassword(ctx, admin, "r3", "usr_nobody")
		wantFault(t, "unknown user", err, fault.NotFound, "user_not_found")
		if _, _, err := f.svc.LoginFrom(ctx, other.Email, goodPW, ""); err != nil {
			t.Errorf("refused resets changed a password: %v", err)
		}
	})
}

// TestDisableEnableUser ensures a disabled user cannot log in (the same error as a wrong
// password) until enabled; a repeat keeps the first time; an admin cannot disable themselves
// and other roles cannot disable anyone.
func TestDisableEnableUser(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		u := f.user(t, "olivia@example.com")
		d, err := f.svc.DisableUser(ctx, admin, u.ID)
		if err != nil || d.DisabledAt == nil || !d.DisabledAt.Equal(t0) {
			t.Fatalf("disable: %+v %v", d, err)
		}
		f.clock.add(time.Hour)
		if d, _ := f.svc.DisableUser(ctx, admin, u.ID); d.DisabledAt == nil || !d.DisabledAt.Equal(t0) {
			t.Errorf("a repeat moved the time to %v", d.DisabledAt)
		}
		_, _, err = f.svc.LoginFrom(ctx, u.Email, goodPW, "")
		wantFault(t, "disabled", err, fault.Unauthorized, "invalid_credentials")
		if e, err := f.svc.EnableUser(ctx, admin, u.ID); err != nil || e.DisabledAt != nil {
			t.Fatalf("enable: %+v %v", e, err)
		}
		if _, _, err := f.svc.LoginFrom(ctx, u.Email, goodPW, ""); err != nil {
			t.Errorf("login once enabled: %v", err)
		}
		_, err = f.svc.DisableUser(ctx, admin, admin.UserID)
		wantFault(t, "disable yourself", err, fault.Conflict, "cannot_disable_self")
		_, err = f.svc.DisableUser(ctx, buyer1, u.ID)
		wantFault(t, "a buyer disables", err, fault.Forbidden, "role_not_allowed")
		_, err = f.svc.EnableUser(ctx, admin, "usr_nobody")
		wantFault(t, "unknown user", err, fault.NotFound, "user_not_found")
	})
}

// TestCreateAPIKeyOnce ensures a key issued by a keyed command authenticates; the same key again
// returns that API key without a token; the key reused for another name is refused.
func TestCreateAPIKeyOnce(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		tok, k, err := f.svc.CreateAPIKeyOnce(ctx, admin, "c1", "insp-1", trade.RoleInspector, "Reports uploader")
		if err != nil || tok == "" {
			t.Fatalf("create: %v", err)
		}
		if a, err := f.svc.Authenticate(ctx, tok); err != nil || a.OrgID != "insp-1" || a.UserID != k.ID {
			t.Fatalf("authenticate: %+v %v", a, err)
		}
		tok2, k2, err := f.svc.CreateAPIKeyOnce(ctx, admin, "c1", "insp-1", trade.RoleInspector, "Reports uploader")
		if err != nil || tok2 != "" || k2.ID != k.ID {
			t.Errorf("repeat: %q %+v %v", tok2, k2, err)
		}
		_, _, err = f.svc.CreateAPIKeyOnce(ctx, admin, "c1", "insp-1", trade.RoleInspector, "Another")
		wantFault(t, "key reused", err, fault.Conflict, "idempotency_key_reused")
		_, _, err = f.svc.CreateAPIKeyOnce(ctx, admin, "c2", "insp-1", trade.RoleBuyer, "Wrong role")
		wantFault(t, "a buyer key at an inspector", err, fault.Invalid, "invalid_role")
		keys, err := f.svc.APIKeys(ctx, admin, "insp-1")
		if err != nil || len(keys) != 1 {
			t.Errorf("keys: %d %v", len(keys), err)
		}
	})
}
