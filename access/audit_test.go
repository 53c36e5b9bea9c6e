package access_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// TestAccessAudit ensures each change to a credential — a user added, disabled, enabled, their
// password reset or changed, a key issued or revoked — leaves exactly one audit record of the
// organization, with the actor, the target, the time and the action; repeats (the same key, a
// second disable, a second revocation) and refused commands record nothing; no record holds a
// password, a hash or a key's secret; only an admin reads the audit.
func TestAccessAudit(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		var secrets []string
		audit := func() []access.Record {
			t.Helper()
			rs, err := f.svc.AccessAudit(ctx, admin, "sup-1")
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		// want checks that the newest record is the one expected and that there are n in all.
		want := func(what string, n int, action access.Action, by trade.Actor, target string) {
			t.Helper()
			rs := audit()
			if len(rs) != n {
				t.Fatalf("%s: %d records, want %d: %+v", what, len(rs), n, rs)
			}
			r := rs[0]
			if r.Action != action || r.Actor != by || r.Target != target || r.OrgID != "sup-1" || !r.At.Equal(t0) {
				t.Errorf("%s: record %+v, want %s by %+v on %s", what, r, action, by, target)
			}
		}

		u, pw, err := f.svc.AddUser(ctx, admin, "a1", "sup-1", "rupert@example.com", "Rupert", trade.RoleSupplier)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, pw)
		want("add", 1, access.ActionUserAdded, admin, u.ID)
		if d := audit()[0].Detail; d != "rupert@example.com (supplier)" {
			t.Errorf("add: detail %q", d)
		}
		if _, _, err := f.svc.AddUser(ctx, admin, "a1", "sup-1", "rupert@example.com", "Rupert", trade.RoleSupplier); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.AddUser(ctx, admin, "a2", "sup-1", "rupert@example.com", "Rupert", trade.RoleSupplier)
		wantFault(t, "email taken", err, fault.Invalid, "email_taken")
		want("add again, and an email taken", 1, access.ActionUserAdded, admin, u.ID)

		me := trade.Actor{Role: u.Role, OrgID: u.OrgID, UserID: u.ID}
		if err := f.svc.ChangePassword(ctx, me, pw, goodPW); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, goodPW)
		want("change", 2, access.ActionPasswordChanged, me, u.ID)
		wantFault(t, "a wrong current password", f.svc.ChangePassword(ctx, me, "wrong wrong wrong", otherPW), fault.Invalid, "invalid_credentials")

		_, pw, err = f.svc.ResetPassword(ctx, admin, "r1", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, pw)
		want("reset", 3, access.ActionPasswordReset, admin, u.ID)
		if _, _, err := f.svc.ResetPassword(ctx, admin, "r1", u.ID); err != nil {
			t.Fatal(err)
		}
		want("reset again", 3, access.ActionPasswordReset, admin, u.ID)

		if _, err := f.svc.DisableUser(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		want("disable", 4, access.ActionUserDisabled, admin, u.ID)
		if _, err := f.svc.DisableUser(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.DisableUser(ctx, buyer1, u.ID)
		wantFault(t, "a buyer disables", err, fault.Forbidden, "role_not_allowed")
		want("disable again, and refused", 4, access.ActionUserDisabled, admin, u.ID)
		if _, err := f.svc.EnableUser(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		want("enable", 5, access.ActionUserEnabled, admin, u.ID)
		if _, err := f.svc.EnableUser(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		want("enable again", 5, access.ActionUserEnabled, admin, u.ID)

		token, k, err := f.svc.CreateAPIKeyOnce(ctx, admin, "k1", "sup-1", trade.RoleSupplier, "ERP sync")
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, token, strings.SplitN(token, ".", 2)[1])
		want("issue", 6, access.ActionAPIKeyCreated, admin, k.ID)
		if d := audit()[0].Detail; d != "ERP sync (supplier)" {
			t.Errorf("issue: detail %q", d)
		}
		if _, _, err := f.svc.CreateAPIKeyOnce(ctx, admin, "k1", "sup-1", trade.RoleSupplier, "ERP sync"); err != nil {
			t.Fatal(err)
		}
		want("issue again", 6, access.ActionAPIKeyCreated, admin, k.ID)
		if err := f.svc.RevokeAPIKey(ctx, admin, k.ID); err != nil {
			t.Fatal(err)
		}
		want("revoke", 7, access.ActionAPIKeyRevoked, admin, k.ID)
		if err := f.svc.RevokeAPIKey(ctx, admin, k.ID); err != nil {
			t.Fatal(err)
		}
		want("revoke again", 7, access.ActionAPIKeyRevoked, admin, k.ID)
		// The store alone records a revocation once, even when the service's check is passed.
		if err := f.store.RevokeAPIKey(ctx, k.ID, t0, access.Record{OrgID: "sup-1", Action: access.ActionAPIKeyRevoked}); err != nil {
			t.Fatal(err)
		}
		want("the store revokes a revoked key", 7, access.ActionAPIKeyRevoked, admin, k.ID)

		stored, err := f.store.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, stored.PasswordHash, k.Hash)
		for _, r := range audit() {
			for _, s := range secrets {
				if s != "" && (strings.Contains(r.Detail, s) || strings.Contains(r.Target, s)) {
					t.Errorf("record %+v holds a secret", r)
				}
			}
			if strings.Contains(r.Detail, "argon2id") {
				t.Errorf("record %+v holds a hash", r)
			}
		}
		if rs, _ := f.svc.AccessAudit(ctx, admin, "buy-1"); len(rs) != 0 {
			t.Errorf("another organization has %d records", len(rs))
		}
		_, err = f.svc.AccessAudit(ctx, buyer1, "sup-1")
		wantFault(t, "a buyer reads the audit", err, fault.Forbidden, "role_not_allowed")
	})
}
