package notify

// The platform's admins act on the work that waits for an operator on the portal's Operations
// page (/admin/operations, docs/portal.md): a section per queue, each item with the forms that
// answer it. A notice that asks the admins to act on one of those items links to its queue's
// section; its text still names the API operation, for programs.
const operationsPage = "/admin/operations"

// Sections of the Operations page the admins' notices link to.
const (
	// OperationsPayoutsLink: supplier payouts waiting for the bank's answer, to record as sent
	// or returned — among them those the payout rail gave no usable answer for, marked.
	OperationsPayoutsLink = operationsPage + "#payouts"
	// OperationsFlagsLink: payout accounts flagged after a return, to clear once the supplier
	// has corrected its bank details.
	OperationsFlagsLink = operationsPage + "#flags"
	// OperationsDebitAttentionLink: Pay Later debits the bank never answered, to ask again or
	// to record the answer its report gives.
	OperationsDebitAttentionLink = operationsPage + "#debit-attention"
	// OperationsDebitsLink: Pay Later debits waiting for the bank's answer, to record.
	OperationsDebitsLink = operationsPage + "#debits"
	// OperationsLenderLink: lender requests needing attention, to ask the lender again.
	OperationsLenderLink = operationsPage + "#lender-requests"
	// OperationsLenderFundsLink: disbursements the lender accepted to pay whose money has not
	// arrived, the overdue ones first and marked, to chase the lender for.
	OperationsLenderFundsLink = operationsPage + "#lender-funds"
)
