package api_test

// The payout operations' rows of the authorization matrix (matrix_test.go), kept beside the
// payouts API. A supplier reads its own payouts and balance (the fixture paid each tenant's
// supplier out once), and naming another supplier's finds nothing; only an admin pays out (the
// fixture's suppliers are owed nothing: 409, which passes authorization), records a bank's
// answer (the fixture's answer names another amount: 422, which passes authorization and changes
// nothing), clears an account flag (none is flagged: 409) and sets the sandbox payout rail;
// buyers, inspectors and arbiters are refused before anything is looked up.
func init() {
	matrix = append(matrix,
		matrixRow{op: "list_payouts", method: "GET", path: "/v1/payouts?supplier_id={supplier}", own: "FAFFA", foreign: "FNFFA"},
		matrixRow{op: "get_payout_balance", method: "GET", path: "/v1/payouts/balance?supplier_id={supplier}", own: "FAFFA", foreign: "FNFFA"},
		matrixRow{op: "get_payout", method: "GET", path: "/v1/payouts/{payout}", own: "FAFFA", foreign: "FNFFA"},
		matrixRow{op: "create_payout", method: "POST", path: "/v1/payouts", own: "FFFFA", foreign: "FFFFA",
			body: func(t *target) any { return map[string]any{"supplier_id": t.supplier(), "currency": "USD"} }},
		matrixRow{op: "record_payout_result", method: "POST", path: "/v1/payouts/{payout}/result", own: "FFFFA", foreign: "FFFFA",
			body: func(t *target) any {
				return map[string]any{"outcome": "sent", "amount": map[string]any{"minor": 1, "currency": "USD"},
					"bank_reference": "FT-MATRIX", "value_date": t.f.w.clock.Now().Format("2006-01-02")}
			}},
		matrixRow{op: "clear_payout_flag", method: "POST", path: "/v1/payouts/flags/{supplier}/clear", own: "FFFFA", foreign: "FFFFA"},
		matrixRow{op: "set_sandbox_payout_rail", method: "POST", path: "/v1/payouts/sandbox-rail", own: "FFFFA",
			body: static(map[string]any{"supplier_id": "sup_none", "return": false})},
	)
}
