package main

import "github.com/prometheus/client_golang/prometheus"

// payoutAnswerCounter registers tradeassure_payout_answers_total on reg and returns the function
// to give escrow.PayoutOptions.OnAnswer: it counts each answer the payout rail's worker recorded
// by result (sent, returned, retry after no answer, attention: marked for an operator). An alert
// on result="attention" finds the payouts an operator must answer (GET /v1/payouts?attention=true).
func payoutAnswerCounter(reg prometheus.Registerer) func(result string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_payout_answers_total",
		Help: "Payouts answered by the payout rail's worker, by result: sent, returned, retry (no answer: asked again " +
			"later) or attention (no usable answer after the last attempt: an operator records the bank's answer)."},
		[]string{"result"})
	reg.MustRegister(c)
	return func(result string) { c.WithLabelValues(result).Inc() }
}
