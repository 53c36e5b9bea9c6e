package credit

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

// LenderClearingOwner owns the lender's clearing account: the Pay Later rail, named like the
// payment method.
const LenderClearingOwner = "pay_later"

// LenderClearing is the lender's clearing account: money between the lender and the platform
// (disbursements in, refunds routed back). An existing kind: a rail's clearing account.
func LenderClearing() ledger.Account {
	return ledger.Account{Kind: ledger.RailClearing, Owner: LenderClearingOwner, Currency: USD}
}

// SandboxClearingOwner owns the sandbox rail's clearing account (trade.SandboxRail): with the
// sandbox on, the lender's money is simulated and comes from it, as every sandbox payment does.
const SandboxClearingOwner = "sandbox"

// SandboxClearing is the sandbox rail's clearing account in USD: the source of a simulated
// disbursement, and where a refund repaying a sandbox loan goes back, so that the lender's
// clearing account never holds simulated money.
func SandboxClearing() ledger.Account {
	return ledger.Account{Kind: ledger.RailClearing, Owner: SandboxClearingOwner, Currency: USD}
}

// Clearing is where the loan's money came from and where a refund repaying it goes: the
// sandbox's clearing account for a loan the sandbox disbursed, the lender's otherwise.
func (l *Loan) Clearing() ledger.Account {
	if l.Sandbox {
		return SandboxClearing()
	}
	return LenderClearing()
}

// EscrowAccount is the order's escrow, which a disbursement funds.
func EscrowAccount(orderID string) ledger.Account {
	return ledger.Account{Kind: ledger.Escrow, Owner: orderID, Currency: USD}
}

// BuyerRefundableAccount is where the order's refund waits for the buyer.
func BuyerRefundableAccount(buyerID string) ledger.Account {
	return ledger.Account{Kind: ledger.BuyerRefundable, Owner: buyerID, Currency: USD}
}

// ReceivableAccount is the loan's receivable: what the buyer owes the lender on it, principal
// drawn and fees charged less credits, payments and refunds (ledger.LoanReceivable).
func ReceivableAccount(loanID string) ledger.Account {
	return ledger.Account{Kind: ledger.LoanReceivable, Owner: loanID, Currency: USD}
}

// FundingAccount is the lender's funding account: its side of the loans the platform services
// (ledger.LenderFunding).
func FundingAccount(lenderID string) ledger.Account {
	return ledger.Account{Kind: ledger.LenderFunding, Owner: lenderID, Currency: USD}
}

// LossAccount is the lender's credit loss: the receivables of its charged-off loans.
func LossAccount(lenderID string) ledger.Account {
	return ledger.Account{Kind: ledger.CreditLoss, Owner: lenderID, Currency: USD}
}

// DisbursementTransfer is the lender's money arriving in the order's escrow: debit the loan's
// clearing (Clearing), credit the escrow. From then on the order counts as paid.
func DisbursementTransfer(l *Loan, id string, at time.Time) (ledger.Transfer, error) {
	return ledger.NewTransfer(id, "pay_later_disbursement", USD, l.OrderID, at).
		Memo("loan "+l.ID).
		Post(l.Clearing(), EscrowAccount(l.OrderID), l.Agreement.Principal.Minor).
		Build()
}

// RefundTransfer routes the part of an order's refund that repays the loan to the lender:
// debit the buyer's refundable balance (which the order's refund credited), credit the loan's
// clearing (Clearing: the lender's, or the sandbox's for a simulated loan). The rest stays
// refundable to the buyer.
func RefundTransfer(l *Loan, id string, toLoan money.Amount, at time.Time) (ledger.Transfer, error) {
	return ledger.NewTransfer(id, "pay_later_refund", USD, l.OrderID, at).
		Memo("loan "+l.ID).
		Post(BuyerRefundableAccount(l.BuyerID), l.Clearing(), toLoan.Minor).
		Build()
}

// RepaymentTransfer is a buyer's repayment in the loan book: debit the lender's funding,
// credit the loan's receivable.
func RepaymentTransfer(l *Loan, id string, amount money.Amount, at time.Time) ledger.Transfer {
	return bookTransfer(id, l, PostPayment, 0, amount, at)
}

// bookTransfer mirrors one posting of the loan's account in the loan book. It panics if the
// transfer does not balance: only a bug can make that.
func bookTransfer(id string, l *Loan, kind PostingKind, installment int, amount money.Amount, at time.Time) ledger.Transfer {
	rec, fund := ReceivableAccount(l.ID), FundingAccount(l.LenderID)
	debit, credit := fund, rec // what lowers the buyer's debt
	switch kind {
	case PostDraw, PostFee:
		debit, credit = rec, fund
	case PostChargeOff: // the lender bears the loss; its funding of the loan is spent
		debit = LossAccount(l.LenderID)
	}
	memo := "loan " + l.ID
	if installment > 0 {
		memo = fmt.Sprintf("loan %s installment %d", l.ID, installment)
	}
	t := ledger.Transfer{ID: id, Code: "pay_later_" + string(kind), Currency: USD, OrderID: l.OrderID, Memo: memo, At: at,
		Entries: []ledger.Entry{{Account: debit, Amount: amount.Minor}, {Account: credit, Amount: -amount.Minor}}}
	if err := t.Validate(); err != nil {
		panic("credit: " + err.Error())
	}
	return t
}
