package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Login throttling: failed logins are counted per account (the email, whether or not a user has
// it) and per client address in a sliding window; a subject that reaches its limit is locked
// out, each lockout in a row twice as long as the one before. A locked attempt is refused before
// any password is hashed, so guessing runs at the speed of the limits, not of argon2.
const (
	LoginWindow        = 15 * time.Minute // failures older than this no longer count
	AccountFailuresMax = 5                // failures of one account within LoginWindow that lock it
	ClientFailuresMax  = 50               // failures from one client address within LoginWindow that lock it
	LockoutBase        = 15 * time.Minute // the first lockout of a subject
	LockoutMax         = 24 * time.Hour   // no lockout is longer
	// StrikeMemory is how long a lockout is remembered after it ends: a subject locked again
	// within it is locked twice as long; after it, for LockoutBase again.
	StrikeMemory = 24 * time.Hour
	// LoginSweepEvery is how often, at most, a process deletes dead throttling rows (failures
	// older than LoginWindow, subjects idle for StrikeMemory), LoginSweepMax rows at a time.
	LoginSweepEvery = 10 * time.Minute
	LoginSweepMax   = 1000
	// ClientMax bounds a client address as stored (an IPv6 address is kept as its /64).
	ClientMax = 64
)

// Scopes of a login throttle.
const (
	ScopeAccount = "account"
	ScopeClient  = "client"
)

// Throttle is what is kept about one subject that failed to log in.
type Throttle struct {
	LockedUntil time.Time // the end of the last lockout; zero if never locked
	Strikes     int       // lockouts in a row, the last one included
}

// LoginTx is one database transaction over the login throttles. Throttle locks a subject's row
// until commit (creating it), so that concurrent attempts on one subject are counted one after
// the other; a transaction locks the account's row before the client's.
type LoginTx interface {
	Throttle(ctx context.Context, scope, subject string, at time.Time) (Throttle, error)
	SetThrottle(ctx context.Context, scope, subject string, th Throttle) error
	// Failures counts the subject's recorded attempts at or after since.
	Failures(ctx context.Context, scope, subject string, since time.Time) (int, error)
	AddFailure(ctx context.Context, attempt, scope, subject string, at time.Time) error
	// ClearFailures deletes the subject's recorded attempts: all of them, or only attempt's.
	ClearFailures(ctx context.Context, scope, subject, attempt string) error
}

// LockedError refuses a login while its account or client address is locked out. Its message
// names the wait and never whether the account exists.
type LockedError struct {
	RetryAfter time.Duration
	err        *fault.Error
}

func (e *LockedError) Error() string { return e.err.Error() }

// Unwrap makes the fault.Error (unauthorized, too_many_attempts) visible to fault.As.
func (e *LockedError) Unwrap() error { return e.err }

func locked(wait time.Duration) *LockedError {
	mins := int((wait + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	return &LockedError{RetryAfter: wait, err: fault.New(fault.Unauthorized, "too_many_attempts",
		"too many attempts; try again in %d %s", mins, unit)}
}

// ClientSubject is how a client address is counted: the IP without its port, an IPv6 address
// as its /64 (one host commonly holds a whole /64). It returns "" for an empty address.
func ClientSubject(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		if len(addr) > ClientMax {
			addr = addr[:ClientMax]
		}
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

type loginSubject struct {
	scope, id string
	max       int
}

func loginSubjects(email, client string) []loginSubject {
	subs := []loginSubject{{ScopeAccount, email, AccountFailuresMax}}
	if c := ClientSubject(client); c != "" {
		subs = append(subs, loginSubject{ScopeClient, c, ClientFailuresMax})
	}
	return subs
}

// lockout is how long the strikes-th lockout in a row lasts.
func lockout(strikes int) time.Duration {
	d := LockoutBase
	for i := 1; i < strikes && d < LockoutMax; i++ {
		d *= 2
	}
	return min(d, LockoutMax)
}

// nextStrikes counts the lockout that is about to start: one more than before, unless the last
// one ended longer than StrikeMemory ago.
func nextStrikes(th Throttle, now time.Time) int {
	if th.Strikes == 0 || now.Sub(th.LockedUntil) > StrikeMemory {
		return 1
	}
	return th.Strikes + 1
}

// since is where a subject's window starts: failures before the end of its last lockout were
// paid for by it and do not count again.
func since(th Throttle, now time.Time) time.Time {
	start := now.Add(-LoginWindow)
	if th.LockedUntil.After(start) {
		return th.LockedUntil
	}
	return start
}

// reserveLogin records an attempt against every subject before its password is checked, or
// refuses it when a subject is locked out or its limit is taken by attempts still being checked.
// Recording first means that N concurrent guesses at an account whose limit is N cannot all
// pass: those past the limit are refused here.
func (s *Service) reserveLogin(ctx context.Context, subs []loginSubject, now time.Time) (string, error) {
	attempt := newID("att")
	err := s.store.LoginTx(ctx, func(tx LoginTx) error {
		for _, sub := range subs {
			th, err := tx.Throttle(ctx, sub.scope, sub.id, now)
			if err != nil {
				return err
			}
			if th.LockedUntil.After(now) {
				return locked(th.LockedUntil.Sub(now))
			}
			n, err := tx.Failures(ctx, sub.scope, sub.id, since(th, now))
			if err != nil {
				return err
			}
			if n >= sub.max { // the limit is taken by attempts whose passwords are being checked
				return locked(lockout(nextStrikes(th, now)))
			}
		}
		for _, sub := range subs {
			if err := tx.AddFailure(ctx, attempt, sub.scope, sub.id, now); err != nil {
				return err
			}
		}
		return nil
	})
	return attempt, err
}

// loginFailed keeps the attempt as a failure and locks every subject that has reached its
// limit: the Nth failure within the window locks.
func (s *Service) loginFailed(ctx context.Context, subs []loginSubject, now time.Time) error {
	type lock struct {
		sub     loginSubject
		strikes int
		until   time.Time
	}
	var locks []lock
	err := s.store.LoginTx(ctx, func(tx LoginTx) error {
		locks = locks[:0] // a retried transaction starts over
		for _, sub := range subs {
			th, err := tx.Throttle(ctx, sub.scope, sub.id, now)
			if err != nil {
				return err
			}
			if th.LockedUntil.After(now) {
				continue // locked meanwhile by a concurrent failure
			}
			n, err := tx.Failures(ctx, sub.scope, sub.id, since(th, now))
			if err != nil {
				return err
			}
			if n < sub.max {
				continue
			}
			th.Strikes = nextStrikes(th, now)
			th.LockedUntil = now.Add(lockout(th.Strikes))
			if err := tx.SetThrottle(ctx, sub.scope, sub.id, th); err != nil {
				return err
			}
			locks = append(locks, lock{sub, th.Strikes, th.LockedUntil})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range locks {
		s.log.Warn("login lockout", "scope", l.sub.scope, "subject", l.sub.id, "failures_max", l.sub.max,
			"window", LoginWindow.String(), "strikes", l.strikes, "until", l.until, "lockout", l.until.Sub(now).String())
	}
	return nil
}

// loginSucceeded clears the account's failures and lockout history, and takes this attempt
// off the client's count; the client's other failures stay (one good password does not pay
// for guesses at other accounts).
func (s *Service) loginSucceeded(ctx context.Context, subs []loginSubject, attempt string, now time.Time) error {
	return s.store.LoginTx(ctx, func(tx LoginTx) error {
		for _, sub := range subs {
			if _, err := tx.Throttle(ctx, sub.scope, sub.id, now); err != nil {
				return err
			}
			if sub.scope != ScopeAccount {
				if err := tx.ClearFailures(ctx, sub.scope, sub.id, attempt); err != nil {
					return err
				}
				continue
			}
			if err := tx.ClearFailures(ctx, sub.scope, sub.id, ""); err != nil {
				return err
			}
			if err := tx.SetThrottle(ctx, sub.scope, sub.id, Throttle{}); err != nil {
				return err
			}
		}
		return nil
	})
}

// clearAccount lifts an account's lockout and forgets its failures: an admin has just given
// it a new password.
func (s *Service) clearAccount(ctx context.Context, email string) error {
	return s.store.LoginTx(ctx, func(tx LoginTx) error {
		if _, err := tx.Throttle(ctx, ScopeAccount, email, s.now()); err != nil {
			return err
		}
		if err := tx.ClearFailures(ctx, ScopeAccount, email, ""); err != nil {
			return err
		}
		return tx.SetThrottle(ctx, ScopeAccount, email, Throttle{})
	})
}

// sweepLogins deletes dead throttling rows at most every LoginSweepEvery; a failure is logged,
// never the login's concern.
func (s *Service) sweepLogins(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastSweep) >= LoginSweepEvery
	if due {
		s.lastSweep = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	if _, err := s.store.SweepLogins(ctx, now.Add(-LoginWindow), now.Add(-StrikeMemory), LoginSweepMax); err != nil {
		s.log.Error("sweep login throttles", "err", err)
	}
}

// LoginFrom checks an email and password from a client address and returns the user's actor.
// Unknown email and wrong password take the same time and give the same error; a locked
// account or client is refused (a *LockedError) without hashing anything, whether or not the
// account exists. client is the peer's IP address (with or without a port); "" counts the
// account alone.
func (s *Service) LoginFrom(ctx context.Context, email, password, client string) (trade.Actor, User, error) {
	email = strings.ToLower(email)
	if len(email) > EmailMax || len(password) > PasswordMax {
		return trade.Actor{}, User{}, errBadLogin() // no user has such an email or password
	}
	now := s.now()
	subs := loginSubjects(email, client)
	attempt, err := s.reserveLogin(ctx, subs, now)
	if err != nil {
		return trade.Actor{}, User{}, err
	}
	a, u, err := s.checkLogin(ctx, email, password)
	if err == nil {
		if err := s.loginSucceeded(ctx, subs, attempt, now); err != nil {
			return trade.Actor{}, User{}, fmt.Errorf("clear login failures: %w", err)
		}
		return a, u, nil
	}
	if !errors.Is(err, errBadLogin()) {
		return trade.Actor{}, User{}, err // an outage: the attempt stays counted, which errs on the safe side
	}
	if ferr := s.loginFailed(ctx, subs, now); ferr != nil {
		return trade.Actor{}, User{}, fmt.Errorf("count login failure: %w", ferr)
	}
	s.sweepLogins(ctx, now)
	return trade.Actor{}, User{}, err
}

// Login is LoginFrom without a client address: only the account's limit applies.
func (s *Service) Login(ctx context.Context, email, password string) (trade.Actor, User, error) {
	return s.LoginFrom(ctx, email, password, "")
}

func errBadLogin() *fault.Error {
	return fault.New(fault.Unauthorized, "invalid_credentials", "wrong email or password")
}
