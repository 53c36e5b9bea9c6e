// Package api is the JSON API under /v1: REST over the escrow use cases, described by OpenAPI
// 3.1 at /openapi.json, with RFC 9457 problems, bearer API keys and idempotency keys. It is an
// adapter: every rule lives in the domain and the use cases; this package translates.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits on requests. Each is enforced before a handler runs and answered with a problem.
const (
	BodyMax     = 1 << 20 // bytes of a request body
	PageSizeMax = 100     // items per page of a list
	KeyMax      = escrow.KeyMax
)

// Options configure the API.
type Options struct {
	Version   string
	Logger    *slog.Logger
	Registry  *prometheus.Registry // where metrics go; nil means none
	RateLimit RateLimit            // per API key and per client IP; the zero value means the defaults
}

// Server holds the API's dependencies.
type Server struct {
	svc *escrow.Service
	acc *access.Service
	log *slog.Logger
	m   *metrics
}

var installOnce sync.Once

// New returns the API mounted on mux under /v1, plus /openapi.json and its reference at /docs.
func New(mux *http.ServeMux, svc *escrow.Service, acc *access.Service, opt Options) huma.API {
	installOnce.Do(install)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, acc: acc, log: opt.Logger, m: newMetrics(opt.Registry)}
	cfg := huma.DefaultConfig("tradeassure API", opt.Version)
	cfg.Info.Description = "Trade Assurance: escrow for cross-border B2B orders. Every POST takes an " +
		"Idempotency-Key; errors are RFC 9457 problems with a stable `reason`."
	cfg.DocsPath = "" // huma's page loads a CDN; DocsPath serves our own (docs.go)
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key: Authorization: Bearer ta_key_….secret"},
	}
	cfg.CreateHooks = nil // no $schema links in responses: clients see plain JSON
	formats := make(map[string]huma.Format, len(cfg.Formats))
	for k, f := range cfg.Formats {
		formats[k] = f
	}
	formats["application/json"], formats["json"] = jsonFormat(), jsonFormat()
	cfg.Formats = formats
	a := humago.New(mux, cfg)
	registerAmountSchema(a)
	a.UseMiddleware(s.observe, s.sandboxHeader, s.rateLimit(opt.RateLimit), s.authenticate)
	s.register(a)
	mux.Handle("GET "+DocsPath, docsHandler(a))
	mux.Handle("/v1/", s.unmatched(a)) // the most general /v1 pattern: every operation's is more specific
	mux.Handle("/v1", s.unmatched(a))
	return a
}

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// actor is who is calling; set by authenticate for operations that require it.
func actor(ctx context.Context) trade.Actor {
	a, _ := ctx.Value(actorKey).(trade.Actor)
	return a
}

var bearerAuth = []map[string][]string{{"bearer": {}}}

// authenticate resolves the bearer key for every operation that declares security.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if len(ctx.Operation().Security) == 0 {
		next(ctx)
		return
	}
	token, ok := strings.CutPrefix(ctx.Header("Authorization"), "Bearer ")
	a, err := s.acc.Authenticate(ctx.Context(), strings.TrimSpace(token))
	if !ok || err != nil {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="tradeassure"`)
		s.writeProblem(ctx, errorf(http.StatusUnauthorized, "invalid_credentials", "send a valid API key: Authorization: Bearer <key>"))
		return
	}
	next(huma.WithValue(ctx, actorKey, a))
}

func (s *Server) writeProblem(ctx huma.Context, p *Problem) {
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	b, _ := jsonMarshal(p)
	ctx.BodyWriter().Write(b)
}

// observe limits the body, names the request, logs it and counts it. An operation that takes
// files names its own, larger limit in MaxBodyBytes (UploadBodyMax).
func (s *Server) observe(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	r, w := humago.Unwrap(ctx)
	r.Body = http.MaxBytesReader(w, r.Body, max(BodyMax, ctx.Operation().MaxBodyBytes))
	id := ctx.Header("X-Request-Id")
	if id == "" || len(id) > 64 {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	ctx.SetHeader("X-Request-Id", id)
	ctx = huma.WithValue(ctx, requestIDKey, id)
	next(ctx)
	status := ctx.Status()
	if status == 0 {
		status = http.StatusOK
	}
	op := ctx.Operation().OperationID
	s.m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	s.m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(ctx.Context(), level, "request", "request_id", id, "op", op, "method", ctx.Method(),
		"path", ctx.URL().Path, "status", status, "duration_ms", time.Since(start).Milliseconds())
}

// fail turns a use-case error into a problem, logging the ones that are our fault.
func (s *Server) fail(ctx context.Context, err error) error {
	p := problemOf(err)
	if p.Status >= 500 {
		id, _ := ctx.Value(requestIDKey).(string)
		s.log.Error("internal error", "request_id", id, "err", err)
		p.Instance = "urn:request:" + id
	}
	return p
}

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_http_requests_total",
			Help: "API requests by operation and status."}, []string{"op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tradeassure_http_request_seconds",
			Help: "API request latency by operation.", Buckets: prometheus.DefBuckets}, []string{"op"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency)
	}
	return m
}
