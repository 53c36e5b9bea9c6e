package store

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestSessionsSQLite runs the session store's conformance suite on SQLite.
func TestSessionsSQLite(t *testing.T) { runSessionsConformance(t, openSQLiteT) }

// TestSessionsPostgres runs the session store's conformance suite on PostgreSQL; it never skips.
func TestSessionsPostgres(t *testing.T) {
	runSessionsConformance(t, func(t testing.TB) *DB { return openPostgresT(t, "") })
}

// runSessionsConformance holds both databases to the scs.Store contract, a new database per
// subtest.
func runSessionsConformance(t *testing.T, open func(testing.TB) *DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"round_trip", testSessionsRoundTrip},
		{"expiry", testSessionsExpiry},
		{"overwrite", testSessionsOverwrite},
		{"delete", testSessionsDelete},
		{"sweep", testSessionsSweep},
		{"bounds", testSessionsBounds},
		{"scs", testSessionsSCS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// clockAt makes db's clock read t, for tests of expiry.
func clockAt(db *DB, t *time.Time) { db.now = func() time.Time { return *t } }

// testSessionsRoundTrip ensures committed data reads back byte for byte, binary included.
func testSessionsRoundTrip(t *testing.T, db *DB) {
	s, ctx := db.Sessions(), context.Background()
	data := []byte{0, 1, 2, 0xff, 0xfe, '\n', 'x', 0}
	must(t, "commit", s.CommitCtx(ctx, "tok-a", data, time.Now().Add(time.Hour)))
	got, found, err := s.FindCtx(ctx, "tok-a")
	if err != nil || !found || !bytes.Equal(got, data) {
		t.Fatalf("find = %v, %v, %v; want %v", got, found, err, data)
	}
	if _, found, err := s.FindCtx(ctx, "tok-unknown"); found || err != nil {
		t.Errorf("unknown token: found %v, err %v", found, err)
	}
	// The context-free methods of scs.Store are the same store.
	must(t, "commit", s.Commit("tok-b", []byte("b"), time.Now().Add(time.Hour)))
	if got, found, err := s.Find("tok-b"); err != nil || !found || string(got) != "b" {
		t.Errorf("Find = %q, %v, %v", got, found, err)
	}
	must(t, "commit empty", s.CommitCtx(ctx, "tok-empty", nil, time.Now().Add(time.Hour)))
	if got, found, err := s.FindCtx(ctx, "tok-empty"); err != nil || !found || len(got) != 0 {
		t.Errorf("empty data: %q, %v, %v", got, found, err)
	}
}

// testSessionsExpiry ensures a session is found until its expiry and not from then on.
func testSessionsExpiry(t *testing.T, db *DB) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clockAt(db, &now)
	s, ctx := db.Sessions(), context.Background()
	must(t, "commit", s.CommitCtx(ctx, "tok", []byte("x"), now.Add(time.Minute)))
	if _, found, _ := s.FindCtx(ctx, "tok"); !found {
		t.Fatal("live session not found")
	}
	now = now.Add(time.Minute) // expiry is exclusive: at the instant, the session is gone
	if _, found, err := s.FindCtx(ctx, "tok"); found || err != nil {
		t.Errorf("expired session: found %v, err %v", found, err)
	}
	must(t, "commit past", s.CommitCtx(ctx, "old", []byte("x"), now.Add(-time.Hour)))
	if _, found, _ := s.FindCtx(ctx, "old"); found {
		t.Error("a session committed with a past expiry was found")
	}
}

// testSessionsOverwrite ensures a second commit replaces data and expiry, as scs does on every
// request when an idle timeout is set.
func testSessionsOverwrite(t *testing.T, db *DB) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clockAt(db, &now)
	s, ctx := db.Sessions(), context.Background()
	must(t, "commit", s.CommitCtx(ctx, "tok", []byte("first"), now.Add(time.Minute)))
	must(t, "recommit", s.CommitCtx(ctx, "tok", []byte("second"), now.Add(time.Hour)))
	now = now.Add(30 * time.Minute) // past the first expiry, before the second
	got, found, err := s.FindCtx(ctx, "tok")
	if err != nil || !found || string(got) != "second" {
		t.Errorf("after overwrite: %q, %v, %v", got, found, err)
	}
	// An earlier expiry also replaces a later one: the idle timeout may shorten a session.
	must(t, "shorten", s.CommitCtx(ctx, "tok", []byte("third"), now.Add(-time.Second)))
	if _, found, _ := s.FindCtx(ctx, "tok"); found {
		t.Error("a shortened session is still found")
	}
}

// testSessionsDelete ensures Delete removes one session and an unknown token is not an error.
func testSessionsDelete(t *testing.T, db *DB) {
	s, ctx := db.Sessions(), context.Background()
	exp := time.Now().Add(time.Hour)
	must(t, "commit a", s.CommitCtx(ctx, "a", []byte("a"), exp))
	must(t, "commit b", s.CommitCtx(ctx, "b", []byte("b"), exp))
	must(t, "delete a", s.DeleteCtx(ctx, "a"))
	must(t, "delete a again", s.Delete("a"))
	must(t, "delete unknown", s.DeleteCtx(ctx, "nope"))
	if _, found, _ := s.FindCtx(ctx, "a"); found {
		t.Error("deleted session found")
	}
	if _, found, _ := s.FindCtx(ctx, "b"); !found {
		t.Error("the other session was deleted too")
	}
}

// testSessionsSweep ensures expired rows are deleted — by DeleteExpired, and by a commit once
// SessionSweepEvery has passed — while live ones stay.
func testSessionsSweep(t *testing.T, db *DB) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clockAt(db, &now)
	s, ctx := db.Sessions(), context.Background()
	must(t, "commit live", s.CommitCtx(ctx, "live", []byte("l"), now.Add(24*time.Hour))) // sweeps: first commit
	for _, tok := range []string{"dead1", "dead2"} {
		must(t, "commit "+tok, s.CommitCtx(ctx, tok, []byte("d"), now.Add(time.Minute)))
	}
	rows := func() int {
		var n int
		must(t, "count", db.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n))
		return n
	}
	now = now.Add(2 * time.Minute)
	if n := rows(); n != 3 {
		t.Fatalf("%d rows before the sweep, want 3: a sweep ran too early", n)
	}
	now = now.Add(SessionSweepEvery)
	must(t, "commit triggers sweep", s.CommitCtx(ctx, "live", []byte("l2"), now.Add(24*time.Hour)))
	if n := rows(); n != 1 {
		t.Errorf("%d rows after the sweep, want 1", n)
	}
	must(t, "commit dead3", s.CommitCtx(ctx, "dead3", []byte("d"), now.Add(time.Second)))
	now = now.Add(time.Minute)
	n, err := s.DeleteExpired(ctx)
	if err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if _, found, _ := s.FindCtx(ctx, "live"); !found {
		t.Error("the sweep deleted a live session")
	}
}

// testSessionsBounds ensures tokens and data beyond the limits are refused on commit and not
// found on lookup, rather than stored or sent to the database.
func testSessionsBounds(t *testing.T, db *DB) {
	s, ctx := db.Sessions(), context.Background()
	long := strings.Repeat("t", SessionTokenMax+1)
	if err := s.CommitCtx(ctx, long, []byte("x"), time.Now().Add(time.Hour)); err == nil {
		t.Error("an oversized token was committed")
	}
	if err := s.CommitCtx(ctx, "", []byte("x"), time.Now().Add(time.Hour)); err == nil {
		t.Error("an empty token was committed")
	}
	if _, found, err := s.FindCtx(ctx, long); found || err != nil {
		t.Errorf("oversized token lookup: %v, %v", found, err)
	}
	if err := s.CommitCtx(ctx, "big", make([]byte, SessionDataMax+1), time.Now().Add(time.Hour)); err == nil {
		t.Error("oversized data was committed")
	}
}

// testSessionsSCS ensures the store works under scs's middleware: a value put in one request is
// there in the next request that carries the cookie, and gone after Destroy.
func testSessionsSCS(t *testing.T, db *DB) {
	sm := scs.New()
	sm.Store = db.Sessions()
	sm.HashTokenInStore = true
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) { sm.Put(r.Context(), "who", "ada") })
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sm.GetString(r.Context(), "who")) })
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) { must(t, "destroy", sm.Destroy(r.Context())) })
	h := sm.LoadAndSave(mux)
	do := func(path string, cookies []*http.Cookie) *http.Response {
		req := httptest.NewRequest("GET", path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	cookies := do("/put", nil).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies after put: %v", cookies)
	}
	var stored int
	must(t, "count", db.r.QueryRowContext(context.Background(), `SELECT count(*) FROM sessions WHERE token = $1`, cookies[0].Value).Scan(&stored))
	if stored != 0 {
		t.Error("the raw cookie token is stored; want its hash")
	}
	body, _ := io.ReadAll(do("/get", cookies).Body)
	if string(body) != "ada" {
		t.Errorf("next request reads %q, want ada", body)
	}
	do("/destroy", cookies)
	body, _ = io.ReadAll(do("/get", cookies).Body)
	if string(body) != "" {
		t.Errorf("after destroy reads %q", body)
	}
}

// TestSessionsSurviveReopen ensures a session outlives the process that made it (SQLite file).
func TestSessionsSurviveReopen(t *testing.T) {
	path := "sqlite:" + filepath.Join(t.TempDir(), "store.db")
	ctx := context.Background()
	db, err := Open(ctx, path)
	must(t, "open", err)
	must(t, "commit", db.Sessions().CommitCtx(ctx, "tok", []byte("kept"), time.Now().Add(time.Hour)))
	must(t, "close", db.Close())
	db, err = Open(ctx, path)
	must(t, "reopen", err)
	defer db.Close()
	if got, found, err := db.Sessions().FindCtx(ctx, "tok"); err != nil || !found || string(got) != "kept" {
		t.Errorf("after reopen: %q, %v, %v", got, found, err)
	}
}
