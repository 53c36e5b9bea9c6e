package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/trade"
)

// TestAccessSQLite runs the access store's conformance suite on SQLite.
func TestAccessSQLite(t *testing.T) { runAccessConformance(t, openSQLiteT) }

// TestAccessPostgres runs the access store's conformance suite on PostgreSQL; it never skips.
func TestAccessPostgres(t *testing.T) {
	runAccessConformance(t, func(t testing.TB) *DB { return openPostgresT(t, "") })
}

// runAccessConformance holds both databases to one access.Store contract, a new database per
// subtest.
func runAccessConformance(t *testing.T, open func(testing.TB) *DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s access.Store)
	}{
		{"users", testAccessUsers},
		{"user_update", testAccessUserUpdate},
		{"users_list", testAccessUsersList},
		{"user_email_race", testAccessUserEmailRace},
		{"api_keys", testAccessAPIKeys},
		{"api_key_revoke", testAccessAPIKeyRevoke},
		{"api_keys_list", testAccessAPIKeysList},
		{"time_round_trip", testAccessTimeRoundTrip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t).Access())
		})
	}
	t.Run("api_keys_list_bound", func(t *testing.T) {
		t.Parallel()
		testAccessAPIKeysListBound(t, open(t))
	})
}

func accessUser(id, org, email string, at time.Time) access.User {
	return access.User{ID: id, OrgID: org, Email: email, Name: "Name of " + id, Role: trade.RoleBuyer,
		PasswordHash: "argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: at}
}

func accessKey(id, org string, at time.Time) access.APIKey {
	return access.APIKey{ID: id, OrgID: org, Role: trade.RoleSupplier, Name: "key " + id,
		Hash: strings.Repeat("ab", 32), CreatedAt: at, CreatedBy: "usr_1"}
}

// must fails the test on an error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantSentinel fails unless err is target itself: the access service compares with ==.
func wantSentinel(t *testing.T, what string, err, target error) {
	t.Helper()
	if err != target {
		t.Errorf("%s: got error %v, want exactly %v", what, err, target)
	}
}

// testAccessUsers ensures a user reads back as written by ID and by email, and that IDs and
// emails are unique.
func testAccessUsers(t *testing.T, s access.Store) {
	ctx := context.Background()
	u := accessUser("usr_1", "buy-1", "alice@example.com", t0)
	must(t, "insert", s.InsertUser(ctx, u))

	got, err := s.User(ctx, u.ID)
	must(t, "user", err)
	same(t, "User", got, u)
	got, err = s.UserByEmail(ctx, u.Email)
	must(t, "user by email", err)
	same(t, "UserByEmail", got, u)

	dupID := accessUser("usr_1", "buy-2", "bob@example.com", t0)
	wantSentinel(t, "same ID", s.InsertUser(ctx, dupID), access.ErrDuplicate)
	dupEmail := accessUser("usr_2", "buy-2", "alice@example.com", t0)
	wantSentinel(t, "same email", s.InsertUser(ctx, dupEmail), access.ErrDuplicate)
	got, err = s.User(ctx, u.ID)
	must(t, "user after duplicates", err)
	same(t, "user after duplicates", got, u)

	_, err = s.User(ctx, "usr_none")
	wantSentinel(t, "unknown ID", err, access.ErrNotFound)
	_, err = s.UserByEmail(ctx, "nobody@example.com")
	wantSentinel(t, "unknown email", err, access.ErrNotFound)
	_, err = s.UserByEmail(ctx, "ALICE@example.com")
	wantSentinel(t, "email matched exactly (the service lowercases)", err, access.ErrNotFound)
}

// testAccessUserUpdate ensures UpdateUser replaces the mutable fields, keeps the organization
// and creation time, refuses an unknown ID and another user's email, and can clear DisabledAt.
func testAccessUserUpdate(t *testing.T, s access.Store) {
	ctx := context.Background()
	u := accessUser("usr_1", "buy-1", "alice@example.com", t0)
	must(t, "insert", s.InsertUser(ctx, u))
	must(t, "insert other", s.InsertUser(ctx, accessUser("usr_2", "buy-1", "bob@example.com", t0)))

	disabled := t0.Add(time.Hour)
	next := u
	next.Email, next.Name, next.Role, next.PasswordHash = "alice@new.example", "Alice B.", trade.RoleSupplier, "argon2id$other"
	next.DisabledAt = &disabled
	moved := next
	moved.OrgID, moved.CreatedAt = "sup-9", t0.Add(24*time.Hour) // ignored: neither ever changes
	must(t, "update", s.UpdateUser(ctx, moved))
	got, err := s.User(ctx, u.ID)
	must(t, "user", err)
	same(t, "updated user", got, next)
	_, err = s.UserByEmail(ctx, "alice@example.com")
	wantSentinel(t, "old email", err, access.ErrNotFound)

	next.DisabledAt = nil
	must(t, "enable", s.UpdateUser(ctx, next))
	got, err = s.User(ctx, u.ID)
	must(t, "user", err)
	same(t, "enabled user", got, next)

	taken := next
	taken.Email = "bob@example.com"
	wantSentinel(t, "update to a taken email", s.UpdateUser(ctx, taken), access.ErrDuplicate)
	got, err = s.User(ctx, u.ID)
	must(t, "user", err)
	same(t, "user after refused update", got, next)

	wantSentinel(t, "update unknown", s.UpdateUser(ctx, accessUser("usr_none", "buy-1", "x@example.com", t0)), access.ErrNotFound)
}

// testAccessUsersList ensures Users lists one organization's users by creation time, ties by ID.
func testAccessUsersList(t *testing.T, s access.Store) {
	ctx := context.Background()
	for _, u := range []access.User{
		accessUser("usr_c", "buy-1", "c@example.com", t0.Add(2*time.Second)),
		accessUser("usr_b", "buy-1", "b@example.com", t0),
		accessUser("usr_x", "buy-2", "x@example.com", t0.Add(time.Second)),
		accessUser("usr_a", "buy-1", "a@example.com", t0),
		accessUser("usr_d", "buy-1", "d@example.com", t0.Add(time.Second)),
	} {
		must(t, "insert "+u.ID, s.InsertUser(ctx, u))
	}
	us, err := s.Users(ctx, "buy-1")
	must(t, "users", err)
	var ids []string
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	same(t, "order", ids, []string{"usr_a", "usr_b", "usr_d", "usr_c"})
	us, err = s.Users(ctx, "nobody")
	must(t, "users of nobody", err)
	if us == nil || len(us) != 0 {
		t.Errorf("users of an unknown org = %#v, want an empty list", us)
	}
}

// testAccessUserEmailRace ensures that of users inserted at once with one email exactly one is
// stored and every other insert gets ErrDuplicate.
func testAccessUserEmailRace(t *testing.T, s access.Store) {
	ctx := context.Background()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.InsertUser(ctx, accessUser(fmt.Sprintf("usr_%d", i), "buy-1", "same@example.com", t0))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch err {
		case nil:
			ok++
		case access.ErrDuplicate:
		default:
			t.Errorf("insert %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d inserts succeeded, want 1", ok)
	}
}

// testAccessAPIKeys ensures a key reads back as written, hash included, and that IDs are unique.
func testAccessAPIKeys(t *testing.T, s access.Store) {
	ctx := context.Background()
	k := accessKey("key_1", "sup-1", t0)
	must(t, "insert", s.InsertAPIKey(ctx, k))
	got, err := s.APIKey(ctx, k.ID)
	must(t, "key", err)
	same(t, "APIKey", got, k)
	if got.Hash != k.Hash {
		t.Errorf("hash = %q, want %q", got.Hash, k.Hash)
	}

	dup := accessKey("key_1", "buy-1", t0.Add(time.Second))
	wantSentinel(t, "same ID", s.InsertAPIKey(ctx, dup), access.ErrDuplicate)
	got, err = s.APIKey(ctx, k.ID)
	must(t, "key after duplicate", err)
	same(t, "key after duplicate", got, k)

	_, err = s.APIKey(ctx, "key_none")
	wantSentinel(t, "unknown key", err, access.ErrNotFound)
}

// testAccessAPIKeyRevoke ensures revoking records the time once (a second revocation keeps the
// first time), touches no other key, and refuses an unknown ID.
func testAccessAPIKeyRevoke(t *testing.T, s access.Store) {
	ctx := context.Background()
	k, other := accessKey("key_1", "sup-1", t0), accessKey("key_2", "sup-1", t0)
	must(t, "insert", s.InsertAPIKey(ctx, k))
	must(t, "insert other", s.InsertAPIKey(ctx, other))

	at := t0.Add(time.Minute)
	must(t, "revoke", s.RevokeAPIKey(ctx, k.ID, at))
	must(t, "revoke again", s.RevokeAPIKey(ctx, k.ID, at.Add(time.Hour)))
	got, err := s.APIKey(ctx, k.ID)
	must(t, "key", err)
	k.RevokedAt = &at
	same(t, "revoked key", got, k)
	got, err = s.APIKey(ctx, other.ID)
	must(t, "other key", err)
	same(t, "other key", got, other)

	wantSentinel(t, "revoke unknown", s.RevokeAPIKey(ctx, "key_none", at), access.ErrNotFound)
}

// testAccessAPIKeysList ensures APIKeys lists one organization's keys, revoked ones too, by
// creation time with ties by ID.
func testAccessAPIKeysList(t *testing.T, s access.Store) {
	ctx := context.Background()
	for _, k := range []access.APIKey{
		accessKey("key_c", "sup-1", t0.Add(2*time.Second)),
		accessKey("key_b", "sup-1", t0),
		accessKey("key_x", "sup-2", t0.Add(time.Second)),
		accessKey("key_a", "sup-1", t0),
		accessKey("key_d", "sup-1", t0.Add(time.Second)),
	} {
		must(t, "insert "+k.ID, s.InsertAPIKey(ctx, k))
	}
	must(t, "revoke", s.RevokeAPIKey(ctx, "key_b", t0.Add(time.Hour)))
	ks, err := s.APIKeys(ctx, "sup-1")
	must(t, "keys", err)
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	same(t, "order", ids, []string{"key_a", "key_b", "key_d", "key_c"})
	if ks[1].RevokedAt == nil || !ks[1].RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("listed revoked key: RevokedAt = %v", ks[1].RevokedAt)
	}
	ks, err = s.APIKeys(ctx, "nobody")
	must(t, "keys of nobody", err)
	if ks == nil || len(ks) != 0 {
		t.Errorf("keys of an unknown org = %#v, want an empty list", ks)
	}
}

// testAccessAPIKeysListBound ensures APIKeys returns at most APIKeysListMax keys, the oldest.
func testAccessAPIKeysListBound(t *testing.T, db *DB) {
	ctx := context.Background()
	// One transaction on the raw handle: 1001 separate durable commits would be slow.
	sqlTx, err := db.SQL().BeginTx(ctx, nil)
	must(t, "begin", err)
	defer func() { _ = sqlTx.Rollback() }()
	for i := range APIKeysListMax + 1 {
		_, err := sqlTx.ExecContext(ctx,
			`INSERT INTO api_keys (id, org_id, role, name, hash, created_at, created_by) VALUES ($1, 'sup-1', 'supplier', 'k', 'h', $2, 'usr_1')`,
			fmt.Sprintf("key_%04d", i), micros(t0.Add(time.Duration(APIKeysListMax-i)*time.Second)))
		must(t, "insert", err)
	}
	must(t, "commit", sqlTx.Commit())
	ks, err := db.Access().APIKeys(ctx, "sup-1")
	must(t, "keys", err)
	if len(ks) != APIKeysListMax {
		t.Fatalf("listed %d keys, want %d", len(ks), APIKeysListMax)
	}
	// The newest key (key_0000) is the one left out; the oldest (key_1000) comes first.
	if ks[0].ID != "key_1000" || ks[len(ks)-1].ID != "key_0001" {
		t.Errorf("listed %s … %s, want key_1000 … key_0001", ks[0].ID, ks[len(ks)-1].ID)
	}
}

// testAccessTimeRoundTrip ensures times come back in UTC at microsecond precision, whatever
// zone and nanoseconds they were written with, and that a nil DisabledAt or RevokedAt stays nil.
func testAccessTimeRoundTrip(t *testing.T, s access.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2025, 6, 30, 23, 59, 59, 987654321, zone)
	disabled := created.Add(36*time.Hour + 999*time.Nanosecond)
	want := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

	u := accessUser("usr_1", "buy-1", "alice@example.com", created)
	u.DisabledAt = &disabled
	must(t, "insert user", s.InsertUser(ctx, u))
	got, err := s.User(ctx, u.ID)
	must(t, "user", err)
	if got.CreatedAt != want(created) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("user CreatedAt = %v, want %v", got.CreatedAt, want(created))
	}
	if got.DisabledAt == nil || *got.DisabledAt != want(disabled) {
		t.Errorf("user DisabledAt = %v, want %v", got.DisabledAt, want(disabled))
	}

	k := accessKey("key_1", "sup-1", created)
	must(t, "insert key", s.InsertAPIKey(ctx, k))
	gk, err := s.APIKey(ctx, k.ID)
	must(t, "key", err)
	if gk.CreatedAt != want(created) || gk.RevokedAt != nil {
		t.Errorf("key CreatedAt = %v, RevokedAt = %v; want %v, nil", gk.CreatedAt, gk.RevokedAt, want(created))
	}
	must(t, "revoke", s.RevokeAPIKey(ctx, k.ID, disabled))
	gk, err = s.APIKey(ctx, k.ID)
	must(t, "key", err)
	if gk.RevokedAt == nil || *gk.RevokedAt != want(disabled) {
		t.Errorf("key RevokedAt = %v, want %v", gk.RevokedAt, want(disabled))
	}
}

// TestAccessSchemaSame ensures the users, api_keys and access_audit tables have the same columns, in the same
// order and with the same nullability, on SQLite and PostgreSQL.
func TestAccessSchemaSame(t *testing.T) {
	ctx := context.Background()
	lite, pg := openSQLiteT(t), openPostgresT(t, "")
	for _, table := range []string{"users", "api_keys", "access_audit"} {
		var liteCols, pgCols []string
		rows, err := lite.SQL().QueryContext(ctx, `SELECT name, "notnull" OR pk FROM pragma_table_info($1) ORDER BY cid`, table)
		must(t, "sqlite columns", err)
		for rows.Next() {
			var name string
			var notNull bool
			must(t, "scan", rows.Scan(&name, &notNull))
			liteCols = append(liteCols, fmt.Sprintf("%s notnull=%v", name, notNull))
		}
		must(t, "sqlite columns", errors.Join(rows.Err(), rows.Close()))
		rows, err = pg.SQL().QueryContext(ctx,
			`SELECT column_name, is_nullable = 'NO' FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, table)
		must(t, "postgres columns", err)
		for rows.Next() {
			var name string
			var notNull bool
			must(t, "scan", rows.Scan(&name, &notNull))
			pgCols = append(pgCols, fmt.Sprintf("%s notnull=%v", name, notNull))
		}
		must(t, "postgres columns", errors.Join(rows.Err(), rows.Close()))
		if len(liteCols) == 0 || !slices.Equal(liteCols, pgCols) {
			t.Errorf("%s: sqlite %v, postgres %v", table, liteCols, pgCols)
		}
	}
}
