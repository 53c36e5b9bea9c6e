package escrow_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/trade"
)

// events counts the events of a type on a stream, read straight from the store.
func (e *env) events(stream, typ string) int {
	e.t.Helper()
	var evs []escrow.Event
	if err := e.db.Read(e.ctx, func(r escrow.Reader) error {
		var err error
		evs, err = r.Events(e.ctx, stream)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// timersOf lists the timers filed under id (a loan or a line) of a kind.
func (e *env) timersOf(id string, kind credit.TimerKind) []escrow.StoredTimer {
	e.t.Helper()
	var out []escrow.StoredTimer
	for _, tm := range must(e.svc.Timers(e.ctx, id)) {
		if tm.Kind == trade.TimerKind(kind) {
			out = append(out, tm)
		}
	}
	return out
}

// restartWhileClaimed is a worker claiming everything due at the clock's time and dying before it
// fires any of it, then a process restart (a new Service over the same database): nothing fires
// while the dead worker's lease runs; once it lapses the timers fire, and firing again changes
// nothing. failing says whether the new process's sandbox bank refuses the buyer's debits.
func (e *env) restartWhileClaimed(failing bool) {
	e.t.Helper()
	if claimed := must(e.db.ClaimTimers(e.ctx, e.clock.Now(), "doomed", escrow.TimerLease, 50)); len(claimed) == 0 {
		e.t.Fatal("nothing due to claim")
	}
	e.db.Close()
	e.open()
	e.setFailing(failing)
	if n := e.timers(); n != 0 {
		e.t.Fatalf("%d timers fired while the dead worker's lease runs", n)
	}
	at := e.clock.Now()
	e.clock.Advance(escrow.TimerLease + time.Second)
	if e.timers() == 0 {
		e.t.Fatal("nothing fired after the lease lapsed")
	}
	e.clock.Set(at.Add(escrow.TimerLease + 2*time.Second))
}

// statementRow is one row of docs/pay-later.md's table of the worked example's statements.
func statementRow(st credit.Statement) string {
	due := "—"
	if !st.NextDueDate.IsZero() {
		due = st.NextDueDate.UTC().Format(time.DateOnly) + " " + grouped(st.NextDueAmount)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s |", st.Period, grouped(st.Opening), grouped(st.Draws),
		grouped(st.Fees), grouped(st.Credits), grouped(st.Payments), grouped(st.Closing), due)
}

func grouped(a interface{ Decimal() string }) string {
	whole, frac, _ := strings.Cut(a.Decimal(), ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return whole + "." + frac
}

// TestPayLaterStatementsStored ensures each month's statement of a line is closed at 00:00 UTC
// on the 1st by its timer and stored: the worked example's loan, repaid on schedule, gives the
// statements docs/pay-later.md shows to the cent; each stored closing balance is the next
// month's opening balance; a month not closed yet is computed and marked in progress; the
// December statement closes exactly once although the worker that claimed it died (a restart);
// the buyer and an admin read statements, anyone else is told there is none. R11, R21
func TestPayLaterStatementsStored(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		_, l := e.disbursed() // the November statement closed on December 1 at 00:00 UTC, before the lender paid
		line := e.line()
		nov := credit.Period{Year: 2025, Month: time.November}
		st := must(e.svc.CreditStatement(e.ctx, e.buyer, "", nov))
		if st.Status != credit.StatementClosed || !st.ClosedAt.Equal(disbursedAt) || !st.Closing.IsZero() {
			t.Fatalf("November: %s closed at %s, closing %s", st.Status, st.ClosedAt, st.Closing)
		}
		e.clock.Set(firstDue)
		e.timers()
		dec := credit.Period{Year: 2025, Month: time.December}
		e.clock.Set(dec.End().Add(-time.Microsecond))
		e.timers()
		st = must(e.svc.CreditStatement(e.ctx, e.buyer, "", dec))
		if st.Status != credit.StatementInProgress || st.Closing != dollars(8_333_33) {
			t.Fatalf("December before it closes: %s, closing %s", st.Status, st.Closing)
		}
		if _, err := e.svc.CreditStatement(e.ctx, e.buyer, "", dec.Next()); fault.ReasonOf(err) != "credit_statement_not_found" {
			t.Fatalf("a month not begun: %v", err)
		}
		// December closes at midnight UTC on January 1 (a US holiday: statements close on any day).
		e.clock.Set(dec.End())
		e.restartWhileClaimed(false)
		if n := e.events(e.buyer.OrgID, "credit.statement_closed"); n != 2 {
			t.Fatalf("credit.statement_closed %d times after two months, want 2", n)
		}
		closed := must(e.svc.CreditStatement(e.ctx, e.buyer, "", dec))
		if closed.Status != credit.StatementClosed || !closed.ClosedAt.Equal(dec.End().Add(escrow.TimerLease+time.Second)) ||
			string(closed.CSV()) != string(st.CSV()) {
			t.Fatalf("December as stored: %s at %s\n%s", closed.Status, closed.ClosedAt, closed.CSV())
		}
		// Run the loan to its end, month by month: each due date's debit, each month's close.
		for _, at := range []string{"2026-01-26", "2026-02-26", "2026-03-26", "2026-04-27", "2026-05-26"} {
			day, _ := time.Parse(time.DateOnly, at)
			e.clock.Set(day.Add(5 * time.Hour)) // midnight in New York: the due date's debit
			e.timers()
			e.clock.Set(credit.PeriodOf(day).End())
			e.timers()
		}
		if got := e.loan(l.ID); got.State != credit.PaidOff {
			t.Fatalf("loan %s after its last due date", got.State)
		}
		doc, err := os.ReadFile("../docs/pay-later.md")
		if err != nil {
			t.Fatal(err)
		}
		list := must(e.svc.CreditStatements(e.ctx, e.buyer, ""))
		if len(list) != 7 || list[0].Period != (credit.Period{Year: 2026, Month: time.May}) || list[6].Period != nov {
			t.Fatalf("%d stored statements, newest %s", len(list), list[0].Period)
		}
		for i := len(list) - 1; i >= 0; i-- {
			st := list[i]
			if st.Status != credit.StatementClosed || st.LineID != line.ID {
				t.Errorf("%s: %s on %s", st.Period, st.Status, st.LineID)
			}
			if i > 0 && list[i-1].Opening != st.Closing {
				t.Errorf("%s closes at %s, %s opens at %s", st.Period, st.Closing, list[i-1].Period, list[i-1].Opening)
			}
			if row := statementRow(st); !strings.Contains(string(doc), row) {
				t.Errorf("docs/pay-later.md lacks the statement row\n%s", row)
			}
		}
		if may := list[0]; !may.Closing.IsZero() || !may.NextDueDate.IsZero() || may.Payments != dollars(1_716_65) {
			t.Errorf("May: %+v", may)
		}
		// Who may read: the buyer and an admin; nobody else (404).
		if got := must(e.svc.CreditStatement(e.ctx, e.admin, e.buyer.OrgID, dec)); got.Closing != closed.Closing {
			t.Errorf("the admin reads %s", got.Closing)
		}
		for _, a := range []trade.Actor{e.supplier, e.inspect, e.arbiter} {
			if _, err := e.svc.CreditStatement(e.ctx, a, e.buyer.OrgID, dec); fault.ReasonOf(err) != "credit_statement_not_found" {
				t.Errorf("%s reads the buyer's statement: %v", a.Role, err)
			}
			if _, err := e.svc.CreditStatements(e.ctx, a, e.buyer.OrgID); fault.ReasonOf(err) != "credit_statement_not_found" {
				t.Errorf("%s lists the buyer's statements: %v", a.Role, err)
			}
		}
		other := e.org(trade.KindBuyer, "Other Buyer", "US")
		if _, err := e.svc.CreditStatement(e.ctx, trade.Actor{Role: trade.RoleBuyer, OrgID: other.ID, UserID: "o"}, e.buyer.OrgID, dec); fault.ReasonOf(err) != "credit_line_not_found" {
			t.Errorf("another buyer reads the statement: %v", err)
		}
		if _, err := e.svc.CreditStatement(e.ctx, e.buyer, "", credit.Period{Year: 2025, Month: time.October}); fault.ReasonOf(err) != "credit_statement_not_found" {
			t.Errorf("a month before the line opened: %v", err)
		}
		e.checkLedger()
	})
}

// TestPayLaterDebitRetry ensures a refused automatic debit is retried 3 and 7 US business days
// later (across a weekend, New Year's Day and a month end: Friday December 26 → Wednesday
// December 31 → Wednesday January 7), each retry firing once although a worker died holding the
// second; a refused retry sets no further retries and charges no fee; the retry that succeeds
// collects what is overdue, cures the loan and unfreezes the line — but not while another loan
// of the line is still past due. R11, R21
func TestPayLaterDebitRetry(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		_, a := e.disbursed()
		// A second loan, agreed on Wednesday December 3 and first due on Monday January 5.
		e.clock.Set(time.Date(2025, 12, 3, 15, 0, 0, 0, time.UTC))
		o2 := must(e.financed(e.buyer, "USD", 2_00))
		b := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o2.ID, 2))
		b = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), b.ID))
		e.clock.Set(time.Date(2025, 12, 5, 15, 0, 0, 0, time.UTC))
		e.timers()
		if b = e.loan(b.ID); b.State != credit.Disbursed || !b.Installments[0].DueDate.Equal(time.Date(2026, 1, 5, 5, 0, 0, 0, time.UTC)) {
			t.Fatalf("second loan %s, first due %s", b.State, b.Installments[0].DueDate)
		}

		e.setFailing(true)
		e.clock.Set(firstDue)
		e.timers()
		if got := e.loan(a.ID); got.State != credit.PastDue || e.line().Status != credit.LineFrozen {
			t.Fatalf("after the refusal: %s, line %s", got.State, e.line().Status)
		}
		retries := e.timersOf(a.ID, credit.TimerDebitRetry)
		want := []time.Time{time.Date(2025, 12, 31, 5, 0, 0, 0, time.UTC), time.Date(2026, 1, 7, 5, 0, 0, 0, time.UTC)}
		if len(retries) != 2 || !retries[0].DueAt.Equal(want[0]) || !retries[1].DueAt.Equal(want[1]) {
			t.Fatalf("retries %+v, want at %v", retries, want)
		}
		e.clock.Set(want[0].Add(-time.Second))
		e.timers()
		e.clock.Set(want[0]) // retry 1 is refused too
		e.timers()
		if got := e.loan(a.ID); got.State != credit.PastDue || got.Balance() != dollars(10_100_00) {
			t.Fatalf("after a refused retry: %s, balance %s (no fee may be added)", got.State, got.Balance())
		}
		if n := len(e.timersOf(a.ID, credit.TimerDebitRetry)); n != 2 {
			t.Fatalf("%d retry timers: a refused retry set more", n)
		}
		// The second loan's first debit is refused on January 5: it is past due too.
		e.clock.Set(time.Date(2026, 1, 5, 5, 0, 0, 0, time.UTC))
		e.timers()
		if got := e.loan(b.ID); got.State != credit.PastDue || e.line().PastDueLoans != 2 {
			t.Fatalf("second loan %s, line counts %d past due", got.State, e.line().PastDueLoans)
		}
		// The buyer's account is funded again. Retry 2 of the first loan is claimed by a worker
		// that dies; after the restart it fires once and collects installment 1.
		e.clock.Set(want[1])
		e.restartWhileClaimed(false)
		got := e.loan(a.ID)
		if got.State != credit.Active || got.Installments[0].Status != credit.Paid || e.line().Status != credit.LineFrozen {
			t.Fatalf("after retry 2: loan %s, installment 1 %s, line %s (the second loan is still past due)",
				got.State, got.Installments[0].Status, e.line().Status)
		}
		if n := e.events(a.ID, "loan.debit_succeeded"); n != 1 {
			t.Fatalf("loan.debit_succeeded %d times, want 1", n)
		}
		if n := e.events(a.ID, "loan.cured"); n != 1 {
			t.Fatalf("loan.cured %d times, want 1", n)
		}
		if ds := e.bankDebits(); len(ds) != 1 || ds[0].Amount != dollars(1_766_67) {
			t.Fatalf("debits after the restart %+v, want one of 1,766.67", ds)
		}
		// The second loan's retry 1, 3 business days after January 5, collects its installment 1.
		e.clock.Set(time.Date(2026, 1, 8, 5, 0, 0, 0, time.UTC))
		e.timers()
		if got := e.loan(b.ID); got.State != credit.Active || e.line().Status != credit.LineActive || e.line().PastDueLoans != 0 {
			t.Fatalf("second loan %s, line %s", got.State, e.line().Status)
		}
		// The second loan's retry 2 finds nothing due and is skipped.
		e.clock.Set(time.Date(2026, 1, 14, 5, 0, 0, 0, time.UTC))
		e.timers()
		for _, tm := range e.timersOf(b.ID, credit.TimerDebitRetry) {
			if tm.State != escrow.TimerFired {
				t.Errorf("retry %s is %s", tm.Key, tm.State)
			}
		}
		if n := len(e.bankDebits()); n != 2 { // the first loan's retry and the second's
			t.Fatalf("%d debits: a retry with nothing due debited", n)
		}
		e.checkLoanBook(got)
		e.checkLoanBook(e.loan(b.ID))
	})
}

// TestPayLaterChargeOff ensures a loan past due for 120 days is charged off by its timer, once,
// although the worker holding it died: the loan is charged_off and the line closed; the loan
// book moves what it owed from the loan's receivable to the lender's credit loss in one balanced
// transfer, the order's escrow is untouched, and the ledger check holds; the month's stored
// statement shows the charge-off and is the line's last; later debit timers are skipped. R11, R21
func TestPayLaterChargeOff(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l := e.disbursed()
		lineID := e.line().ID
		e.setFailing(true)
		e.clock.Set(firstDue)
		e.timers()
		offs := e.timersOf(l.ID, credit.TimerChargeOff)
		// December 26 at midnight in New York, plus 120 days: April 25, 2026 at midnight (EDT).
		at := time.Date(2026, 4, 25, 4, 0, 0, 0, time.UTC)
		if len(offs) != 1 || !offs[0].DueAt.Equal(at) {
			t.Fatalf("charge-off timers %+v, want one at %s", offs, at)
		}
		e.clock.Set(at.Add(-time.Second)) // every debit until then is refused: installments 1-4 billed
		e.timers()
		before := e.loan(l.ID)
		if before.State != credit.PastDue || before.Balance() != dollars(10_400_00) {
			t.Fatalf("before the charge-off: %s, balance %s", before.State, before.Balance())
		}
		esc := ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: "USD"}
		held := e.balance(esc)
		e.clock.Set(at)
		e.restartWhileClaimed(true)
		got := e.loan(l.ID)
		if got.State != credit.ChargedOff || !got.Balance().IsZero() {
			t.Fatalf("after the timer: %s, balance %s", got.State, got.Balance())
		}
		if n := e.events(l.ID, "loan.charged_off"); n != 1 {
			t.Fatalf("loan.charged_off %d times, want 1", n)
		}
		loss := ledger.Account{Kind: ledger.CreditLoss, Owner: "builtin", Currency: "USD"}
		if e.balance(receivable(l.ID)) != 0 || e.balance(loss) != 10_400_00 || e.balance(funding) != 10_400_00 ||
			e.balance(esc) != held {
			t.Fatalf("receivable %d, credit loss %d, funding %d, escrow %d (was %d)", e.balance(receivable(l.ID)),
				e.balance(loss), e.balance(funding), e.balance(esc), held)
		}
		if _, err := e.svc.CreditLine(e.ctx, e.buyer, ""); fault.ReasonOf(err) != "credit_line_not_found" {
			t.Fatalf("the line is still open: %v", err)
		}
		e.checkLedger()
		// The remaining due dates find nothing to collect; April closes with the charge-off, and
		// no statement follows.
		e.clock.Set(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
		e.setFailing(false)
		e.timers()
		if n := len(e.bankDebits()); n != 0 {
			t.Fatalf("%d debits after the charge-off", n)
		}
		apr := must(e.svc.CreditStatement(e.ctx, e.buyer, "", credit.Period{Year: 2026, Month: time.April}))
		if apr.Status != credit.StatementClosed || apr.ChargedOff != dollars(10_400_00) || !apr.Closing.IsZero() {
			t.Fatalf("April: %s, charged off %s, closing %s", apr.Status, apr.ChargedOff, apr.Closing)
		}
		if list := must(e.svc.CreditStatements(e.ctx, e.buyer, "")); list[0].Period != apr.Period {
			t.Fatalf("the last statement is %s, want April", list[0].Period)
		}
		for _, tm := range e.timersOf(lineID, credit.TimerStatement) {
			if tm.State == escrow.TimerPending {
				t.Fatalf("a statement timer is pending after the line closed: %+v", tm)
			}
		}
		if _, err := e.svc.ChargeOffLoan(e.ctx, e.admin, e.key(), l.ID); fault.ReasonOf(err) != credit.ReasonNotAllowed {
			t.Fatalf("a second charge-off: %v", err)
		}
		e.checkLedger()
	})
}

// TestPayLaterChargeOffByAdmin ensures an admin may charge off a past-due loan before its timer,
// nobody else may, and a current loan cannot be charged off; the timer then finds nothing to do.
// R11
func TestPayLaterChargeOffByAdmin(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		_, l := e.disbursed()
		if _, err := e.svc.ChargeOffLoan(e.ctx, e.admin, e.key(), l.ID); fault.ReasonOf(err) != credit.ReasonNotAllowed {
			t.Fatalf("charging off a current loan: %v", err)
		}
		e.setFailing(true)
		e.clock.Set(firstDue)
		e.timers()
		if _, err := e.svc.ChargeOffLoan(e.ctx, e.buyer, e.key(), l.ID); fault.ReasonOf(err) != "role_not_allowed" {
			t.Fatalf("a buyer charges off: %v", err)
		}
		got := must(e.svc.ChargeOffLoan(e.ctx, e.admin, e.key(), l.ID))
		if got.State != credit.ChargedOff || !got.Balance().IsZero() {
			t.Fatalf("after the admin's charge-off: %s %s", got.State, got.Balance())
		}
		e.clock.Set(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
		e.timers()
		if off := e.timersOf(l.ID, credit.TimerChargeOff); len(off) != 1 || !strings.HasPrefix(off[0].Outcome, "skipped") {
			t.Fatalf("charge-off timer %+v", off)
		}
		e.checkLedger()
	})
}

// TestLedgerCheckLoanBook ensures the ledger check holds the loan book to account: a transfer
// that moves a loan's receivable against anything but the lender's funding or credit loss is
// reported, and so is a lender whose funding no longer equals its loans' receivables plus its
// credit loss. R11
func TestLedgerCheckLoanBook(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		_, l := e.disbursed()
		e.checkLedger()
		stray := must(ledger.NewTransfer("tamper_1", "tamper", "USD", l.OrderID, e.clock.Now()).
			Post(receivable(l.ID), lenderClearing, 1).Build())
		if err := e.db.Write(e.ctx, func(tx escrow.Tx) error { return tx.PostTransfer(e.ctx, stray) }); err != nil {
			t.Fatal(err)
		}
		rules := map[string]bool{}
		for _, v := range must(e.svc.CheckLedger(e.ctx)).Violations {
			rules[v.Rule] = true
		}
		if !rules["loan_book_mixed"] || !rules["loan_book_mismatch"] {
			t.Fatalf("violations %v, want loan_book_mixed and loan_book_mismatch", rules)
		}
	})
}
