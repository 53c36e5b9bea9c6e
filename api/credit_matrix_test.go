package api_test

// The Pay Later operations' rows of the authorization matrix (matrix_test.go), kept beside the
// Pay Later API. Each tenant's buyer has a line opened by the lender worker from its application,
// and an offered loan (matrix_owned_test.go), and tenant A's buyer a bank debit from paying one
// off: an application or a loan is its buyer's and an admin's, the roles that may never issue a
// command get 403 first, and another tenant's is none.
func init() {
	matrix = append(matrix,
		matrixRow{op: "apply_for_credit", method: "POST", path: "/v1/credit/applications", own: "AFFFF",
			body: static(creditApplication("US", 500_000_00))},
		matrixRow{op: "list_credit_applications", method: "GET", path: "/v1/credit/applications?buyer_id={org}", own: "AFFFA", foreign: "NFFFA"},
		// An admin's own organization is the platform, which has no line or loans.
		matrixRow{op: "get_credit_line", method: "GET", path: "/v1/credit/line?buyer_id={org}", own: "AFFFN", foreign: "NFFFA"},
		matrixRow{op: "list_loans", method: "GET", path: "/v1/credit/loans?buyer_id={org}", own: "AFFFN", foreign: "NFFFA"},
		// Statements: the buyer and an admin read them, anyone else is told there is none. As its
		// own organization an admin names the platform, which has no line (404); buyer B's it reads.
		matrixRow{op: "get_credit_statement", method: "GET", path: "/v1/credit/statements/2026-03?buyer_id={org}", own: "ANNNN", foreign: "NNNNA"},
		matrixRow{op: "list_credit_statements", method: "GET", path: "/v1/credit/statements?buyer_id={org}", own: "ANNNN", foreign: "NNNNA"},
		matrixRow{op: "get_credit_application", method: "GET", path: "/v1/credit/applications/{application}", own: "AFFFA", foreign: "NFFFA"},
		// The fixture's applications were approved: completing one is refused as a conflict
		// (allowed: authorization passed), another tenant's is none.
		matrixRow{op: "supply_credit_information", method: "POST", path: "/v1/credit/applications/{application}/information", own: "AFFFF", foreign: "NFFFF",
			body: static(map[string]any{"established": "2019-04-01"})},
		matrixRow{op: "offer_loan", method: "POST", path: "/v1/orders/{order}/pay-later/offers", own: "AFFFF", foreign: "NFFFF",
			body: static(map[string]any{"term_months": 3})},
		matrixRow{op: "get_loan", method: "GET", path: "/v1/loans/{loan}", own: "ANNNA", foreign: "NNNNA"},
		matrixRow{op: "accept_loan", method: "POST", path: "/v1/loans/{loan}/accept", own: "AFFFF", foreign: "NFFFF", mutates: true},
		matrixRow{op: "cancel_loan", method: "POST", path: "/v1/loans/{loan}/cancel", own: "AFFFA", foreign: "NFFFA", mutates: true},
		matrixRow{op: "pay_off_loan", method: "POST", path: "/v1/loans/{loan}/pay-off", own: "AFFFF", foreign: "NFFFF", mutates: true},
		matrixRow{op: "charge_off_loan", method: "POST", path: "/v1/loans/{loan}/charge-off", own: "FFFFA", foreign: "FFFFA", mutates: true},
		matrixRow{op: "list_bank_debits", method: "GET", path: "/v1/credit/bank-debits?status=attention", own: "FFFFA"},
		matrixRow{op: "retry_bank_debit", method: "POST", path: "/v1/credit/bank-debits/{debit}/retry", own: "FFFFA"},
		matrixRow{op: "record_bank_debit_result", method: "POST", path: "/v1/credit/bank-debits/{debit}/result", own: "FFFFA",
			body: static(map[string]any{"paid": true})},
		matrixRow{op: "list_lender_requests", method: "GET", path: "/v1/credit/lender-requests?status=attention", own: "FFFFA"},
		// No lender request waits for an operator in the fixture: an admin is told there is none.
		matrixRow{op: "retry_lender_request", method: "POST", path: "/v1/credit/lender-requests/plr_none/retry", own: "FFFFN"},
		// Only an admin sets the sandbox bank, for tenant A's buyer or tenant B's alike; every
		// other role is refused before the buyer is looked up.
		matrixRow{op: "set_sandbox_bank", method: "POST", path: "/v1/credit/sandbox-bank", own: "FFFFA", foreign: "FFFFA",
			body: func(t *target) any {
				b, _, _ := tenantNames(t.own)
				return map[string]any{"buyer_id": t.f.w.ids[b], "fail": false}
			}},
	)
}
