package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeassure/tradeassure/escrow"
)

// bankDebitCounter registers tradeassure_bank_debits_total on reg and returns the function to
// give escrow.CreditOptions.OnDebit: it counts each answer the Pay Later bank worker recorded
// by kind (installment, retry, payoff) and result (succeeded, refused, retry after no answer,
// attention: marked for an operator, unapplied). An alert on result="attention" or
// result="unapplied" finds the debits an operator must look at (GET /v1/credit/bank-debits).
func bankDebitCounter(reg prometheus.Registerer) func(kind escrow.DebitKind, result string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_bank_debits_total",
		Help: "Pay Later debit requests answered by the bank worker, by kind and result: succeeded, refused, " +
			"retry (no answer: tried again later), attention (no answer after the last attempt: an operator must retry) or unapplied."},
		[]string{"kind", "result"})
	reg.MustRegister(c)
	return func(kind escrow.DebitKind, result string) { c.WithLabelValues(string(kind), result).Inc() }
}
