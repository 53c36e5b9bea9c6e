package api_test

// The payout operations' rows of the authorization matrix (matrix_test.go), kept beside the
// payouts API. A supplier reads its own payouts and balance (the fixture paid each tenant's
// supplier out once), and naming another supplier's finds nothing; only an admin pays out (the fixture's suppliers are owed nothing: 409, which passes
// authorization); buyers, inspectors and arbiters are refused before anything is looked up.
func init() {
	matrix = append(matrix,
		matrixRow{op: "list_payouts", method: "GET", path: "/v1/payouts?supplier_id={supplier}", own: "FAFFA", foreign: "FNFFA"},
		matrixRow{op: "get_payout_balance", method: "GET", path: "/v1/payouts/balance?supplier_id={supplier}", own: "FAFFA", foreign: "FNFFA"},
		matrixRow{op: "get_payout", method: "GET", path: "/v1/payouts/{payout}", own: "FAFFA", foreign: "FNFFA"},
		matrixRow{op: "create_payout", method: "POST", path: "/v1/payouts", own: "FFFFA", foreign: "FFFFA",
			body: func(t *target) any { return map[string]any{"supplier_id": t.supplier(), "currency": "USD"} }},
	)
}
