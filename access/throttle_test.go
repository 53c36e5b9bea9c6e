package access_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

// manualClock stands still until a test moves it.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// throttled is a Service over a real store with a clock the test moves.
type throttled struct {
	svc   *access.Service
	store access.Store
	clock *manualClock
}

// eachThrottleStore runs fn on SQLite and on PostgreSQL, with a standing clock.
func eachThrottleStore(t *testing.T, fn func(t *testing.T, f throttled)) {
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
			c := &manualClock{t: t0}
			s := db.Access()
			fn(t, throttled{svc: access.New(s, testOrgs, c.now, tiny), store: s, clock: c})
		})
	}
}

func (f throttled) user(t *testing.T, email string) access.User {
	t.Helper()
	u, err := f.svc.CreateUser(context.Background(), admin, "buy-1", email, "Test", trade.RoleBuyer, goodPW)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// wantLocked fails unless err refuses a locked login, waiting retry.
func wantLocked(t *testing.T, what string, err error, retry time.Duration) {
	t.Helper()
	wantFault(t, what, err, fault.Unauthorized, "too_many_attempts")
	var le *access.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("%s: %v is not a LockedError", what, err)
	}
	if le.RetryAfter != retry {
		t.Errorf("%s: retry after %v, want %v", what, le.RetryAfter, retry)
	}
}

// TestLoginLockout ensures the AccountFailuresMax-th failure within the window locks the
// account: the right password is then refused with "try again in N minutes", exactly as an
// unknown email locked the same way is; the lockout ends when the clock passes it.
func TestLoginLockout(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		f.user(t, "alice@example.com")
		for i := 1; i <= access.AccountFailuresMax; i++ {
			_, _, err := f.svc.LoginFrom(ctx, "alice@example.com", otherPW, "198.51.100.1:4000")
			wantFault(t, fmt.Sprintf("failure %d", i), err, fault.Unauthorized, "invalid_credentials")
			f.clock.add(time.Minute)
		}
		// Locked at the last failure, a few minutes ago: the right password is refused too.
		_, _, err := f.svc.LoginFrom(ctx, "ALICE@example.com", goodPW, "203.0.113.9")
		wantLocked(t, "right password while locked", err, access.LockoutBase-time.Minute)
		if e, _ := fault.As(err); e.Message != "too many attempts; try again in 14 minutes" {
			t.Errorf("message %q", e.Message)
		}
		// An unknown email is locked the same way and says the same.
		for range access.AccountFailuresMax {
			f.svc.LoginFrom(ctx, "nobody@example.com", otherPW, "203.0.113.10")
		}
		f.clock.add(time.Minute)
		_, _, unknown := f.svc.LoginFrom(ctx, "nobody@example.com", goodPW, "203.0.113.11")
		wantLocked(t, "unknown email while locked", unknown, access.LockoutBase-time.Minute)
		if unknown.Error() != err.Error() {
			t.Errorf("a locked unknown email says %q, a locked account %q", unknown, err)
		}
		// The lockout ends with the clock; then the right password works.
		f.clock.add(access.LockoutBase - 2*time.Minute - time.Second)
		_, _, err = f.svc.LoginFrom(ctx, "alice@example.com", goodPW, "")
		wantLocked(t, "a second before the end", err, time.Second)
		f.clock.add(time.Second)
		if _, _, err := f.svc.LoginFrom(ctx, "alice@example.com", goodPW, ""); err != nil {
			t.Fatalf("login after the lockout: %v", err)
		}
	})
}

// TestLoginLockoutGrows ensures a subject locked again soon after a lockout is locked twice as
// long each time, up to LockoutMax, and that a login refused while locked is not a failure.
func TestLoginLockoutGrows(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		f.user(t, "bob@example.com")
		want := access.LockoutBase
		for strike := 1; strike <= 8; strike++ {
			for range access.AccountFailuresMax {
				_, _, err := f.svc.LoginFrom(ctx, "bob@example.com", otherPW, "")
				wantFault(t, "failure", err, fault.Unauthorized, "invalid_credentials")
			}
			for range 3 { // refused attempts change nothing
				_, _, err := f.svc.LoginFrom(ctx, "bob@example.com", otherPW, "")
				wantLocked(t, fmt.Sprintf("lockout %d", strike), err, want)
			}
			f.clock.add(want)
			want = min(2*want, access.LockoutMax)
		}
		if want != access.LockoutMax {
			t.Errorf("the lockout grew to %v, want the cap %v", want, access.LockoutMax)
		}
		// A lockout that ended longer than StrikeMemory ago is forgotten.
		f.clock.add(access.StrikeMemory + time.Second)
		for range access.AccountFailuresMax {
			f.svc.LoginFrom(ctx, "bob@example.com", otherPW, "")
		}
		_, _, err := f.svc.LoginFrom(ctx, "bob@example.com", goodPW, "")
		wantLocked(t, "after a long pause", err, access.LockoutBase)
	})
}

// TestLoginSuccessResets ensures a successful login clears the account's failures: failures
// before it and after it do not add up to a lockout.
func TestLoginSuccessResets(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		f.user(t, "carol@example.com")
		for round := range 3 {
			for range access.AccountFailuresMax - 1 {
				_, _, err := f.svc.LoginFrom(ctx, "carol@example.com", otherPW, "")
				wantFault(t, "failure", err, fault.Unauthorized, "invalid_credentials")
			}
			if _, _, err := f.svc.LoginFrom(ctx, "carol@example.com", goodPW, ""); err != nil {
				t.Fatalf("round %d: login after %d failures: %v", round, access.AccountFailuresMax-1, err)
			}
		}
		// Failures older than the window do not count either.
		for range access.AccountFailuresMax - 1 {
			f.svc.LoginFrom(ctx, "carol@example.com", otherPW, "")
		}
		f.clock.add(access.LoginWindow + time.Second)
		if _, _, err := f.svc.LoginFrom(ctx, "carol@example.com", otherPW, ""); fault.ReasonOf(err) != "invalid_credentials" {
			t.Fatalf("a failure after the window: %v", err)
		}
		if _, _, err := f.svc.LoginFrom(ctx, "carol@example.com", goodPW, ""); err != nil {
			t.Fatalf("login with failures outside the window: %v", err)
		}
	})
}

// TestLoginClientLimit ensures ClientFailuresMax failures from one client address, spread over
// many emails that each stay under the account limit, lock the address for every account, the
// right password included, while other addresses log in; an IPv6 client counts by its /64.
func TestLoginClientLimit(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		f.user(t, "dave@example.com")
		for i := range access.ClientFailuresMax {
			email := fmt.Sprintf("guess%d@example.com", i/(access.AccountFailuresMax-1))
			_, _, err := f.svc.LoginFrom(ctx, email, otherPW, fmt.Sprintf("192.0.2.7:%d", 1000+i))
			wantFault(t, fmt.Sprintf("guess %d", i), err, fault.Unauthorized, "invalid_credentials")
		}
		_, _, err := f.svc.LoginFrom(ctx, "dave@example.com", goodPW, "192.0.2.7:9999")
		wantLocked(t, "right password from the locked address", err, access.LockoutBase)
		_, _, err = f.svc.LoginFrom(ctx, "dave@example.com", goodPW, "[::ffff:192.0.2.7]:80")
		wantLocked(t, "the locked address mapped into IPv6", err, access.LockoutBase)
		if _, _, err := f.svc.LoginFrom(ctx, "dave@example.com", goodPW, "192.0.2.8:1000"); err != nil {
			t.Fatalf("login from another address: %v", err)
		}

		for i := range access.ClientFailuresMax {
			email := fmt.Sprintf("v6guess%d@example.com", i/(access.AccountFailuresMax-1))
			f.svc.LoginFrom(ctx, email, otherPW, fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1))
		}
		_, _, err = f.svc.LoginFrom(ctx, "dave@example.com", goodPW, "[2001:db8:1:2:ffff::1]:443")
		wantLocked(t, "another address of the same /64", err, access.LockoutBase)
		if _, _, err := f.svc.LoginFrom(ctx, "dave@example.com", goodPW, "[2001:db8:1:3::1]:443"); err != nil {
			t.Fatalf("login from another /64: %v", err)
		}
	})
}

// TestLoginConcurrentFailures ensures concurrent wrong attempts are all counted: two at once on
// an account one short of its limit lock it, and a burst of twice the limit at a fresh account
// gets at most AccountFailuresMax passwords checked, the rest refused.
func TestLoginConcurrentFailures(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		f.user(t, "erin@example.com")
		for range access.AccountFailuresMax - 2 {
			f.svc.LoginFrom(ctx, "erin@example.com", otherPW, "")
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = f.svc.LoginFrom(ctx, "erin@example.com", otherPW, "") })
		}
		wg.Wait()
		for i, err := range errs {
			wantFault(t, fmt.Sprintf("concurrent failure %d", i), err, fault.Unauthorized, "invalid_credentials")
		}
		_, _, err := f.svc.LoginFrom(ctx, "erin@example.com", goodPW, "")
		wantLocked(t, "after two concurrent failures", err, access.LockoutBase)

		f.user(t, "frank@example.com")
		errs = make([]error, 2*access.AccountFailuresMax)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = f.svc.LoginFrom(ctx, "frank@example.com", otherPW, "") })
		}
		wg.Wait()
		checked := 0
		for _, err := range errs {
			switch fault.ReasonOf(err) {
			case "invalid_credentials":
				checked++
			case "too_many_attempts":
			default:
				t.Errorf("burst: %v", err)
			}
		}
		if checked != access.AccountFailuresMax {
			t.Errorf("a burst of %d got %d passwords checked, want %d", len(errs), checked, access.AccountFailuresMax)
		}
		_, _, err = f.svc.LoginFrom(ctx, "frank@example.com", goodPW, "")
		wantLocked(t, "after the burst", err, access.LockoutBase)
	})
}

// TestLoginSweep ensures the sweep deletes failures older than the window and subjects idle for
// StrikeMemory, and that the sweep a failed login runs leaves what still counts.
func TestLoginSweep(t *testing.T) {
	eachThrottleStore(t, func(t *testing.T, f throttled) {
		ctx := context.Background()
		for i := range 3 {
			f.svc.LoginFrom(ctx, fmt.Sprintf("old%d@example.com", i), otherPW, "")
		}
		f.clock.add(access.StrikeMemory + time.Minute)
		now := f.clock.now()
		n, err := f.store.SweepLogins(ctx, now.Add(-access.LoginWindow), now.Add(-access.StrikeMemory), access.LoginSweepMax)
		if err != nil {
			t.Fatal(err)
		}
		if n != 6 { // three old failures and their three throttles
			t.Errorf("swept %d rows, want 6", n)
		}
		if n, _ := f.store.SweepLogins(ctx, now.Add(-access.LoginWindow), now.Add(-access.StrikeMemory), access.LoginSweepMax); n != 0 {
			t.Errorf("a second sweep deleted %d rows", n)
		}
		// These failures run the service's own sweep (due since the first failure): they still
		// count, and the last one locks.
		for range access.AccountFailuresMax {
			f.clock.add(time.Minute)
			f.svc.LoginFrom(ctx, "new@example.com", otherPW, "")
		}
		_, _, err = f.svc.LoginFrom(ctx, "new@example.com", goodPW, "")
		wantLocked(t, "after the sweeps", err, access.LockoutBase)
	})
}

// TestClientSubject ensures addresses are counted without their port, IPv4-mapped IPv6 as IPv4,
// and IPv6 by its /64.
func TestClientSubject(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"192.0.2.1:443":           "192.0.2.1",
		"192.0.2.1":               "192.0.2.1",
		"[::ffff:192.0.2.1]:80":   "192.0.2.1",
		"[2001:db8::1%eth0]:80":   "2001:db8::/64",
		"2001:db8:0:1:2:3:4:5":    "2001:db8:0:1::/64",
		"not an address":          "not an address",
		string(make([]byte, 100)): string(make([]byte, access.ClientMax)),
	} {
		if got := access.ClientSubject(in); got != want {
			t.Errorf("ClientSubject(%q) = %q, want %q", in, got, want)
		}
	}
}
