package web

import (
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
)

// TestDebitNoteSandbox ensures the portal says when a debit is the sandbox bank's: a simulated
// answer, no money moved — and says nothing of the kind for a real bank's or an operator's. R11
func TestDebitNoteSandbox(t *testing.T) {
	at := time.Date(2026, 4, 2, 4, 0, 0, 0, time.UTC)
	for _, sandbox := range []bool{true, false} {
		l := escrow.LoanRecord{Loan: credit.Loan{ID: "loan_1", State: credit.Disbursed}, BankDebit: &escrow.DebitRequest{
			ID: "pld_1", Kind: escrow.DebitInstallment, Amount: money.New(1_740_00, credit.USD), AccountLast4: "4321",
			Status: escrow.DebitRequested, RequestedAt: at, Sandbox: sandbox}}
		note := debitNote(l)
		if !strings.HasPrefix(note, "Automatic debit of USD 1,740.00 requested from your account ending ••••4321") {
			t.Errorf("sandbox %v: %q", sandbox, note)
		}
		if got := strings.Contains(note, "Sandbox bank: a simulated answer, no money moves."); got != sandbox {
			t.Errorf("sandbox %v: labelled %v: %q", sandbox, got, note)
		}
	}
}
