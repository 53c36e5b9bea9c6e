package access_test

import (
	"context"
	"testing"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// TestOneTimePasswordMustChange ensures a user added with a one-time password must change it,
// as the store reads it back and the login returns it; ChangePassword clears that and the
// one-time password stops working; a reset sets it again; a user created with a chosen
// password (the demo's, the seeds') is not held to it; the one-time password itself is not a
// new password.
func TestOneTimePasswordMustChange(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		u, pw, err := f.svc.AddUser(ctx, admin, "a1", "sup-1", "peggy@example.com", "Peggy", trade.RoleSupplier)
		if err != nil || !u.MustChangePassword {
			t.Fatalf("add: %+v %v", u, err)
		}
		_, got, err := f.svc.LoginFrom(ctx, u.Email, pw, "")
		if err != nil || !got.MustChangePassword {
			t.Fatalf("login with the one-time password: %+v %v", got, err)
		}
		me := trade.Actor{Role: got.Role, OrgID: got.OrgID, UserID: got.ID}
		err = f.svc.ChangePassword(ctx, me, pw, pw)
		wantFault(t, "the one-time password as the new one", err, fault.Invalid, "password_unchanged")
		if s, _ := f.store.User(ctx, u.ID); !s.MustChangePassword {
			t.Error("a refused change cleared the obligation")
		}
		if err := f.svc.ChangePassword(ctx, me, pw, goodPW); err != nil {
			t.Fatalf("change: %v", err)
		}
		if s, err := f.store.User(ctx, u.ID); err != nil || s.MustChangePassword {
			t.Errorf("after the change: %+v %v", s, err)
		}
		_, _, err = f.svc.LoginFrom(ctx, u.Email, pw, "")
		wantFault(t, "the old one-time password", err, fault.Unauthorized, "invalid_credentials")
		if _, got, err := f.svc.LoginFrom(ctx, u.Email, goodPW, ""); err != nil || got.MustChangePassword {
			t.Errorf("login with the own password: %+v %v", got, err)
		}

		r, pw2, err := f.svc.ResetPassword(ctx, admin, "r1", u.ID)
		if err != nil || !r.MustChangePassword {
			t.Fatalf("reset: %+v %v", r, err)
		}
		if s, _ := f.store.User(ctx, u.ID); !s.MustChangePassword {
			t.Error("the reset did not set the obligation in the store")
		}
		if _, got, err := f.svc.LoginFrom(ctx, u.Email, pw2, ""); err != nil || !got.MustChangePassword {
			t.Errorf("login after the reset: %+v %v", got, err)
		}
		if err := f.svc.ChangePassword(ctx, me, pw2, otherPW); err != nil {
			t.Fatalf("change after the reset: %v", err)
		}
		// Disabling and enabling keep the user's own password and no obligation.
		if _, err := f.svc.DisableUser(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.EnableUser(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		if s, _ := f.store.User(ctx, u.ID); s.MustChangePassword {
			t.Error("disable and enable set the obligation")
		}

		seeded := f.user(t, "sybil@example.com")
		if seeded.MustChangePassword {
			t.Error("a user created with a chosen password must change it")
		}
		if _, got, err := f.svc.LoginFrom(ctx, seeded.Email, goodPW, ""); err != nil || got.MustChangePassword {
			t.Errorf("login of a seeded user: %+v %v", got, err)
		}
	})
}
