package credit_test

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// statementLoans returns the worked example's loan, repaid on schedule for its first
// installment, and a second loan of US$2,000 over 2 months accepted on April 10, 2025 for
// another order on the same line. march, if not nil, sees the line and the loan as they are at
// the end of March.
func statementLoans(t *testing.T, march func(credit.Line, []credit.Loan)) (credit.Line, []credit.Loan) {
	k := funded(t, 10_000_00, 6) // disbursed 2025-03-07
	if march != nil {
		march(k.line, []credit.Loan{*k.loan})
	}
	k.debit(k.due(1), true) // 2025-04-07
	at := time.Date(2025, 4, 10, 15, 0, 0, 0, time.UTC)
	a, err := credit.Draw(k.line, credit.DrawRequest{OrderID: "ord_2", Amount: usd(2_000_00), TermMonths: 2}, at, fed)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := credit.NewLoan("loan_2", k.line, "ord_2", lender.ID(), a)
	if err != nil {
		t.Fatal(err)
	}
	mustFx(t)(l2.Accept(credit.RoleBuyer, &k.line, at))
	mustFx(t)(l2.Disburse(credit.RoleLender, &k.line, a.DisbursementDue))
	return k.line, []credit.Loan{*k.loan, *l2}
}

func mustFx(t *testing.T) func(credit.Effects, error) {
	return func(_ credit.Effects, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatement ensures a line's monthly statement adds up — opening balance, draws, fees,
// credits (the first-month fee credit shows here), payments, closing balance — and names the
// next due date and amount. R11
func TestStatement(t *testing.T) {
	// Each statement is built at the end of its period, as the monthly job does.
	var marchLine credit.Line
	var marchLoans []credit.Loan
	line, loans := statementLoans(t, func(l credit.Line, ls []credit.Loan) { marchLine, marchLoans = l, ls })
	tests := []struct {
		period                                      credit.Period
		opening, draws, fees, credits, pay, closing int64
		nextDue                                     string
		nextAmount                                  int64
	}{
		{credit.Period{Year: 2025, Month: time.March}, 0, 10_000_00, 0, 0, 0, 10_000_00, "2025-04-07", 1_766_67},
		{credit.Period{Year: 2025, Month: time.April}, 10_000_00, 2_000_00, 200_00, 100_00, 1_766_67, 10_333_33, "2025-05-05", 1_866_67},
	}
	for _, tc := range tests {
		l, ls := line, loans
		if tc.period.Month == time.March {
			l, ls = marchLine, marchLoans
		}
		st, err := credit.NewStatement(l, ls, tc.period)
		if err != nil {
			t.Fatal(err)
		}
		got := [6]int64{st.Opening.Minor, st.Draws.Minor, st.Fees.Minor, st.Credits.Minor, st.Payments.Minor, st.Closing.Minor}
		want := [6]int64{tc.opening, tc.draws, tc.fees, tc.credits, tc.pay, tc.closing}
		if got != want {
			t.Errorf("%s: got %v, want %v", tc.period, got, want)
		}
		if st.NextDueDate.Format(time.DateOnly) != tc.nextDue || st.NextDueAmount.Minor != tc.nextAmount {
			t.Errorf("%s: next due %s %s, want %s %d", tc.period, st.NextDueDate.Format(time.DateOnly), st.NextDueAmount, tc.nextDue, tc.nextAmount)
		}
	}
	// A failed debit shows the billed fee and credit, and the installment as past due.
	k := funded(t, 10_000_00, 6)
	k.debit(k.due(1), false)
	st, err := credit.NewStatement(k.line, []credit.Loan{*k.loan}, credit.Period{Year: 2025, Month: time.April})
	if err != nil {
		t.Fatal(err)
	}
	if st.PastDue != usd(1_766_67) || st.Closing != usd(10_100_00) || st.Credits != usd(100_00) {
		t.Errorf("past-due statement: past due %s closing %s credits %s", st.PastDue, st.Closing, st.Credits)
	}
}

// TestStatementCSV ensures the CSV export is deterministic and matches the golden file: same
// statement, same bytes, parseable as one table whose rows all have the header's columns. R11
func TestStatementCSV(t *testing.T) {
	line, loans := statementLoans(t, nil)
	st, err := credit.NewStatement(line, loans, credit.Period{Year: 2025, Month: time.April})
	if err != nil {
		t.Fatal(err)
	}
	got := st.CSV()
	golden := filepath.Join("testdata", "statement_2025-04.csv")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("statement CSV differs from %s (run go test -update to accept):\n%s", golden, got)
	}
	// Reversing the loans' order changes nothing.
	st2, _ := credit.NewStatement(line, []credit.Loan{loans[1], loans[0]}, credit.Period{Year: 2025, Month: time.April})
	if !bytes.Equal(st2.CSV(), got) {
		t.Error("the CSV depends on the order of the loans")
	}
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil || len(rows) < 3 || rows[0][0] != "date" {
		t.Fatalf("csv: %v %v", rows, err)
	}
}
