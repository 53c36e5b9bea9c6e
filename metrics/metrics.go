// Package metrics exports what an operator of tradeassure watches to Prometheus, beside the
// request metrics of package api and the delivery metrics of package webhook: timers due and
// fired, ledger transfers, the Pay Later workers' answers from the bank and the lender, and the
// queues that wait for a person (dead timers, suspense, Pay Later requests in attention).
//
// Two kinds of numbers: counters of what this process did (timers it fired, transfers it
// committed), which restart at zero with the process as Prometheus counters do; and gauges of
// the shared state read from the database at scrape time, which every process reports alike.
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

// ScrapeTimeout bounds the database reads of one scrape.
const ScrapeTimeout = 5 * time.Second

// Source is what the collector reads: a *store.DB.
type Source interface {
	Stats(ctx context.Context, now time.Time) (store.Stats, error)
	TransfersPosted() map[string]int64
}

var (
	timersDueDesc = prometheus.NewDesc("tradeassure_timers_due",
		"Timers whose due time has passed and that have not fired yet (pending or claimed).", nil, nil)
	timersLagDesc = prometheus.NewDesc("tradeassure_timers_due_oldest_seconds",
		"How long the oldest due timer has been waiting; 0 when none is due.", nil, nil)
	timersDeadDesc = prometheus.NewDesc("tradeassure_timers_dead",
		"Timers that failed too often and wait for an operator.", nil, nil)
	suspenseDesc = prometheus.NewDesc("tradeassure_suspense_open",
		"Incoming payments that matched no order and wait for an admin to allocate them.", nil, nil)
	debitsAttentionDesc = prometheus.NewDesc("tradeassure_bank_debits_attention",
		"Pay Later debit requests the bank never answered, waiting for an operator to retry them or record the answer.", nil, nil)
	lenderAttentionDesc = prometheus.NewDesc("tradeassure_lender_requests_attention",
		"Pay Later lender requests unanswered or whose answer could not be booked, waiting for an operator.", nil, nil)
	transfersDesc = prometheus.NewDesc("tradeassure_ledger_transfers_total",
		"Ledger transfers this process committed, by transfer code.", []string{"code"}, nil)
	scrapeErrDesc = prometheus.NewDesc("tradeassure_metrics_scrape_error",
		"1 when the last scrape could not read the database, else 0.", nil, nil)
)

// Collector reads the gauges from the database on each scrape.
type Collector struct {
	src Source
	now func() time.Time
	log *slog.Logger
}

// NewCollector returns a collector over src; now is the platform clock.
func NewCollector(src Source, now func() time.Time, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{src: src, now: now, log: log}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{timersDueDesc, timersLagDesc, timersDeadDesc, suspenseDesc, debitsAttentionDesc,
		lenderAttentionDesc, transfersDesc, scrapeErrDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A database that cannot be read leaves the gauges
// out and sets tradeassure_metrics_scrape_error, so an alert fires on that instead of on zeros.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for code, n := range c.src.TransfersPosted() {
		ch <- prometheus.MustNewConstMetric(transfersDesc, prometheus.CounterValue, float64(n), code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	now := c.now()
	st, err := c.src.Stats(ctx, now)
	if err != nil {
		c.log.Error("metrics scrape", "err", err)
		ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, 0)
	ch <- prometheus.MustNewConstMetric(timersDueDesc, prometheus.GaugeValue, float64(st.TimersDue))
	lag := 0.0
	if !st.OldestDue.IsZero() && now.After(st.OldestDue) {
		lag = now.Sub(st.OldestDue).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(timersLagDesc, prometheus.GaugeValue, lag)
	ch <- prometheus.MustNewConstMetric(timersDeadDesc, prometheus.GaugeValue, float64(st.TimersDead))
	ch <- prometheus.MustNewConstMetric(suspenseDesc, prometheus.GaugeValue, float64(st.Suspense))
	ch <- prometheus.MustNewConstMetric(debitsAttentionDesc, prometheus.GaugeValue, float64(st.BankDebitsAttention))
	ch <- prometheus.MustNewConstMetric(lenderAttentionDesc, prometheus.GaugeValue, float64(st.LenderAttention))
}

// NewTimerCounter registers tradeassure_timers_finished_total on reg and returns the function
// to give escrow.Options.OnTimer: it counts each timer this process finished by kind and result
// (fired, skipped, dead).
func NewTimerCounter(reg prometheus.Registerer) func(kind trade.TimerKind, result string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_timers_finished_total",
		Help: "Timers this process finished, by kind and result: fired, skipped (the order had moved on) or dead."},
		[]string{"kind", "result"})
	reg.MustRegister(c)
	return func(kind trade.TimerKind, result string) { c.WithLabelValues(string(kind), result).Inc() }
}

// NewBankDebitCounter registers tradeassure_bank_debits_total on reg and returns the function to
// give escrow.CreditOptions.OnDebit: it counts each answer the Pay Later bank worker recorded
// by kind (installment, retry, payoff) and result (succeeded, refused, retry after no answer,
// attention: marked for an operator, unapplied). An alert on result="attention" or
// result="unapplied" finds the debits an operator must look at (GET /v1/credit/bank-debits).
func NewBankDebitCounter(reg prometheus.Registerer) func(kind escrow.DebitKind, result string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_bank_debits_total",
		Help: "Pay Later debit requests answered by the bank worker, by kind and result: succeeded, refused, " +
			"retry (no answer: tried again later), attention (no answer after the last attempt: an operator must retry) or unapplied."},
		[]string{"kind", "result"})
	reg.MustRegister(c)
	return func(kind escrow.DebitKind, result string) { c.WithLabelValues(string(kind), result).Inc() }
}

// NewLenderCounter registers tradeassure_lender_requests_total on reg and returns the function
// to give escrow.CreditOptions.OnLender: it counts each request the Pay Later lender worker
// finished an attempt at, by kind (decision, disbursement) and result (recorded: the lender's
// answer is booked; retry: no answer, asked again later; attention: no answer after the last
// attempt, or an answer that cannot be booked — an operator must look, GET
// /v1/credit/lender-requests?status=attention).
func NewLenderCounter(reg prometheus.Registerer) func(kind escrow.LenderRequestKind, result string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_lender_requests_total",
		Help: "Pay Later lender requests answered by the lender worker, by kind and result: recorded, " +
			"retry (no answer: tried again later) or attention (no answer after the last attempt, or an answer that cannot be booked: an operator must look)."},
		[]string{"kind", "result"})
	reg.MustRegister(c)
	return func(kind escrow.LenderRequestKind, result string) { c.WithLabelValues(string(kind), result).Inc() }
}
