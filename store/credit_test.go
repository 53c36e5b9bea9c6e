package store

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// TestCreditSQLite and TestCreditPostgres run the Pay Later storage suite on both databases.
// R11
func TestCreditSQLite(t *testing.T) { runCreditConformance(t, openSQLiteT) }

func TestCreditPostgres(t *testing.T) {
	runCreditConformance(t, func(tb testing.TB) *DB { return openPostgresT(tb, "") })
}

func runCreditConformance(t *testing.T, open func(testing.TB) *DB) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"applications", testCreditApplications},
		{"lines", testCreditLines},
		{"loans", testLoans},
		{"line_lock_race", testLineLockRace},
		{"statements", testCreditStatements},
		{"pages", testCreditPages},
		{"outbox_pages", testOutboxPages},
		{"migration_00019", testLenderFundsMigration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func dollars(minor int64) money.Amount { return money.New(minor, credit.USD) }

func testLine(id, buyer string, limit int64) credit.Line {
	return credit.Line{ID: id, BuyerID: buyer, Currency: credit.USD, Limit: dollars(limit), Used: dollars(0), Reserved: dollars(0),
		Status: credit.LineActive, Rates: credit.DefaultFeeSchedule(), FirstMonthCredit: credit.DefaultFirstMonthCredit(), OpenedAt: t0}
}

func creditTx(t *testing.T, tx escrow.Tx) escrow.CreditTx {
	t.Helper()
	ct, ok := tx.(escrow.CreditTx)
	if !ok {
		t.Fatal("the store's transaction does not implement escrow.CreditTx")
	}
	return ct
}

func testCreditApplications(t *testing.T, db *DB) {
	rev := dollars(500_000_00)
	a := credit.Application{ID: "app_1", BuyerID: "org_b", Channel: credit.InAdvance, SubmittedAt: t0,
		Business: credit.Business{LegalName: "B Inc.", EINLast4: "6789", Country: "US", State: "NY", Revenue: &rev,
			Established: t0.AddDate(-3, 0, 0)},
		Status: credit.Declined, Decision: &credit.Decision{Status: credit.DecisionDeclined, Limit: dollars(0),
			Reasons:          []credit.Reason{{Code: "revenue_below_minimum", Message: "too little"}},
			FirstMonthCredit: dollars(0), DecidedAt: t0}}
	b := a
	b.ID, b.SubmittedAt, b.Status, b.Decision = "app_2", t0.Add(time.Hour), credit.Submitted, nil
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		if err := ct.InsertCreditApplication(ctx, a); err != nil {
			return err
		}
		if err := ct.InsertCreditApplication(ctx, b); err != nil {
			return err
		}
		wantIs(t, "duplicate application", ct.InsertCreditApplication(ctx, a), escrow.ErrDuplicate)
		return nil
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.(escrow.CreditReader).CreditApplications(ctx, "org_b", 10)
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].ID != "app_2" || got[1].ID != "app_1" {
			t.Fatalf("applications %+v, want newest first", got)
		}
		same(t, "application", got[1], a)
		return nil
	})
}

func testCreditLines(t *testing.T, db *DB) {
	l := testLine("cl_1", "org_b", 150_000_00)
	write(t, db, func(tx escrow.Tx) error { return creditTx(t, tx).InsertCreditLine(ctx, l) })
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		wantIs(t, "second open line of a buyer", ct.InsertCreditLine(ctx, testLine("cl_2", "org_b", 10_000_00)), escrow.ErrDuplicate)
		got, err := ct.LockCreditLine(ctx, "cl_1")
		if err != nil {
			return err
		}
		same(t, "locked line", got, l)
		if err := got.Reserve(dollars(60_000_00)); err != nil {
			return err
		}
		return ct.UpdateCreditLine(ctx, got)
	})
	read(t, db, func(r escrow.Reader) error {
		cr := r.(escrow.CreditReader)
		got, err := cr.OpenCreditLine(ctx, "org_b")
		if err != nil {
			return err
		}
		if got.Reserved != dollars(60_000_00) || got.Available() != dollars(90_000_00) {
			t.Errorf("line after reserve %+v", got)
		}
		_, err = cr.OpenCreditLine(ctx, "org_none")
		wantIs(t, "no line", err, escrow.ErrNotFound)
		_, err = cr.CreditLine(ctx, "cl_none")
		wantIs(t, "missing line", err, escrow.ErrNotFound)
		return nil
	})
	// The database refuses a line past its limit, whatever wrote it.
	err := db.Write(ctx, func(tx escrow.Tx) error {
		bad := l
		bad.Reserved, bad.Used = dollars(100_000_00), dollars(50_000_01)
		return creditTx(t, tx).UpdateCreditLine(ctx, bad)
	})
	if err == nil || errors.Is(err, escrow.ErrDuplicate) {
		t.Fatalf("a line past its limit was written: %v", err)
	}
	// A closed line makes room for a new one.
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		got, err := ct.LockCreditLine(ctx, "cl_1")
		if err != nil {
			return err
		}
		got.Close()
		if err := ct.UpdateCreditLine(ctx, got); err != nil {
			return err
		}
		return ct.InsertCreditLine(ctx, testLine("cl_3", "org_b", 10_000_00))
	})
}

func testLoan(t *testing.T, id, payment string, line *credit.Line, accept bool) escrow.LoanRecord {
	t.Helper()
	at := time.Date(2025, 3, 7, 10, 0, 0, 0, time.UTC)
	a, err := credit.Offer(dollars(10_000_00), 6, line.Rates, line.FirstMonthCredit, at, calendar.USFederal(2025, 2026))
	if err != nil {
		t.Fatal(err)
	}
	l, err := credit.NewLoan(id, *line, "ord_1", "builtin", a)
	if err != nil {
		t.Fatal(err)
	}
	if accept {
		if _, err := l.Accept(credit.RoleBuyer, line, at); err != nil {
			t.Fatal(err)
		}
	}
	return escrow.LoanRecord{Loan: *l, PaymentID: payment, CreatedAt: t0}
}

func testLoans(t *testing.T, db *DB) {
	line := testLine("cl_1", "org_b", 150_000_00)
	offered := testLoan(t, "loan_1", "pay_1", &line, false)
	again := testLoan(t, "loan_2", "pay_1", &line, false) // a second offer for the same payment
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		for _, l := range []escrow.LoanRecord{offered, again} {
			if err := ct.InsertLoan(ctx, l); err != nil {
				return err
			}
		}
		wantIs(t, "duplicate loan", ct.InsertLoan(ctx, offered), escrow.ErrDuplicate)
		return nil
	})
	var accepted escrow.LoanRecord
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		got, err := ct.LockLoan(ctx, "loan_1")
		if err != nil {
			return err
		}
		same(t, "locked loan", got, offered)
		prev := got.Version
		if _, err := got.Accept(credit.RoleBuyer, &line, got.Agreement.AgreedAt); err != nil {
			return err
		}
		accepted = got
		wantIs(t, "stale version", ct.UpdateLoan(ctx, got, prev-1), escrow.ErrConflict)
		return ct.UpdateLoan(ctx, got, prev)
	})
	// A payment has one accepted loan at most.
	err := db.Write(ctx, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		got, err := ct.LockLoan(ctx, "loan_2")
		if err != nil {
			return err
		}
		prev := got.Version
		ln := testLine("cl_1", "org_b", 150_000_00)
		if _, err := got.Accept(credit.RoleBuyer, &ln, got.Agreement.AgreedAt); err != nil {
			return err
		}
		return ct.UpdateLoan(ctx, got, prev)
	})
	wantIs(t, "second accepted loan of a payment", err, escrow.ErrDuplicate)
	read(t, db, func(r escrow.Reader) error {
		cr := r.(escrow.CreditReader)
		got, err := cr.Loan(ctx, "loan_1")
		if err != nil {
			return err
		}
		same(t, "loan", got, accepted)
		if got.State != credit.Agreed || got.Agreement.Installments[5].Principal != dollars(1_666_65) {
			t.Errorf("loan %s, last principal %s", got.State, got.Agreement.Installments[5].Principal)
		}
		byLine, err := cr.LoansOfLine(ctx, "cl_1", 0)
		if err != nil {
			return err
		}
		byOrder, err := cr.LoansOfOrder(ctx, "ord_1")
		if err != nil {
			return err
		}
		if len(byLine) != 2 || len(byOrder) != 2 || byLine[0].ID != "loan_1" || byOrder[1].ID != "loan_2" {
			t.Errorf("loans by line %d, by order %d", len(byLine), len(byOrder))
		}
		_, err = cr.Loan(ctx, "loan_none")
		wantIs(t, "missing loan", err, escrow.ErrNotFound)
		return nil
	})
}

// testLineLockRace ensures two transactions reserving on one line at once cannot pass its limit:
// the second waits for the first's lock and then sees its reservation. R11
func testLineLockRace(t *testing.T, db *DB) {
	for round := range 3 {
		id := fmt.Sprintf("cl_race_%d", round)
		write(t, db, func(tx escrow.Tx) error {
			return creditTx(t, tx).InsertCreditLine(ctx, testLine(id, "org_race_"+id, 150_000_00))
		})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.Write(ctx, func(tx escrow.Tx) error {
					ct := creditTx(t, tx)
					l, err := ct.LockCreditLine(ctx, id)
					if err != nil {
						return err
					}
					time.Sleep(10 * time.Millisecond) // hold the lock while the other one arrives
					if err := l.Reserve(dollars(100_000_00)); err != nil {
						return err
					}
					return ct.UpdateCreditLine(ctx, l)
				})
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case fault.ReasonOf(err) != credit.ReasonLimitExceeded:
				t.Fatalf("round %d: loser failed with %v, want %s", round, err, credit.ReasonLimitExceeded)
			}
		}
		read(t, db, func(r escrow.Reader) error {
			l, err := r.(escrow.CreditReader).CreditLine(ctx, id)
			if err != nil {
				return err
			}
			if wins != 1 || l.Reserved != dollars(100_000_00) {
				t.Fatalf("round %d: %d wins, reserved %s; want 1 win and 100,000.00", round, wins, l.Reserved)
			}
			return nil
		})
	}
}

// testCreditStatements ensures a closed statement is stored once per line and month, read back
// as it was written, listed newest first per buyer, and never updated or deleted (the
// database's triggers refuse it); and that a buyer whose lines are all closed still has a
// latest line. R11
func testCreditStatements(t *testing.T, db *DB) {
	line := testLine("cl_1", "org_b", 10_000_00)
	stmt := func(p credit.Period, opening, closing int64) credit.Statement {
		st, err := credit.NewStatement(line, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		st.Opening, st.Closing = dollars(opening), dollars(closing) // stored as given
		st.Close(p.End().Add(time.Second))
		return st
	}
	nov, dec := credit.Period{Year: 2025, Month: time.November}, credit.Period{Year: 2025, Month: time.December}
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		if err := ct.InsertCreditLine(ctx, line); err != nil {
			return err
		}
		if err := ct.InsertCreditStatement(ctx, stmt(nov, 0, 0)); err != nil {
			return err
		}
		return ct.InsertCreditStatement(ctx, stmt(dec, 0, 8_333_33))
	})
	err := db.Write(ctx, func(tx escrow.Tx) error { return creditTx(t, tx).InsertCreditStatement(ctx, stmt(dec, 1, 1)) })
	if !errors.Is(err, escrow.ErrDuplicate) {
		t.Fatalf("a second December statement: %v, want ErrDuplicate", err)
	}
	open := stmt(credit.Period{Year: 2026, Month: time.January}, 0, 0)
	open.Status = credit.StatementInProgress
	if err := db.Write(ctx, func(tx escrow.Tx) error { return creditTx(t, tx).InsertCreditStatement(ctx, open) }); err == nil {
		t.Fatal("a statement in progress was stored")
	}
	for _, q := range []string{`UPDATE credit_statements SET closing_balance = 0`, `DELETE FROM credit_statements`} {
		if err := db.Write(ctx, func(etx escrow.Tx) error {
			_, err := etx.(*tx).q.ExecContext(ctx, q)
			return err
		}); err == nil || !strings.Contains(err.Error(), "credit statements are immutable") {
			t.Fatalf("%s: %v, want the trigger's refusal", q, err)
		}
	}
	read(t, db, func(r escrow.Reader) error {
		cr := r.(escrow.CreditReader)
		got, err := cr.CreditStatement(ctx, "cl_1", dec)
		if err != nil {
			return err
		}
		if got.Closing != dollars(8_333_33) || got.Status != credit.StatementClosed || got.Period != dec ||
			!got.ClosedAt.Equal(dec.End().Add(time.Second)) {
			t.Errorf("December read back: %+v", got)
		}
		if _, err := cr.CreditStatement(ctx, "cl_1", credit.Period{Year: 2026, Month: time.January}); !errors.Is(err, escrow.ErrNotFound) {
			t.Errorf("January: %v, want ErrNotFound", err)
		}
		list, err := cr.CreditStatements(ctx, "org_b", 10)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].Period != dec || list[1].Period != nov {
			t.Errorf("list %+v", list)
		}
		if list, _ := cr.CreditStatements(ctx, "org_other", 10); len(list) != 0 {
			t.Errorf("another buyer's list: %+v", list)
		}
		return nil
	})
	// Close the line and open a newer one that is closed too: the latest is the newer.
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		l, err := ct.LockCreditLine(ctx, "cl_1")
		if err != nil {
			return err
		}
		l.Close()
		if err := ct.UpdateCreditLine(ctx, l); err != nil {
			return err
		}
		newer := testLine("cl_2", "org_b", 5_000_00)
		newer.OpenedAt = t0.Add(24 * time.Hour)
		return ct.InsertCreditLine(ctx, newer)
	})
	read(t, db, func(r escrow.Reader) error {
		cr := r.(escrow.CreditReader)
		if l, err := cr.LatestCreditLine(ctx, "org_b"); err != nil || l.ID != "cl_2" {
			t.Errorf("latest line %s %v, want the open cl_2", l.ID, err)
		}
		if _, err := cr.LatestCreditLine(ctx, "org_none"); !errors.Is(err, escrow.ErrNotFound) {
			t.Errorf("a buyer without a line: %v", err)
		}
		return nil
	})
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		l, err := ct.LockCreditLine(ctx, "cl_2")
		if err != nil {
			return err
		}
		l.Close()
		return ct.UpdateCreditLine(ctx, l)
	})
	read(t, db, func(r escrow.Reader) error {
		if l, err := r.(escrow.CreditReader).LatestCreditLine(ctx, "org_b"); err != nil || l.ID != "cl_2" {
			t.Errorf("latest closed line %s %v, want cl_2, opened last", l.ID, err)
		}
		return nil
	})
}

// testCreditPages ensures the pages of a buyer's applications and statements walk every row
// once, newest first, ties broken by ID (applications submitted at the same time) and by line
// (two lines' statements of one month), and that an application cursor naming no row gives an
// empty page. R11
func testCreditPages(t *testing.T, db *DB) {
	app := func(id string, at time.Time) credit.Application {
		// Declined: a buyer has one application being decided at a time.
		return credit.Application{ID: id, BuyerID: "org_b", Channel: credit.InAdvance, SubmittedAt: at, Status: credit.Declined,
			Business: credit.Business{LegalName: "B Inc.", Country: "US"}}
	}
	apps := []credit.Application{app("app_a", t0), app("app_c", t0.Add(time.Hour)), app("app_b", t0.Add(time.Hour)), app("app_d", t0.Add(2*time.Hour))}
	older, newer := testLine("cl_1", "org_b", 10_000_00), testLine("cl_2", "org_b", 10_000_00)
	newer.Status = credit.LineClosed // only one open line per buyer
	stmt := func(line credit.Line, p credit.Period) credit.Statement {
		st, err := credit.NewStatement(line, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		st.Close(p.End())
		return st
	}
	nov, dec := credit.Period{Year: 2025, Month: time.November}, credit.Period{Year: 2025, Month: time.December}
	write(t, db, func(tx escrow.Tx) error {
		ct := creditTx(t, tx)
		for _, a := range apps {
			if err := ct.InsertCreditApplication(ctx, a); err != nil {
				return err
			}
		}
		for _, l := range []credit.Line{older, newer} {
			if err := ct.InsertCreditLine(ctx, l); err != nil {
				return err
			}
		}
		for _, st := range []credit.Statement{stmt(older, nov), stmt(older, dec), stmt(newer, dec)} {
			if err := ct.InsertCreditStatement(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, db, func(r escrow.Reader) error {
		cr := r.(escrow.CreditReader)
		for _, limit := range []int{1, 2, 3} {
			var got []string
			after := ""
			for range 10 {
				page, err := cr.CreditApplicationsPage(ctx, "org_b", after, limit)
				if err != nil {
					return err
				}
				for _, a := range page {
					got = append(got, a.ID)
				}
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].ID
			}
			if want := []string{"app_d", "app_c", "app_b", "app_a"}; !slices.Equal(got, want) {
				t.Errorf("applications by %d: %v, want %v", limit, got, want)
			}
		}
		if page, err := cr.CreditApplicationsPage(ctx, "org_b", "app_none", 10); err != nil || len(page) != 0 {
			t.Errorf("after no application: %v %v", page, err)
		}
		if page, err := cr.CreditApplicationsPage(ctx, "org_other", "", 10); err != nil || len(page) != 0 {
			t.Errorf("another buyer's applications: %v %v", page, err)
		}
		for _, limit := range []int{1, 2} {
			var got []string
			var after escrow.StatementKey
			for range 10 {
				page, err := cr.CreditStatementsPage(ctx, "org_b", after, limit)
				if err != nil {
					return err
				}
				for _, st := range page {
					got = append(got, escrow.StatementKey{Period: st.Period, LineID: st.LineID}.String())
				}
				if len(page) < limit {
					break
				}
				after = escrow.StatementKey{Period: page[len(page)-1].Period, LineID: page[len(page)-1].LineID}
			}
			if want := []string{"2025-12/cl_2", "2025-12/cl_1", "2025-11/cl_1"}; !slices.Equal(got, want) {
				t.Errorf("statements by %d: %v, want %v", limit, got, want)
			}
		}
		return nil
	})
}

// testOutboxPages ensures the lender requests and bank debits are paged newest first (the API's
// order), oldest first (the Operations page's) and — lender requests awaiting funds — by when
// the lender's money is due, the overdue first, each walking every row once at every page size;
// that a request's due and overdue times survive an update; and that a list refuses an order it
// does not have. R11
func testOutboxPages(t *testing.T, db *DB) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	due := func(h int) *time.Time { x := at(h); return &x }
	// plr_b and plr_c were requested at the same time: the ID breaks the tie. plr_e is the
	// oldest request but its money is due last; plr_d's is due first, and it is overdue.
	reqs := []escrow.LenderRequest{
		{ID: "plr_a", RequestedAt: at(1), FundsDueAt: due(50)},
		{ID: "plr_c", RequestedAt: at(2), FundsDueAt: due(40)},
		{ID: "plr_b", RequestedAt: at(2), FundsDueAt: due(40)},
		{ID: "plr_d", RequestedAt: at(3), FundsDueAt: due(30), OverdueAt: due(30)},
		{ID: "plr_e", RequestedAt: at(0), FundsDueAt: due(60)},
		{ID: "plr_f", RequestedAt: at(4), Status: escrow.LenderRequested}, // no due time yet
	}
	write(t, db, func(tx escrow.Tx) error {
		lt := tx.(escrow.LenderTx)
		dt := tx.(escrow.BankDebitTx)
		for i, r := range reqs {
			r.Kind, r.BuyerID, r.LoanID, r.Amount, r.PaymentReference = escrow.LenderDisbursement, "org_b", fmt.Sprintf("loan_%d", i),
				dollars(100_00), "TA-REF"
			if r.Status == "" {
				r.Status = escrow.LenderAwaitingFunds
			}
			r.NextAttemptAt = r.RequestedAt
			if err := lt.InsertLenderRequest(ctx, r); err != nil {
				return err
			}
			d := escrow.DebitRequest{ID: strings.Replace(r.ID, "plr", "pld", 1), LoanID: fmt.Sprintf("loan_%d", i), BuyerID: "org_b",
				Kind: escrow.DebitInstallment, Amount: dollars(100_00), Status: escrow.DebitRequested, NextAttemptAt: r.RequestedAt,
				RequestedAt: r.RequestedAt}
			if err := dt.InsertBankDebit(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	walk := func(f escrow.LenderFilter) []string {
		t.Helper()
		var got []string
		read(t, db, func(r escrow.Reader) error {
			for range 10 {
				page, err := r.(escrow.LenderReader).LenderRequests(ctx, f)
				if err != nil {
					return err
				}
				for _, x := range page {
					got = append(got, x.ID)
				}
				if len(page) < f.Limit {
					return nil
				}
				f.After = page[len(page)-1].ID
			}
			return nil
		})
		return got
	}
	walkDebits := func(f escrow.DebitFilter) []string {
		t.Helper()
		var got []string
		read(t, db, func(r escrow.Reader) error {
			for range 10 {
				page, err := r.(escrow.BankDebitReader).BankDebits(ctx, f)
				if err != nil {
					return err
				}
				for _, x := range page {
					got = append(got, strings.Replace(x.ID, "pld", "plr", 1))
				}
				if len(page) < f.Limit {
					return nil
				}
				f.After = page[len(page)-1].ID
			}
			return nil
		})
		return got
	}
	newest := []string{"plr_f", "plr_d", "plr_c", "plr_b", "plr_a", "plr_e"}
	oldest := slices.Clone(newest)
	slices.Reverse(oldest)
	for _, limit := range []int{1, 2, 4, 10} {
		if got := walk(escrow.LenderFilter{Limit: limit}); !slices.Equal(got, newest) {
			t.Errorf("lender requests newest first by %d: %v, want %v", limit, got, newest)
		}
		if got := walk(escrow.LenderFilter{Order: escrow.OldestFirst, Limit: limit}); !slices.Equal(got, oldest) {
			t.Errorf("lender requests oldest first by %d: %v, want %v", limit, got, oldest)
		}
		want := []string{"plr_d", "plr_b", "plr_c", "plr_a", "plr_e"}
		if got := walk(escrow.LenderFilter{Status: escrow.LenderAwaitingFunds, Order: escrow.FundsDueFirst, Limit: limit}); !slices.Equal(got, want) {
			t.Errorf("awaiting funds by due time by %d: %v, want %v", limit, got, want)
		}
		if got := walkDebits(escrow.DebitFilter{Limit: limit}); !slices.Equal(got, newest) {
			t.Errorf("debits newest first by %d: %v, want %v", limit, got, newest)
		}
		if got := walkDebits(escrow.DebitFilter{Order: escrow.OldestFirst, Limit: limit}); !slices.Equal(got, oldest) {
			t.Errorf("debits oldest first by %d: %v, want %v", limit, got, oldest)
		}
	}
	read(t, db, func(r escrow.Reader) error {
		if _, err := r.(escrow.BankDebitReader).BankDebits(ctx, escrow.DebitFilter{Order: escrow.FundsDueFirst, Limit: 1}); err == nil {
			t.Error("debits listed by when the lender's money is due")
		}
		got, err := r.(escrow.LenderReader).LenderRequest(ctx, "plr_d")
		if err != nil {
			return err
		}
		if got.FundsDueAt == nil || !got.FundsDueAt.Equal(at(30)) || got.OverdueAt == nil || !got.OverdueAt.Equal(at(30)) {
			t.Errorf("plr_d read back: due %v, overdue %v", got.FundsDueAt, got.OverdueAt)
		}
		return nil
	})
	write(t, db, func(tx escrow.Tx) error {
		lt := tx.(escrow.LenderTx)
		r, err := lt.LockLenderRequest(ctx, "plr_a", "")
		if err != nil {
			return err
		}
		r.OverdueAt = due(51)
		return lt.UpdateLenderRequest(ctx, r)
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.(escrow.LenderReader).LenderRequest(ctx, "plr_a")
		if err != nil {
			return err
		}
		if got.FundsDueAt == nil || !got.FundsDueAt.Equal(at(50)) || got.OverdueAt == nil || !got.OverdueAt.Equal(at(51)) {
			t.Errorf("plr_a after its update: due %v, overdue %v", got.FundsDueAt, got.OverdueAt)
		}
		return nil
	})
}

// testLenderFundsMigration: migration 00019 goes down and up again over a disbursement the lender
// accepted before it (awaiting its money) and one already recorded: the awaiting one gets a
// provisional due time (when it was requested) and a funds-overdue timer due at once, which reads
// the real deadline from the loan when it fires; the recorded one gets neither. R11 R21
func testLenderFundsMigration(t *testing.T, db *DB) {
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(db.d.goose, db.w, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 18); err != nil {
		t.Fatalf("down to 18: %v", err)
	}
	for _, r := range []struct{ id, loan, status string }{{"plr_old", "loan_old", "awaiting_funds"}, {"plr_done", "loan_done", "recorded"}} {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO lender_requests (id, kind, buyer_id, application_id, loan_id, amount, currency,
			payment_reference, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at)
			VALUES ($1, 'disbursement', 'org_b', '', $2, 10000, 'USD', 'TA-REF', $3, 1, $4, '', NULL, '', '', $4, NULL)`,
			r.id, r.loan, r.status, micros(t0)); err != nil {
			t.Fatalf("a lender request at version 18: %v", err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	read(t, db, func(r escrow.Reader) error {
		lr := r.(escrow.LenderReader)
		old, err := lr.LenderRequest(ctx, "plr_old")
		if err != nil {
			return err
		}
		done, err := lr.LenderRequest(ctx, "plr_done")
		if err != nil {
			return err
		}
		if old.FundsDueAt == nil || !old.FundsDueAt.Equal(t0) || old.OverdueAt != nil || done.FundsDueAt != nil {
			t.Errorf("after the migration: awaiting due %v overdue %v, recorded due %v", old.FundsDueAt, old.OverdueAt, done.FundsDueAt)
		}
		ts, err := r.Timers(ctx, "loan_old")
		if err != nil {
			return err
		}
		if len(ts) != 1 || ts[0].Key != "loan_old/funds_overdue" || ts[0].Kind != "pay_later_funds_overdue" || ts[0].Ref != "plr_old" ||
			ts[0].State != escrow.TimerPending || !ts[0].DueAt.Equal(t0) {
			t.Errorf("the awaiting request's timers %+v", ts)
		}
		if ts, err := r.Timers(ctx, "loan_done"); err != nil || len(ts) != 0 {
			t.Errorf("the recorded request's timers %+v %v", ts, err)
		}
		return nil
	})
}
