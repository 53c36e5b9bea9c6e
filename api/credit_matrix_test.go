package api_test

// The Pay Later operations' rows of the authorization matrix (matrix_test.go), kept beside the
// Pay Later API. The fixture has no loan, so the loan operations name one that does not exist:
// its buyer and an admin are told so (404), the roles that may never issue the command get 403
// first. The application row comes first, and the next row lets the lender worker decide it, so
// the buyer has a line for the rows after it.
func init() {
	matrix = append(matrix,
		matrixRow{op: "apply_for_credit", method: "POST", path: "/v1/credit/applications", own: "AFFFF",
			body: static(creditApplication("US", 500_000_00))},
		matrixRow{op: "list_credit_applications", method: "GET", path: "/v1/credit/applications?buyer_id={org}", own: "AFFFA", foreign: "NFFFA",
			body: func(t *target) any { t.f.w.lenderWorker(); return nil }}, // the lender decides: the line opens
		matrixRow{op: "get_credit_application", method: "GET", path: "/v1/credit/applications/app_none", own: "NFFFN"},
		matrixRow{op: "supply_credit_information", method: "POST", path: "/v1/credit/applications/app_none/information", own: "NFFFF",
			body: static(map[string]any{"established": "2019-04-01"})},
		matrixRow{op: "get_credit_line", method: "GET", path: "/v1/credit/line?buyer_id={org}", own: "AFFFN", foreign: "NFFFN"},
		matrixRow{op: "list_loans", method: "GET", path: "/v1/credit/loans?buyer_id={org}", own: "AFFFN", foreign: "NFFFN"},
		// Statements: the buyer and an admin read them, anyone else is told there is none; the
		// fixture's admin names the platform, which has no line.
		matrixRow{op: "get_credit_statement", method: "GET", path: "/v1/credit/statements/2026-03?buyer_id={org}", own: "ANNNN", foreign: "NNNNN"},
		matrixRow{op: "list_credit_statements", method: "GET", path: "/v1/credit/statements?buyer_id={org}", own: "ANNNN", foreign: "NNNNN"},
		matrixRow{op: "offer_loan", method: "POST", path: "/v1/orders/{order}/pay-later/offers", own: "AFFFF", foreign: "NFFFF",
			body: static(map[string]any{"term_months": 3})},
		matrixRow{op: "get_loan", method: "GET", path: "/v1/loans/loan_none", own: "NNNNN"},
		matrixRow{op: "accept_loan", method: "POST", path: "/v1/loans/loan_none/accept", own: "NFFFF"},
		matrixRow{op: "cancel_loan", method: "POST", path: "/v1/loans/loan_none/cancel", own: "NFFFN"},
		matrixRow{op: "pay_off_loan", method: "POST", path: "/v1/loans/loan_none/pay-off", own: "NFFFF"},
		matrixRow{op: "charge_off_loan", method: "POST", path: "/v1/loans/loan_none/charge-off", own: "FFFFN"},
		matrixRow{op: "list_bank_debits", method: "GET", path: "/v1/credit/bank-debits?status=attention", own: "FFFFA"},
		matrixRow{op: "retry_bank_debit", method: "POST", path: "/v1/credit/bank-debits/pld_none/retry", own: "FFFFN"},
		matrixRow{op: "record_bank_debit_result", method: "POST", path: "/v1/credit/bank-debits/pld_none/result", own: "FFFFN",
			body: static(map[string]any{"paid": true})},
		matrixRow{op: "list_lender_requests", method: "GET", path: "/v1/credit/lender-requests?status=attention", own: "FFFFA"},
		matrixRow{op: "retry_lender_request", method: "POST", path: "/v1/credit/lender-requests/plr_none/retry", own: "FFFFN"},
		matrixRow{op: "set_sandbox_bank", method: "POST", path: "/v1/credit/sandbox-bank", own: "FFFFA",
			body: static(map[string]any{"buyer_id": "buy_none", "fail": false})},
	)
}
