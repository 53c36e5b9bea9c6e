package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// orgs is the Orgs the escrow service would provide: plain organizations by ID.
type orgs map[string]trade.Org

func (o orgs) Org(_ context.Context, id string) (trade.Org, error) {
	org, ok := o[id]
	if !ok {
		return trade.Org{}, errors.New("no such organization")
	}
	return org, nil
}

var testOrgs = orgs{
	"buy-1":  {ID: "buy-1", Kind: trade.KindBuyer, Name: "Buyer One", Country: "DE"},
	"buy-2":  {ID: "buy-2", Kind: trade.KindBuyer, Name: "Buyer Two", Country: "FR"},
	"sup-1":  {ID: "sup-1", Kind: trade.KindSupplier, Name: "Supplier One", Country: "VN"},
	"insp-1": {ID: "insp-1", Kind: trade.KindInspector, Name: "Inspector One", Country: "CN"},
}

var (
	admin   = trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "usr_admin"}
	buyer1  = trade.Actor{Role: trade.RoleBuyer, OrgID: "buy-1", UserID: "usr_b1"}
	buyer2  = trade.Actor{Role: trade.RoleBuyer, OrgID: "buy-2", UserID: "usr_b2"}
	tiny    = access.Argon2Params{Time: 1, Memory: 64, Threads: 1}
	t0      = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	goodPW  = "correct horse battery"
	otherPW = "another long passphrase"
)

// clock is a test clock that moves one second per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// fixture is a Service over a real store.
type fixture struct {
	svc   *access.Service
	store access.Store
}

// eachStore runs fn on a Service over a new SQLite store and over a new PostgreSQL store (which
// never skips: pgtest starts a server when none is given).
func eachStore(t *testing.T, fn func(t *testing.T, f fixture)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			url := "sqlite:" + filepath.Join(t.TempDir(), "store.db")
			if dialect == "postgres" {
				url = pgtest.NewDatabase(t)
			}
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatalf("open %s: %v", dialect, err)
			}
			t.Cleanup(func() { _ = db.Close() })
			s := db.Access()
			c := &clock{t: t0}
			fn(t, fixture{svc: access.New(s, testOrgs, c.now, tiny), store: s})
		})
	}
}

// wantFault fails unless err is a fault with this code and reason.
func wantFault(t *testing.T, what string, err error, code fault.Code, reason string) {
	t.Helper()
	e, ok := fault.As(err)
	if !ok || e.Code != code || e.Reason != reason {
		t.Errorf("%s: got %v, want %s/%s", what, err, code, reason)
	}
}

func mustKey(t *testing.T, f fixture, by trade.Actor, orgID string, role trade.Role) (string, access.APIKey) {
	t.Helper()
	token, k, err := f.svc.CreateAPIKey(context.Background(), by, orgID, role, "integration")
	if err != nil {
		t.Fatalf("create key for %s as %s: %v", orgID, role, err)
	}
	return token, k
}

func mustUser(t *testing.T, f fixture, email string) access.User {
	t.Helper()
	u, err := f.svc.CreateUser(context.Background(), admin, "buy-1", email, "Alice", trade.RoleBuyer, goodPW)
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// TestAPIKeyAuthenticates ensures a key's token authenticates as the key's organization and
// role, whether an admin or the organization itself issued it, and records who issued it.
func TestAPIKeyAuthenticates(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		for _, tc := range []struct {
			by    trade.Actor
			org   string
			role  trade.Role
			actor trade.Actor
		}{
			{admin, "sup-1", trade.RoleSupplier, trade.Actor{Role: trade.RoleSupplier, OrgID: "sup-1"}},
			{buyer1, "buy-1", trade.RoleBuyer, trade.Actor{Role: trade.RoleBuyer, OrgID: "buy-1"}},
			{admin, access.PlatformOrg, trade.RoleArbiter, trade.Actor{Role: trade.RoleArbiter, OrgID: access.PlatformOrg}},
		} {
			token, k := mustKey(t, f, tc.by, tc.org, tc.role)
			if !strings.HasPrefix(token, "ta_"+k.ID+".") {
				t.Errorf("token %q does not name key %s", token, k.ID)
			}
			if k.CreatedBy != tc.by.UserID || k.OrgID != tc.org || k.Role != tc.role {
				t.Errorf("key = %+v, want org %s, role %s, created by %s", k, tc.org, tc.role, tc.by.UserID)
			}
			got, err := f.svc.Authenticate(ctx, token)
			if err != nil {
				t.Fatalf("authenticate %s key: %v", tc.role, err)
			}
			tc.actor.UserID = k.ID
			if got != tc.actor {
				t.Errorf("actor = %+v, want %+v", got, tc.actor)
			}
		}
	})
}

// TestAuthenticateFailuresLookAlike ensures a wrong secret, a malformed token, an unknown key
// ID and a revoked key all fail with one and the same error, invalid_credentials, so a caller
// learns nothing about which part was wrong.
func TestAuthenticateFailuresLookAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		token, k := mustKey(t, f, buyer1, "buy-1", trade.RoleBuyer)
		otherToken, _ := mustKey(t, f, buyer1, "buy-1", trade.RoleBuyer)
		revokedToken, revoked := mustKey(t, f, buyer1, "buy-1", trade.RoleBuyer)
		if err := f.svc.RevokeAPIKey(ctx, buyer1, revoked.ID); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		_, secret, _ := strings.Cut(token, ".")
		_, otherSecret, _ := strings.Cut(otherToken, ".")
		flipped := []byte(secret)
		flipped[0] ^= 1
		bad := map[string]string{
			"wrong secret":            "ta_" + k.ID + "." + string(flipped),
			"another key's secret":    "ta_" + k.ID + "." + otherSecret,
			"empty secret":            "ta_" + k.ID + ".",
			"secret in upper case":    "ta_" + k.ID + "." + strings.ToUpper(secret),
			"empty token":             "",
			"bearer scheme kept":      "Bearer " + token,
			"no prefix":               strings.TrimPrefix(token, "ta_"),
			"no separator":            strings.Replace(token, ".", "", 1),
			"prefix only":             "ta_",
			"overlong ID":             "ta_" + strings.Repeat("k", 65) + "." + secret,
			"overlong secret":         token + strings.Repeat("a", 65),
			"unknown key ID":          "ta_key_0000000000000000000000000000000." + secret,
			"revoked key":             revokedToken,
			"trailing space":          token + " ",
			"secret of a revoked key": "ta_" + revoked.ID + "." + secret,
		}
		var first string
		for name, tok := range bad {
			actor, err := f.svc.Authenticate(ctx, tok)
			wantFault(t, name, err, fault.Unauthorized, "invalid_credentials")
			if actor != (trade.Actor{}) {
				t.Errorf("%s: actor %+v, want none", name, actor)
			}
			if err == nil {
				continue
			}
			if first == "" {
				first = err.Error()
			} else if err.Error() != first {
				t.Errorf("%s: error %q differs from %q", name, err, first)
			}
		}
		if _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Errorf("the good token no longer authenticates: %v", err)
		}
	})
}

// TestAPIKeySecretShownOnce ensures the secret exists only in the token returned at creation:
// the store keeps a hash that is not the secret, and neither the created key nor the listing
// exposes the hash or the secret in JSON. Likewise a user's JSON has no password hash.
func TestAPIKeySecretShownOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		token, created := mustKey(t, f, buyer1, "buy-1", trade.RoleBuyer)
		_, secret, ok := strings.Cut(token, ".")
		if !ok || len(secret) < 32 {
			t.Fatalf("token %q: want a secret of 160 bits in base32", token)
		}
		stored, err := f.store.APIKey(ctx, created.ID)
		if err != nil {
			t.Fatalf("stored key: %v", err)
		}
		if stored.Hash == "" || strings.Contains(stored.Hash, secret) || strings.Contains(token, stored.Hash) {
			t.Errorf("stored hash %q reveals the secret or is empty", stored.Hash)
		}
		if len(stored.Hash) != 64 || strings.Trim(stored.Hash, "0123456789abcdef") != "" {
			t.Errorf("stored hash %q: want hex SHA-256", stored.Hash)
		}

		list, err := f.svc.APIKeys(ctx, buyer1, "buy-1")
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(list) != 1 || list[0].ID != created.ID {
			t.Fatalf("listed %+v, want key %s", list, created.ID)
		}
		for what, v := range map[string]any{"created key": created, "listing": list} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			js := string(b)
			if strings.Contains(js, `"hash"`) || strings.Contains(js, stored.Hash) || strings.Contains(js, secret) {
				t.Errorf("%s JSON exposes the hash or the secret: %s", what, js)
			}
		}

		u := mustUser(t, f, "alice@example.com")
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		if js := string(b); strings.Contains(js, "password") || strings.Contains(js, u.PasswordHash) || strings.Contains(js, goodPW) {
			t.Errorf("user JSON exposes the password hash: %s", js)
		}
	})
}

// TestAPIKeyRoleFitsOrgKind ensures a key's role must be one the organization's kind acts as
// (a buyer organization gets no supplier or admin key; the platform gets admin and arbiter
// keys only), that an unknown organization and a bad name are refused, and that a refused key
// is not stored.
func TestAPIKeyRoleFitsOrgKind(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		for _, tc := range []struct {
			org    string
			role   trade.Role
			reason string // "" when the key is issued
		}{
			{"buy-1", trade.RoleBuyer, ""},
			{"buy-1", trade.RoleSupplier, "invalid_role"},
			{"buy-1", trade.RoleAdmin, "invalid_role"},
			{"buy-1", trade.RoleSystem, "invalid_role"},
			{"sup-1", trade.RoleSupplier, ""},
			{"sup-1", trade.RoleInspector, "invalid_role"},
			{"insp-1", trade.RoleInspector, ""},
			{"insp-1", trade.RoleArbiter, "invalid_role"},
			{access.PlatformOrg, trade.RoleAdmin, ""},
			{access.PlatformOrg, trade.RoleArbiter, ""},
			{access.PlatformOrg, trade.RoleBuyer, "invalid_role"},
			{access.PlatformOrg, trade.RoleSystem, "invalid_role"},
			{"nowhere", trade.RoleBuyer, "organization_not_found"},
		} {
			_, _, err := f.svc.CreateAPIKey(ctx, admin, tc.org, tc.role, "k")
			what := tc.org + " as " + string(tc.role)
			if tc.reason == "" {
				if err != nil {
					t.Errorf("%s: %v", what, err)
				}
				continue
			}
			wantFault(t, what, err, fault.Invalid, tc.reason)
		}
		for _, name := range []string{"", "   ", strings.Repeat("n", access.KeyNameMax+1)} {
			_, _, err := f.svc.CreateAPIKey(ctx, admin, "buy-1", trade.RoleBuyer, name)
			wantFault(t, "name "+name, err, fault.Invalid, "invalid_name")
		}
		for org, want := range map[string]int{"buy-1": 1, "sup-1": 1, "insp-1": 1, access.PlatformOrg: 2, "nowhere": 0} {
			ks, err := f.svc.APIKeys(ctx, admin, org)
			if err != nil || len(ks) != want {
				t.Errorf("keys of %s: %d (%v), want %d", org, len(ks), err, want)
			}
		}
	})
}

// TestAPIKeysBelongToTheirOrg ensures only an admin or the organization itself creates,
// revokes and lists its keys: another organization is forbidden to create one and is told
// "not found" when it revokes or lists, and its attempt changes nothing.
func TestAPIKeysBelongToTheirOrg(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		_, _, err := f.svc.CreateAPIKey(ctx, buyer2, "buy-1", trade.RoleBuyer, "k")
		wantFault(t, "foreign create", err, fault.Forbidden, "role_not_allowed")
		_, _, err = f.svc.CreateAPIKey(ctx, trade.System, access.PlatformOrg, trade.RoleAdmin, "k")
		wantFault(t, "system create", err, fault.Forbidden, "role_not_allowed")

		token, k := mustKey(t, f, buyer1, "buy-1", trade.RoleBuyer)
		_, byAdmin := mustKey(t, f, admin, "buy-1", trade.RoleBuyer)

		wantFault(t, "foreign revoke", f.svc.RevokeAPIKey(ctx, buyer2, k.ID), fault.NotFound, "api_key_not_found")
		if _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Errorf("a foreign revoke revoked the key: %v", err)
		}
		_, err = f.svc.APIKeys(ctx, buyer2, "buy-1")
		wantFault(t, "foreign list", err, fault.NotFound, "organization_not_found")
		wantFault(t, "unknown revoke", f.svc.RevokeAPIKey(ctx, buyer1, "key_none"), fault.NotFound, "api_key_not_found")

		for _, by := range []trade.Actor{buyer1, admin} {
			ks, err := f.svc.APIKeys(ctx, by, "buy-1")
			if err != nil || len(ks) != 2 || ks[0].ID != k.ID || ks[1].ID != byAdmin.ID {
				t.Errorf("keys of buy-1 listed by %s: %+v (%v), want %s then %s", by.Role, ks, err, k.ID, byAdmin.ID)
			}
		}

		if err := f.svc.RevokeAPIKey(ctx, buyer1, k.ID); err != nil {
			t.Fatalf("own revoke: %v", err)
		}
		if err := f.svc.RevokeAPIKey(ctx, buyer1, k.ID); err != nil {
			t.Errorf("second revoke: %v", err)
		}
		if err := f.svc.RevokeAPIKey(ctx, admin, byAdmin.ID); err != nil {
			t.Errorf("admin revoke: %v", err)
		}
		ks, err := f.svc.APIKeys(ctx, buyer1, "buy-1")
		if err != nil || len(ks) != 2 || ks[0].RevokedAt == nil || ks[1].RevokedAt == nil {
			t.Errorf("keys after revoking: %+v (%v), want both revoked", ks, err)
		}
	})
}

// TestUserLogin ensures a created user (email stored in lower case, password hashed) logs in
// with its password, whatever the case of the email, as its organization and role.
func TestUserLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		u, err := f.svc.CreateUser(ctx, buyer1, "buy-1", "Alice@Example.com", "Alice", trade.RoleBuyer, goodPW)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if u.Email != "alice@example.com" || u.OrgID != "buy-1" || u.Role != trade.RoleBuyer {
			t.Errorf("user = %+v", u)
		}
		if !strings.HasPrefix(u.PasswordHash, "argon2id$") || strings.Contains(u.PasswordHash, goodPW) {
			t.Errorf("password hash %q", u.PasswordHash)
		}
		for _, email := range []string{"alice@example.com", "ALICE@example.COM"} {
			actor, got, err := f.svc.Login(ctx, email, goodPW)
			if err != nil {
				t.Fatalf("login as %s: %v", email, err)
			}
			if want := (trade.Actor{Role: trade.RoleBuyer, OrgID: "buy-1", UserID: u.ID}); actor != want {
				t.Errorf("actor = %+v, want %+v", actor, want)
			}
			if got.ID != u.ID {
				t.Errorf("logged in as %s, want %s", got.ID, u.ID)
			}
		}
	})
}

// TestLoginFailuresLookAlike ensures a wrong password and an unknown email fail with one and
// the same error, invalid_credentials.
func TestLoginFailuresLookAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		mustUser(t, f, "alice@example.com")
		_, _, wrong := f.svc.Login(ctx, "alice@example.com", otherPW)
		_, _, unknown := f.svc.Login(ctx, "nobody@example.com", goodPW)
		_, _, empty := f.svc.Login(ctx, "alice@example.com", "")
		for what, err := range map[string]error{"wrong password": wrong, "unknown email": unknown, "empty password": empty} {
			wantFault(t, what, err, fault.Unauthorized, "invalid_credentials")
			if err != nil && err.Error() != wrong.Error() {
				t.Errorf("%s: error %q differs from %q", what, err, wrong)
			}
		}
	})
}

// TestCreateUserRefuses ensures CreateUser refuses a taken email (in any case) with
// email_taken, a short or overlong password with weak_password, anything but a plain email
// with invalid_email, a role the organization does not act as with invalid_role, and another
// organization with role_not_allowed, and that it stores no user when it refuses.
func TestCreateUserRefuses(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		mustUser(t, f, "alice@example.com")
		create := func(by trade.Actor, email string, role trade.Role, pw string) error {
			_, err := f.svc.CreateUser(ctx, by, "buy-1", email, "Someone", role, pw)
			return err
		}
		for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM"} {
			wantFault(t, "duplicate "+email, create(admin, email, trade.RoleBuyer, otherPW), fault.Invalid, "email_taken")
		}
		for _, pw := range []string{"", "short", strings.Repeat("x", access.PasswordMin-1), strings.Repeat("x", access.PasswordMax+1)} {
			wantFault(t, fmt.Sprintf("password of %d bytes", len(pw)), create(admin, "bob@example.com", trade.RoleBuyer, pw), fault.Invalid, "weak_password")
		}
		for _, email := range []string{"", "bob", "bob@", "@example.com", "Bob <bob@example.com>", " bob@example.com", "bob@example.com\n",
			strings.Repeat("b", access.EmailMax) + "@example.com"} {
			wantFault(t, "email "+email, create(admin, email, trade.RoleBuyer, otherPW), fault.Invalid, "invalid_email")
		}
		wantFault(t, "supplier in a buyer org", create(admin, "bob@example.com", trade.RoleSupplier, otherPW), fault.Invalid, "invalid_role")
		wantFault(t, "foreign org", create(buyer2, "bob@example.com", trade.RoleBuyer, otherPW), fault.Forbidden, "role_not_allowed")

		us, err := f.store.Users(ctx, "buy-1")
		if err != nil || len(us) != 1 {
			t.Errorf("users of buy-1: %d (%v), want only the first", len(us), err)
		}
		if _, err := f.store.UserByEmail(ctx, "bob@example.com"); err != access.ErrNotFound {
			t.Errorf("a refused user was stored: %v", err)
		}
	})
}

// TestChangePassword ensures a password changes only with the current one and to a strong
// one, after which the old password fails and the new one works.
func TestChangePassword(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		u := mustUser(t, f, "alice@example.com")
		me := trade.Actor{Role: u.Role, OrgID: u.OrgID, UserID: u.ID}

		wantFault(t, "wrong current", f.svc.ChangePassword(ctx, me, otherPW, otherPW), fault.Invalid, "invalid_credentials")
		wantFault(t, "weak next", f.svc.ChangePassword(ctx, me, goodPW, "short"), fault.Invalid, "weak_password")
		wantFault(t, "unknown user", f.svc.ChangePassword(ctx, buyer1, goodPW, otherPW), fault.Invalid, "invalid_credentials")
		if _, _, err := f.svc.Login(ctx, u.Email, goodPW); err != nil {
			t.Fatalf("refused changes changed the password: %v", err)
		}

		if err := f.svc.ChangePassword(ctx, me, goodPW, otherPW); err != nil {
			t.Fatalf("change: %v", err)
		}
		_, _, err := f.svc.Login(ctx, u.Email, goodPW)
		wantFault(t, "old password", err, fault.Unauthorized, "invalid_credentials")
		if _, _, err := f.svc.Login(ctx, u.Email, otherPW); err != nil {
			t.Errorf("new password: %v", err)
		}
		stored, err := f.store.User(ctx, u.ID)
		if err != nil || stored.Email != u.Email || stored.Role != u.Role || stored.OrgID != u.OrgID || !stored.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("after the change the user is %+v (%v), want %+v but for the hash", stored, err, u)
		}
	})
}

// TestDisabledUserCannotLogIn ensures a user disabled through the store cannot log in, even
// with the right password, and gets the same error as a wrong password; enabled again, it can.
func TestDisabledUserCannotLogIn(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		u := mustUser(t, f, "alice@example.com")
		at := t0.Add(time.Hour)
		u.DisabledAt = &at
		if err := f.store.UpdateUser(ctx, u); err != nil {
			t.Fatalf("disable: %v", err)
		}
		_, _, disabled := f.svc.Login(ctx, u.Email, goodPW)
		wantFault(t, "disabled", disabled, fault.Unauthorized, "invalid_credentials")
		_, _, wrong := f.svc.Login(ctx, u.Email, otherPW)
		if disabled != nil && wrong != nil && disabled.Error() != wrong.Error() {
			t.Errorf("disabled error %q differs from wrong-password error %q", disabled, wrong)
		}

		u.DisabledAt = nil
		if err := f.store.UpdateUser(ctx, u); err != nil {
			t.Fatalf("enable: %v", err)
		}
		if _, _, err := f.svc.Login(ctx, u.Email, goodPW); err != nil {
			t.Errorf("enabled user: %v", err)
		}
	})
}
