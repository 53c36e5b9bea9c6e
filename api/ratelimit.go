package api

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Default rate limits: each API key, and each client IP for requests without a valid key, has a
// token bucket of RateBurst requests refilled at RatePerSecond. RateBucketsMax bounds how many
// buckets are kept in memory; the least recently used one is dropped first.
const (
	RateBurst      = 60
	RatePerSecond  = 20
	RateBucketsMax = 10_000
)

// RateLimit configures the per-key and per-IP request limits. The zero value means the defaults.
type RateLimit struct {
	Burst      int              // requests a bucket holds when full; 0: RateBurst
	PerSecond  float64          // refill rate; 0: RatePerSecond
	BucketsMax int              // buckets kept in memory; 0: RateBucketsMax
	Now        func() time.Time // the clock; nil: time.Now (tests inject one)
	Disabled   bool             // no limit at all (for tests that drive many requests at once)
}

// limiter is a bounded set of token buckets, one per API key or client IP.
type limiter struct {
	mu    sync.Mutex
	cfg   RateLimit
	lru   *list.List               // of *bucket, most recently used first
	byKey map[string]*list.Element // bucket key → its element in lru
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newLimiter(cfg RateLimit) *limiter {
	if cfg.Burst <= 0 {
		cfg.Burst = RateBurst
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = RatePerSecond
	}
	if cfg.BucketsMax <= 0 {
		cfg.BucketsMax = RateBucketsMax
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &limiter{cfg: cfg, lru: list.New(), byKey: map[string]*list.Element{}}
}

// get returns key's bucket brought up to now, creating it full (and evicting the least
// recently used bucket when at the limit: a dropped bucket comes back full, which only ever
// errs toward letting a request through). The caller holds mu.
func (l *limiter) get(key string, now time.Time) *bucket {
	if e, ok := l.byKey[key]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
			b.tokens = math.Min(float64(l.cfg.Burst), b.tokens+elapsed*l.cfg.PerSecond)
		}
		b.at = now
		return b
	}
	for l.lru.Len() >= l.cfg.BucketsMax {
		oldest := l.lru.Back()
		delete(l.byKey, oldest.Value.(*bucket).key)
		l.lru.Remove(oldest)
	}
	b := &bucket{key: key, tokens: float64(l.cfg.Burst), at: now}
	l.byKey[key] = l.lru.PushFront(b)
	return b
}

// take spends one request from key's bucket. When it is empty it returns false and how long
// until the next request would pass.
func (l *limiter) take(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, l.cfg.Now())
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.cfg.PerSecond * float64(time.Second))
}

// empty reports whether key's bucket has no request left, without spending one.
func (l *limiter) empty(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, l.cfg.Now())
	if b.tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - b.tokens) / l.cfg.PerSecond * float64(time.Second))
}

// give returns a spent request to key's bucket. With spend it moves a request that failed
// authentication from the key it named onto its client IP.
func (l *limiter) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, l.cfg.Now())
	b.tokens = math.Min(float64(l.cfg.Burst), b.tokens+1)
}

// spend charges a request to key's bucket even when it is empty (it stops at zero): the request
// has already been answered.
func (l *limiter) spend(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, l.cfg.Now())
	b.tokens = math.Max(0, b.tokens-1)
}

// keyID is the key ID a bearer token claims, unverified ("" if the header is not one).
func keyID(authorization string) string {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return ""
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), "ta_")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok || id == "" || len(id) > 64 {
		return ""
	}
	return id
}

// clientIP is the connection's peer address. Behind a reverse proxy every client shares the
// proxy's address: give the proxy its own limit there, or key the proxy's own limiter on the
// forwarded address (a client-set X-Forwarded-For cannot be trusted here).
func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// rateLimit returns the middleware that enforces cfg; it runs before authenticate. A request
// that presents a key is charged to that key; any other is charged to its client IP. Because the
// key ID is not yet verified here, a request that then fails authentication gets its key's token
// back and is charged to its IP instead, so a stranger who knows a key ID cannot use up that
// key's budget; and an IP whose budget is spent is refused before its next key is looked up.
func (s *Server) rateLimit(cfg RateLimit) func(huma.Context, func(huma.Context)) {
	if cfg.Disabled {
		return func(ctx huma.Context, next func(huma.Context)) { next(ctx) }
	}
	l := newLimiter(cfg)
	return func(ctx huma.Context, next func(huma.Context)) {
		ipKey := "ip:" + clientIP(ctx.RemoteAddr())
		id := keyID(ctx.Header("Authorization"))
		if len(ctx.Operation().Security) == 0 || id == "" {
			if ok, wait := l.take(ipKey); !ok {
				s.tooMany(ctx, l, wait)
				return
			}
			next(ctx)
			return
		}
		if empty, wait := l.empty(ipKey); empty {
			s.tooMany(ctx, l, wait)
			return
		}
		keyKey := "key:" + id
		if ok, wait := l.take(keyKey); !ok {
			s.tooMany(ctx, l, wait)
			return
		}
		next(ctx)
		if ctx.Status() == http.StatusUnauthorized {
			l.give(keyKey)
			l.spend(ipKey)
		}
	}
}

// tooMany answers 429 with Retry-After in whole seconds, rounded up.
func (s *Server) tooMany(ctx huma.Context, l *limiter, wait time.Duration) {
	ctx.SetHeader("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	s.writeProblem(ctx, errorf(http.StatusTooManyRequests, "rate_limited",
		"too many requests: at most %d at once, then %g a second; retry after Retry-After seconds",
		l.cfg.Burst, l.cfg.PerSecond))
}
