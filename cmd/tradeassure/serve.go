package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/metrics"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
	"github.com/tradeassure/tradeassure/webhook"
)

// ShutdownWait bounds how long in-flight requests may take to finish on SIGTERM.
const ShutdownWait = 30 * time.Second

// serveClock is serve's time: the wall clock, which tests replace with a ManualClock.
var serveClock escrow.Clock = escrow.SystemClock{}

// KeyPurgeInterval is how often serve looks for idempotency keys past their retention.
const KeyPurgeInterval = time.Minute

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	db := fs.String("db", "", "database URL: sqlite:PATH or postgres://… (default $TRADEASSURE_DB or "+DefaultDB+")")
	blobs := fs.String("blobs", "", "attachment directory (default $TRADEASSURE_BLOBS or "+DefaultBlobs+")")
	demo := fs.Bool("demo", false, "load demo organizations, API keys and orders, and print how to call the API (implies --sandbox)")
	sandbox := fs.Bool("sandbox", false, "run the sandbox payment rail: payments are simulated, each delivered by itself after "+
		"-sandbox-delay, and no real money moves; every portal page and API response says so")
	sandboxDelay := fs.Duration("sandbox-delay", time.Minute, "with --sandbox: how long the sandbox rail takes to deliver a payment")
	accountsFile := fs.String("collection-accounts", "", "JSON file of the platform's collection accounts, which payment "+
		"instructions name: where buyers pay, per method and currency (R8; docs/api.md, \"How money arrives\")")
	tick := fs.Duration("worker-interval", time.Second, "how often each worker (timers, bank debits, lender requests, webhooks, notifications) looks for due work")
	rateBurst := fs.Int("rate-burst", api.RateBurst, "API requests one key (or one client IP without a key) may send at once")
	ratePerSecond := fs.Float64("rate-per-second", api.RatePerSecond, "API requests per second one key (or client IP) may sustain")
	keyRetention := fs.Duration("idempotency-retention", escrow.KeyRetention, "how long idempotency keys are kept (at least 24h)")
	var mailFlags smtpFlags
	mailFlags.register(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if *rateBurst < 1 || !(*ratePerSecond > 0) || math.IsInf(*ratePerSecond, 0) {
		fmt.Fprintln(stderr, "serve: -rate-burst must be at least 1 and -rate-per-second a positive number")
		return exitError{2}
	}
	if *keyRetention < escrow.KeyRetentionMin {
		fmt.Fprintf(stderr, "serve: -idempotency-retention must be at least %s\n", escrow.KeyRetentionMin)
		return exitError{2}
	}
	*sandbox = *sandbox || *demo
	if err := sandboxFlags(fs, *sandbox, *sandboxDelay, *accountsFile); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return exitError{2}
	}
	accounts, err := loadAccounts(*accountsFile)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return exitError{2}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	logRail(log, stdout, *sandbox, *sandboxDelay, accounts)
	mailer, err := mailFlags.sender()
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return exitError{2}
	}
	if mailer == nil {
		log.Info("email off: no -smtp-addr; notifications are in-app only and no email is attempted")
	} else {
		log.Info("email on", "smtp", mailer.String(), "links", mailFlags.base(*addr))
	}
	s, err := newServer(ctx, serveConfig{addr: *addr, db: dbURL(*db), blobs: blobDir(*blobs), demo: *demo,
		sandbox: *sandbox, sandboxDelay: *sandboxDelay, accounts: accounts, rate: api.RateLimit{Burst: *rateBurst, PerSecond: *ratePerSecond},
		mailer: mailer, mailBase: mailFlags.base(*addr),
		// Behind TLS terminated by a proxy, set TRADEASSURE_COOKIE_SECURE=1 (a request that
		// arrives over TLS gets a Secure cookie anyway).
		cookieSecure: os.Getenv("TRADEASSURE_COOKIE_SECURE") == "1",
		// Behind a reverse proxy that appends the client's address to X-Forwarded-For, set
		// TRADEASSURE_TRUST_FORWARDED_FOR=1 so that logins are throttled per client, not per proxy.
		trustForwarded: os.Getenv("TRADEASSURE_TRUST_FORWARDED_FOR") == "1"}, stdout, log)
	if err != nil {
		return err
	}
	defer s.close()
	svc, hooks, notes := s.svc, s.hooks, s.notes
	srv := &http.Server{Addr: *addr, Handler: s.handler,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}

	workerCtx, stopWorker := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		host, _ := os.Hostname()
		svc.Worker(workerCtx, fmt.Sprintf("%s-%d", host, os.Getpid()), *tick)
	}()
	wg.Go(func() { // Pay Later debits (R11): the bank is asked outside any transaction, beside the timers
		host, _ := os.Hostname()
		svc.BankDebitWorker(workerCtx, fmt.Sprintf("%s-%d", host, os.Getpid()), *tick)
	})
	wg.Go(func() { // Pay Later decisions and disbursements (R11): the lender is asked outside any transaction
		host, _ := os.Hostname()
		svc.LenderWorker(workerCtx, fmt.Sprintf("%s-%d", host, os.Getpid()), *tick)
	})
	wg.Go(func() { // payouts (R12): the payout rail is asked outside any transaction; without one it takes nothing
		host, _ := os.Hostname()
		svc.PayoutWorker(workerCtx, fmt.Sprintf("%s-%d", host, os.Getpid()), *tick)
	})
	wg.Go(func() { // webhook deliveries, beside the timers; stopped with them
		host, _ := os.Hostname()
		hooks.Run(workerCtx, fmt.Sprintf("%s-%d", host, os.Getpid()), *tick)
	})
	wg.Go(func() { // idempotency keys past their retention; every process may run it
		svc.KeyPurger(workerCtx, *keyRetention, KeyPurgeInterval)
	})
	wg.Go(func() { // notifications and their emails, from the same events
		host, _ := os.Hostname()
		notes.Run(workerCtx, fmt.Sprintf("%s-%d", host, os.Getpid()), *tick)
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "db", redact(s.url), "version", Version)

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests")
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownWait)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopWorker() // a timer mid-fire rolls back or commits whole; either way nothing is half-written
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

const serveUsage = `usage: tradeassure serve [flags]

Serves the JSON API (/v1) and the portal, and runs the background workers: the timer worker
(deadlines, sandbox deliveries, Pay Later and payout timers), the Pay Later bank worker (debits)
and lender worker (decisions, disbursements), the payout rail worker, the webhook dispatcher, the
notifier (in-app notifications and email) and the idempotency-key purger.

Money: without --sandbox, payment instructions name the platform's collection accounts
(-collection-accounts; a method without one is not offered) and an order counts as paid only
when a rail reports the money: POST /v1/rails/{method}/credits. With --sandbox (and --demo),
payments are simulated: the sandbox rail delivers each one after -sandbox-delay, no real money
moves, and every portal page and API response says so.

Payouts to suppliers are requested from the T/T rail and wait in transit: with --sandbox the
sandbox payout rail answers them (simulated, labelled sandbox); without it no payout adapter
ships, and an admin records each bank confirmation or return: POST /v1/payouts/{id}/result.

flags:
`

// sandboxFlags refuses flags that contradict the sandbox setting.
func sandboxFlags(fs *flag.FlagSet, sandbox bool, delay time.Duration, accountsFile string) error {
	delaySet := false
	fs.Visit(func(f *flag.Flag) { delaySet = delaySet || f.Name == "sandbox-delay" })
	switch {
	case delaySet && !sandbox:
		return errors.New("-sandbox-delay takes effect only with --sandbox (or --demo)")
	case sandbox && delay < 0:
		return errors.New("-sandbox-delay must not be negative")
	case sandbox && accountsFile != "":
		return errors.New("--sandbox names its own simulated account on every payment: leave out -collection-accounts")
	}
	return nil
}

// logRail says at startup how money arrives: simulated by the sandbox, loudly, or through the
// rails into the configured collection accounts.
func logRail(log *slog.Logger, stdout io.Writer, sandbox bool, delay time.Duration, accounts payment.CollectionAccounts) {
	if sandbox {
		log.Warn("SANDBOX: payments are simulated, no real money moves; the sandbox rail delivers every payment by itself",
			"sandbox", true, "sandbox_delay", delay.String())
		fmt.Fprintf(stdout, "SANDBOX: payments are simulated, no real money moves (the sandbox rail delivers each after %s).\n\n", delay)
		return
	}
	if len(accounts) == 0 {
		log.Warn("no collection accounts: buyers can pay by Pay Later only until -collection-accounts names where they pay",
			"sandbox", false)
		return
	}
	log.Info("sandbox off: money counts only when a rail reports it (POST /v1/rails/{method}/credits)",
		"sandbox", false, "collection_accounts", len(accounts))
}

// serveConfig is what serve's flags and environment ask for.
type serveConfig struct {
	addr, db, blobs string
	demo            bool // load the demo and print its API keys and portal users
	sandbox         bool // the sandbox rail simulates payments (--sandbox, implied by --demo)
	sandboxDelay    time.Duration
	accounts        payment.CollectionAccounts // where buyers pay when the sandbox is off
	rate            api.RateLimit
	mailer          *notify.SMTP // nil: notifications are in-app only
	mailBase        string       // the portal's address in emails
	cookieSecure    bool         // the session cookie is Secure on plain http too (TLS ends at a proxy)
	trustForwarded  bool         // count logins against X-Forwarded-For's last address
}

// server is what serve runs: the service on its database, and the one HTTP handler for the
// API, the portal, metrics and health, with the webhook and notification services whose
// workers run beside it. close releases the database and the attachment store.
type server struct {
	url     string
	svc     *escrow.Service
	hooks   *webhook.Service
	notes   *notify.Service
	handler http.Handler
	close   func()
}

// newServer opens the database and builds the handler serve listens with; with cfg.demo it
// first loads the demo and prints its API keys and portal users to out. Tests build the same
// server, so what they serve is what serve serves.
func newServer(ctx context.Context, cfg serveConfig, out io.Writer, log *slog.Logger) (*server, error) {
	cfg.sandbox = cfg.sandbox || cfg.demo // the demo's payments are simulated
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d, err := openService(ctx, cfg.db, cfg.blobs, escrow.Options{Clock: serveClock, Logger: log, Accounts: cfg.accounts,
		Sandbox: escrow.Sandbox{Enabled: cfg.sandbox, Delay: cfg.sandboxDelay}, OnTimer: metrics.NewTimerCounter(reg),
		Credit:  escrow.CreditOptions{OnDebit: metrics.NewBankDebitCounter(reg), OnLender: metrics.NewLenderCounter(reg)},
		Payouts: escrow.PayoutOptions{OnAnswer: payoutAnswerCounter(reg)}})
	if err != nil {
		return nil, err
	}
	svc := d.svc
	acc := access.New(d.db.Access(), svc, serveClock.Now, access.DefaultArgon2)
	acc.SetLogger(log) // login lockouts
	if cfg.demo {
		if err := loadDemo(ctx, d, acc, out, cfg.addr); err != nil {
			d.close()
			return nil, fmt.Errorf("load demo: %w", err)
		}
		if err := demoUsers(ctx, svc, acc, out, cfg.addr); err != nil {
			d.close()
			return nil, fmt.Errorf("demo users: %w", err)
		}
	}

	reg.MustRegister(metrics.NewCollector(d.db, svc.Now, log))
	mux := http.NewServeMux()
	hooks := webhook.New(d.db.Webhooks(), webhook.Options{Logger: log, Outcomes: webhook.NewOutcomeCounter(reg),
		AllowPrivateNetworks: cfg.demo}) // the demo may deliver to a receiver on this machine
	payoutRail, _ := svc.PayoutRail()
	noteOpt := notify.Options{Logger: log, BaseURL: cfg.mailBase, Outcomes: notify.NewOutcomeCounter(reg),
		ManualBank:    svc.Bank() == nil, // no bank: admins are told of each debit to record
		ManualPayouts: payoutRail == nil} // no payout adapter: admins are told of each payout to record
	if cfg.mailer != nil { // a nil *SMTP in the interface would not be a nil Sender
		noteOpt.Mailer = cfg.mailer
	}
	notes := notify.New(d.db.Notifications(), noteOpt)
	a := api.New(mux, svc, acc, api.Options{Version: Version, Logger: log, Registry: reg, RateLimit: cfg.rate})
	api.RegisterWebhooks(a, hooks, log)
	api.RegisterNotifications(a, notes, log)
	// The web portal at / (the API keeps /v1 and /openapi.json: more specific patterns win). It
	// refuses cross-origin form posts itself (web.New); the API authenticates with bearer keys,
	// not cookies, so there is nothing to forge there. Sessions live in the same database.
	sessions := web.NewSessions(d.db.Sessions(), web.SessionConfig{Secure: cfg.cookieSecure})
	mux.Handle("/", web.New(svc, acc, sessions, web.Options{Logger: log, LookupUser: d.db.Access().User, Blobs: d.blobs,
		Notifications: notes, TrustForwardedFor: cfg.trustForwarded, Sandbox: cfg.sandbox}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.Orgs(r.Context(), trade.KindPlatform); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	return &server{url: cfg.db, svc: svc, hooks: hooks, notes: notes, handler: mux, close: d.close}, nil
}

// redact hides credentials in a database URL before it is logged.
func redact(url string) string {
	if i, j := strings.Index(url, "://"), strings.LastIndex(url, "@"); i >= 0 && j > i {
		return url[:i+3] + "…" + url[j:]
	}
	return url
}

// demoUsers gives the demo's organizations one portal user per role, with a password printed
// once beside the API keys. Each demo load makes new organizations, so a database that already
// holds an earlier demo's users gets new addresses (buyer+2@demo.test, …) for the new ones.
func demoUsers(ctx context.Context, svc *escrow.Service, acc *access.Service, out io.Writer, addr string) error {
	newest := func(kind trade.OrgKind, name string) (string, error) {
		orgs, err := svc.Orgs(ctx, kind)
		if err != nil {
			return "", err
		}
		for i := len(orgs) - 1; i >= 0; i-- { // IDs are time-ordered: the last is this load's
			if orgs[i].Name == name {
				return orgs[i].ID, nil
			}
		}
		return "", fmt.Errorf("no demo %s named %q", kind, name)
	}
	fmt.Fprintf(out, "portal users (log in at http://%s/login; passwords shown once):\n", addr)
	for _, u := range []struct {
		role       trade.Role
		kind       trade.OrgKind
		org, label string
	}{
		{trade.RoleBuyer, trade.KindBuyer, "Maple Kids Apparel Inc.", "buyer"},
		{trade.RoleSupplier, trade.KindSupplier, "Ningbo Sunrise Garments Co.", "supplier"},
		{trade.RoleInspector, trade.KindInspector, "Asia Quality Inspections Ltd.", "inspector"},
		{trade.RoleArbiter, "", access.PlatformOrg, "arbiter"},
		{trade.RoleAdmin, "", access.PlatformOrg, "admin"},
	} {
		orgID := access.PlatformOrg
		if u.kind != "" {
			var err error
			if orgID, err = newest(u.kind, u.org); err != nil {
				return err
			}
		}
		secret := make([]byte, 10)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		password := "demo-" + hex.EncodeToString(secret)
		for n := 1; ; n++ {
			email := u.label + "@demo.test"
			if n > 1 {
				email = fmt.Sprintf("%s+%d@demo.test", u.label, n)
			}
			_, err := acc.CreateUser(ctx, trade.System, orgID, email, "Demo "+u.label, u.role, password)
			if fault.ReasonOf(err) == "email_taken" && n < 100 {
				continue
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  %-10s %-24s %s\n", u.label, email, password)
			break
		}
	}
	fmt.Fprintln(out)
	return nil
}

// smtpFlags configure email notifications; without -smtp-addr they stay in-app only.
type smtpFlags struct {
	addr, from, user, password, tls, baseURL *string
}

func (f *smtpFlags) register(fs *flag.FlagSet) {
	f.addr = fs.String("smtp-addr", "", "SMTP submission server host:port for email notifications (none: in-app only)")
	f.from = fs.String("smtp-from", "", "sender address of notification emails, e.g. notifications@example.com")
	f.user = fs.String("smtp-user", "", "SMTP user (PLAIN auth, over TLS or to loopback only)")
	f.password = fs.String("smtp-password", "", "SMTP password (default $TRADEASSURE_SMTP_PASSWORD)")
	f.tls = fs.String("smtp-tls", string(notify.StartTLS), "starttls (port 587), tls (port 465), or none (loopback relay only)")
	f.baseURL = fs.String("base-url", "", "the portal's address as people reach it, for links in emails (default http://ADDR)")
}

// sender is the SMTP sender the flags describe, or nil without -smtp-addr.
func (f *smtpFlags) sender() (*notify.SMTP, error) {
	if *f.addr == "" {
		return nil, nil
	}
	password := *f.password
	if password == "" {
		password = os.Getenv("TRADEASSURE_SMTP_PASSWORD")
	}
	return notify.NewSMTP(notify.SMTPConfig{Addr: *f.addr, From: *f.from, User: *f.user, Password: password,
		TLS: notify.TLSMode(*f.tls)})
}

func (f *smtpFlags) base(addr string) string {
	if *f.baseURL != "" {
		return *f.baseURL
	}
	return "http://" + addr
}
