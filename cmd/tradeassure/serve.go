package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/tradeassure/tradeassure/trade"
)

// ShutdownWait bounds how long in-flight requests may take to finish on SIGTERM.
const ShutdownWait = 30 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	db := fs.String("db", "", "database URL: sqlite:PATH or postgres://… (default $TRADEASSURE_DB or "+DefaultDB+")")
	blobs := fs.String("blobs", "", "attachment directory (default $TRADEASSURE_BLOBS or "+DefaultBlobs+")")
	demo := fs.Bool("demo", false, "load demo organizations, API keys and orders, and print how to call the API")
	sandboxDelay := fs.Duration("sandbox-delay", time.Minute, "how long the sandbox rail takes to deliver a payment")
	tick := fs.Duration("worker-interval", time.Second, "how often the timer worker looks for due deadlines")
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	url := dbURL(*db)
	d, err := openService(ctx, url, blobDir(*blobs), escrow.Options{Logger: log,
		Sandbox: escrow.Sandbox{Enabled: true, Delay: *sandboxDelay}})
	if err != nil {
		return err
	}
	defer d.close()
	svc := d.svc
	acc := access.New(d.db.Access(), svc, escrow.SystemClock{}.Now, access.DefaultArgon2)
	if *demo {
		if err := loadDemo(ctx, d, acc, stdout, *addr); err != nil {
			return fmt.Errorf("load demo: %w", err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	api.New(mux, svc, acc, api.Options{Version: Version, Logger: log, Registry: reg})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.Orgs(r.Context(), trade.KindPlatform); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	srv := &http.Server{Addr: *addr, Handler: http.NewCrossOriginProtection().Handler(mux),
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "db", redact(url), "version", Version)

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

// redact hides credentials in a database URL before it is logged.
func redact(url string) string {
	if i, j := strings.Index(url, "://"), strings.LastIndex(url, "@"); i >= 0 && j > i {
		return url[:i+3] + "…" + url[j:]
	}
	return url
}
