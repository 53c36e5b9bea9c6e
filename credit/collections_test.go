package credit_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York wherever the tests run

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/ledger"
)

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestDebitRetrySchedule ensures a refused automatic debit is retried 3 and 7 US business days
// later, counted on the Federal Reserve calendar in New York: a refusal on Friday December 26,
// 2025 is retried on Wednesday December 31 (across a weekend) and on Wednesday January 7, 2026
// (across New Year's Day and another weekend), at the same clock time. R11
func TestDebitRetrySchedule(t *testing.T) {
	ny := newYork(t)
	k := funded(t, 10_000_00, 6)
	failed := time.Date(2025, 12, 26, 0, 0, 0, 0, ny)
	timers := k.loan.RetryTimers(fed, failed)
	want := []time.Time{time.Date(2025, 12, 31, 0, 0, 0, 0, ny), time.Date(2026, 1, 7, 0, 0, 0, 0, ny)}
	if len(timers) != len(want) {
		t.Fatalf("%d retry timers, want %d", len(timers), len(want))
	}
	for i, tm := range timers {
		if !tm.DueAt.Equal(want[i]) || tm.Kind != credit.TimerDebitRetry || tm.LoanID != k.loan.ID {
			t.Errorf("retry %d: %+v, want at %s", i+1, tm, want[i])
		}
	}
	if timers[0].Key == timers[1].Key {
		t.Error("the two retries share a key")
	}
	// Replaying the same refusal sets the same timers.
	again := k.loan.RetryTimers(fed, failed)
	if again[0] != timers[0] || again[1] != timers[1] {
		t.Errorf("a replayed refusal set other timers: %+v", again)
	}
}

// TestChargeOffAfterDaysPastDue ensures a loan past due since its first due date is charged off
// ChargeOffDaysPastDue days later: the rest of what it owes is posted as charged off, the loan
// book moves it from the loan's receivable to the lender's credit loss (balanced, no real money
// moves), the line closes, and the month's statement shows it. R11
func TestChargeOffAfterDaysPastDue(t *testing.T) {
	ny := newYork(t)
	k := funded(t, 10_000_00, 6)
	if !k.loan.PastDueSince().IsZero() {
		t.Fatal("a current loan is past due")
	}
	if _, ok := k.loan.ChargeOffTimer(ny); ok {
		t.Fatal("a current loan has a charge-off timer")
	}
	k.debit(k.due(1), false)
	if got := k.loan.PastDueSince(); !got.Equal(k.due(1)) {
		t.Fatalf("past due since %s, want %s", got, k.due(1))
	}
	tm, ok := k.loan.ChargeOffTimer(ny)
	want := k.due(1).In(ny).AddDate(0, 0, credit.ChargeOffDaysPastDue)
	if !ok || !tm.DueAt.Equal(want) || tm.Kind != credit.TimerChargeOff {
		t.Fatalf("charge-off timer %+v, want at %s", tm, want)
	}
	owed := k.loan.Balance()
	if owed != usd(10_100_00) {
		t.Fatalf("balance %s, want 10,100.00 (principal and month 1's fee net of the credit)", owed)
	}
	k.take(k.loan.ChargeOff(credit.RoleSystem, &k.line, tm.DueAt))
	if k.loan.State != credit.ChargedOff || k.line.Status != credit.LineClosed || !k.loan.Balance().IsZero() {
		t.Fatalf("after charge-off: %s, line %s, balance %s", k.loan.State, k.line.Status, k.loan.Balance())
	}
	if len(k.fx.Transfers) != 0 {
		t.Fatalf("a charge-off moved real money: %+v", k.fx.Transfers)
	}
	loss := credit.LossAccount(lender.ID())
	if got := ledger.Natural(loss.Kind, k.book[loss.ID()]); got != owed.Minor {
		t.Fatalf("credit loss %d, want %d", got, owed.Minor)
	}
	if len(k.fx.LoanBook) != 1 || k.fx.LoanBook[0].Code != "pay_later_charge_off" {
		t.Fatalf("loan book %+v", k.fx.LoanBook)
	}
	st, err := credit.NewStatement(k.line, []credit.Loan{*k.loan}, credit.PeriodOf(tm.DueAt))
	if err != nil {
		t.Fatal(err)
	}
	if st.Opening != owed || st.ChargedOff != owed || !st.Closing.IsZero() || !st.NextDueDate.IsZero() {
		t.Fatalf("statement of the charge-off month: %+v", st)
	}
	if !strings.Contains(string(st.CSV()), ",total_charged_off,,,,Charged off,10100.00,\n") {
		t.Fatalf("the CSV does not show the charge-off:\n%s", st.CSV())
	}
}

// TestPeriod ensures a statement period reads and writes as YYYY-MM, in JSON too, and refuses
// anything else. R11
func TestPeriod(t *testing.T) {
	p, err := credit.ParsePeriod("2025-12")
	if err != nil || p != (credit.Period{Year: 2025, Month: time.December}) || p.Next() != (credit.Period{Year: 2026, Month: time.January}) {
		t.Fatalf("2025-12: %+v %v", p, err)
	}
	if !p.End().Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("December closes at %s", p.End())
	}
	for _, bad := range []string{"2025-13", "2025-1", "25-01", "1999-12", "", "2025-12-01"} {
		if _, err := credit.ParsePeriod(bad); !isReason(err, "invalid_period") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	b, err := json.Marshal(struct{ P credit.Period }{p})
	if err != nil || string(b) != `{"P":"2025-12"}` {
		t.Fatalf("json %s %v", b, err)
	}
	var back struct{ P credit.Period }
	if err := json.Unmarshal(b, &back); err != nil || back.P != p {
		t.Fatalf("json back %+v %v", back, err)
	}
}

// TestStatementPDF ensures the statement PDF is a PDF, the same bytes every time (no rendering
// time in it), and shows the closing balance, the next due date and amount, and every posting
// as text a PDF reader extracts. R11
func TestStatementPDF(t *testing.T) {
	line, loans := statementLoans(t, nil)
	st, err := credit.NewStatement(line, loans, credit.Period{Year: 2025, Month: time.April})
	if err != nil {
		t.Fatal(err)
	}
	st.Close(time.Date(2025, 5, 1, 0, 0, 2, 0, time.UTC))
	first, err := st.PDF()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(first), []byte("%%EOF")) {
		t.Fatalf("not a PDF: %q", first[:min(20, len(first))])
	}
	for range 3 {
		again, err := st.PDF()
		if err != nil || !bytes.Equal(again, first) {
			t.Fatal("the same statement gave other bytes")
		}
	}
	other := st
	other.Closing = usd(1)
	if b, _ := other.PDF(); bytes.Equal(b, first) {
		t.Fatal("another statement gave the same bytes")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(first)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"Pay Later statement", "April 2025", "Closing balance USD 10,333.33",
		"Next payment due on 5 May 2025 USD 1,866.67", "Closed on 1 May 2025 00:00 UTC", "First-month fee credit",
		"-1,766.67", "Opening balance USD 10,000.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, out)
		}
	}
}

// TestStatementRefundsApart ensures a refund of a financed order applied to the loan shows on the
// statement as a refund, apart from the buyer's payments, and the totals still add up to the
// closing balance. R11
func TestStatementRefundsApart(t *testing.T) {
	k := funded(t, 10_000_00, 6)
	k.debit(k.due(1), true)
	at := k.due(1).Add(48 * time.Hour)
	k.refundOrder(4_000_00, at)
	st, err := credit.NewStatement(k.line, []credit.Loan{*k.loan}, credit.PeriodOf(at))
	if err != nil {
		t.Fatal(err)
	}
	if st.Refunds != usd(4_000_00) || st.Payments != usd(1_766_67) || st.Closing != usd(4_333_33) {
		t.Fatalf("refunds %s, payments %s, closing %s", st.Refunds, st.Payments, st.Closing)
	}
	if !strings.Contains(string(st.CSV()), ",total_refunds,,,,Refunds applied,4000.00,\n") {
		t.Fatalf("the CSV does not total the refund:\n%s", st.CSV())
	}
}
