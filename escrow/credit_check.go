package escrow

import (
	"sort"

	"github.com/tradeassure/tradeassure/ledger"
)

// checkLoanBook verifies the Pay Later loan book (R11, docs/pay-later.md) on the posted
// transfers: a transfer that touches a loan's receivable touches no other kind than the
// lender's funding and credit loss (the loan book never moves the platform's escrow), and for
// each lender its funding equals the receivables of its loans plus its credit loss — what it lent
// and charged is either still owed on the platform's book or written off.
func (r *CheckReport) checkLoanBook(all []ledger.Transfer, b ledger.Balances) {
	lenderOf := map[string]string{} // loan → lender
	lenders := map[string]ledger.Account{}
	for _, t := range all {
		var loans, owners []string
		other := false
		for _, e := range t.Entries {
			switch e.Account.Kind {
			case ledger.LoanReceivable:
				loans = append(loans, e.Account.ID())
			case ledger.LenderFunding, ledger.CreditLoss:
				owners = append(owners, e.Account.Owner)
				lenders[e.Account.Owner] = ledger.Account{Kind: ledger.LenderFunding, Owner: e.Account.Owner, Currency: e.Account.Currency}
			default:
				other = true
			}
		}
		if len(loans) == 0 {
			if len(owners) > 0 {
				r.violate("loan_book_mixed", "transfer %s moves a lender's loan book without a loan", t.ID)
			}
			continue
		}
		if other || len(owners) != 1 {
			r.violate("loan_book_mixed", "transfer %s moves a loan's receivable against another kind of account", t.ID)
			continue
		}
		for _, l := range loans {
			lenderOf[l] = owners[0]
		}
	}
	owed := map[string]int64{}
	for loan, lender := range lenderOf {
		owed[lender] += ledger.Natural(ledger.LoanReceivable, b[loan])
	}
	names := make([]string, 0, len(lenders))
	for n := range lenders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fund := lenders[n]
		loss := ledger.Account{Kind: ledger.CreditLoss, Owner: n, Currency: fund.Currency}
		f, l := ledger.Natural(fund.Kind, b[fund.ID()]), ledger.Natural(loss.Kind, b[loss.ID()])
		if f != owed[n]+l {
			r.violate("loan_book_mismatch", "lender %s: funding %d, its loans owe %d and it wrote off %d", n, f, owed[n], l)
		}
	}
}
