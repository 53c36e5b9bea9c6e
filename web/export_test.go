package web

// SetDirectoryScanMax lowers the directory's scan limit for a test, so that a few suppliers
// reach it; the returned function restores it.
func SetDirectoryScanMax(n int) (restore func()) {
	old := directoryScanMax
	directoryScanMax = n
	return func() { directoryScanMax = old }
}

// SetCreditPageSizes lowers the credit page's page sizes (loans, closed statements,
// applications) for a test, so that a few items fill more than one page; the returned function
// restores them.
func SetCreditPageSizes(loans, statements, applications int) (restore func()) {
	old := creditPageSizes
	creditPageSizes.loans, creditPageSizes.statements, creditPageSizes.applications = loans, statements, applications
	return func() { creditPageSizes = old }
}

// SetOperationsPageSizes lowers the operations page's page sizes (payouts, flagged accounts,
// debits waiting, debits needing attention, lender requests, disbursements awaiting the lender's
// money) for a test; the returned function restores them.
func SetOperationsPageSizes(payouts, flags, debits, attention, lender, funds int) (restore func()) {
	old := opsPageSizes
	opsPageSizes.payouts, opsPageSizes.flags, opsPageSizes.debits, opsPageSizes.attention, opsPageSizes.lender, opsPageSizes.funds =
		payouts, flags, debits, attention, lender, funds
	return func() { opsPageSizes = old }
}
