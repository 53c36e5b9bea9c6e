package credit_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

// TestRandomCommands applies random sequences of commands — offers, acceptances, cancellations,
// disbursements, debits that succeed or fail, payoffs, refunds, charge-offs — to several loans
// on one line over time, and checks the money invariants after every step: the line's used
// credit is the loans' outstanding principal, its reservations are the accepted agreements,
// neither exceeds the limit, the line is frozen exactly while a loan is past due, every loan's
// receivable equals its balance, the loan book and the real ledger balance, and a refused
// command changes nothing. A small version of the VOPR. R11
func TestRandomCommands(t *testing.T) {
	done := map[credit.Command]int{}
	for seed := uint64(1); seed <= 100; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomRun(t, seed, done) })
	}
	// The run is only worth something if every command got through many times.
	for _, c := range credit.Commands {
		if done[c] < 10 {
			t.Errorf("only %d successful %s commands: %v", done[c], c, done)
		}
	}
	t.Logf("successful commands: %v", done)
}

func randomRun(t *testing.T, seed uint64, done map[credit.Command]int) {
	r := rand.New(rand.NewPCG(seed, 2025))
	line := openLine(t, 40_000_00)
	now := t0
	var loans []*credit.Loan
	real, book := ledger.Balances{}, ledger.Balances{}
	roles := []credit.Role{credit.RoleBuyer, credit.RoleLender, credit.RoleSystem, credit.RoleAdmin}
	for step := 0; step < 200; step++ {
		now = now.Add(time.Duration(r.IntN(6*24)) * time.Hour)
		if r.IntN(5) == 0 || len(loans) == 0 {
			id := fmt.Sprintf("loan_%d", len(loans)+1)
			req := credit.DrawRequest{OrderID: "ord_" + id, Amount: usd(r.Int64N(15_000_00) + 100_00), TermMonths: r.IntN(6) + 1}
			a, err := credit.Draw(line, req, now, fed)
			if err != nil {
				continue
			}
			l, err := credit.NewLoan(id, line, req.OrderID, lender.ID(), a)
			if err != nil {
				t.Fatal(err)
			}
			// Fund each order's escrow beyond the loan, as the buyer's own payment would, so
			// refunds have money to come from.
			seedEscrow(t, real, l)
			loans = append(loans, l)
			if r.IntN(4) > 0 { // an offer is accepted on its day or never
				fx, err := l.Accept(credit.RoleBuyer, &line, now)
				if err == nil {
					done[credit.CmdAccept]++
					checkStep(t, step, fx, line, loans, real, book)
				}
			}
			continue
		}
		l := loans[r.IntN(len(loans))]
		beforeLoan, beforeLine := l.Version, line
		var fx credit.Effects
		var err error
		var c credit.Command
		pick := r.IntN(8)
		// Mostly a role the table allows, sometimes any: refusals are checked too.
		role := roles[r.IntN(len(roles))]
		if row, ok := credit.Lookup(l.State, []credit.Command{credit.CmdAccept, credit.CmdCancel, credit.CmdDisburse,
			credit.CmdDebit, credit.CmdDebit, credit.CmdPayOff, credit.CmdRefund, credit.CmdChargeOff}[pick]); ok && r.IntN(5) > 0 {
			role = row.Actors[r.IntN(len(row.Actors))]
		}
		switch pick {
		case 0:
			c = credit.CmdAccept
			fx, err = l.Accept(role, &line, now)
		case 1:
			c = credit.CmdCancel
			fx, err = l.Cancel(role, &line, now)
		case 2:
			c = credit.CmdDisburse
			fx, err = l.Disburse(role, &line, now)
		case 3, 4:
			c = credit.CmdDebit
			fx, err = l.Debit(role, &line, now, r.IntN(3) > 0)
		case 5:
			c = credit.CmdPayOff
			fx, err = l.PayOff(role, &line, now)
		case 6:
			c = credit.CmdRefund
			held := ledger.Natural(ledger.Escrow, real[credit.EscrowAccount(l.OrderID).ID()])
			amount := min(r.Int64N(12_000_00)+1, held)
			if amount <= 0 {
				continue
			}
			refundToBuyer(t, real, l, amount, now)
			_, fx, err = l.Refund(role, &line, usd(amount), now)
			if err != nil {
				undoRefund(t, real, l, amount, now)
			}
		case 7:
			c = credit.CmdChargeOff
			fx, err = l.ChargeOff(role, &line, now)
		}
		if err != nil {
			if l.Version != beforeLoan || line != beforeLine {
				t.Fatalf("step %d: a refused command changed state: %v", step, err)
			}
			continue
		}
		done[c]++
		checkStep(t, step, fx, line, loans, real, book)
	}
}

// checkStep applies a transition's transfers to the balances and checks the invariants.
func checkStep(t *testing.T, step int, fx credit.Effects, line credit.Line, loans []*credit.Loan, real, book ledger.Balances) {
	t.Helper()
	for _, tr := range fx.Transfers {
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := real.Apply(tr); err != nil {
			t.Fatalf("step %d: %s: %v", step, tr.ID, err)
		}
	}
	for _, tr := range fx.LoanBook {
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, e := range tr.Entries {
			book[e.Account.ID()] += e.Amount
		}
	}
	checkInvariants(t, step, line, loans, real, book)
}

func checkInvariants(t *testing.T, step int, line credit.Line, loans []*credit.Loan, real, book ledger.Balances) {
	t.Helper()
	used, reserved, pastDue, receivables := usd(0), usd(0), 0, int64(0)
	for _, l := range loans {
		switch l.State {
		case credit.Agreed:
			reserved = sumUSD(reserved, l.Agreement.Principal)
		case credit.PastDue:
			pastDue++
		}
		used = sumUSD(used, l.PrincipalOutstanding())
		rec := book[credit.ReceivableAccount(l.ID).ID()]
		if rec != l.Balance().Minor || rec < 0 {
			t.Fatalf("step %d: %s receivable %d, balance %s", step, l.ID, rec, l.Balance())
		}
		receivables += rec
	}
	closed := line.Status == credit.LineClosed
	if line.Used != used || line.Reserved != reserved {
		t.Fatalf("step %d: line used %s reserved %s; loans %s and %s", step, line.Used, line.Reserved, used, reserved)
	}
	if line.Used.Minor+line.Reserved.Minor > line.Limit.Minor {
		t.Fatalf("step %d: line beyond its limit: %+v", step, line)
	}
	if line.PastDueLoans != pastDue || (line.Status == credit.LineFrozen) != (pastDue > 0 && !closed) {
		t.Fatalf("step %d: line %s with %d past-due loans (counted %d)", step, line.Status, pastDue, line.PastDueLoans)
	}
	// A charge-off moves the rest of a receivable to the lender's credit loss.
	if receivables+book[credit.FundingAccount(lender.ID()).ID()]+book[credit.LossAccount(lender.ID()).ID()] != 0 {
		t.Fatalf("step %d: loan book does not balance", step)
	}
	if v := ledger.CheckBalances(real); len(v) != 0 {
		t.Fatalf("step %d: ledger: %v", step, v)
	}
}

var card = ledger.Account{Kind: ledger.RailClearing, Owner: "card", Currency: "USD"}

func post(t *testing.T, b ledger.Balances, id string, debit, credit ledger.Account, amount int64, at time.Time) {
	t.Helper()
	tr, err := ledger.NewTransfer(id, "test", "USD", "", at).Post(debit, credit, amount).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(tr); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
}

func seedEscrow(t *testing.T, b ledger.Balances, l *credit.Loan) {
	post(t, b, "seed_"+l.ID, card, credit.EscrowAccount(l.OrderID), 12_000_00, t0)
}

// refundToBuyer books the order's refund as the trade domain would: escrow to the buyer's
// refundable balance, as far as the escrow holds.
func refundToBuyer(t *testing.T, b ledger.Balances, l *credit.Loan, amount int64, at time.Time) {
	post(t, b, "refund_"+at.Format(time.RFC3339Nano), credit.EscrowAccount(l.OrderID), credit.BuyerRefundableAccount(l.BuyerID), amount, at)
}

func undoRefund(t *testing.T, b ledger.Balances, l *credit.Loan, amount int64, at time.Time) {
	post(t, b, "undo_"+at.Format(time.RFC3339Nano), credit.BuyerRefundableAccount(l.BuyerID), credit.EscrowAccount(l.OrderID), amount, at)
}

func sumUSD(a, b money.Amount) money.Amount {
	s, err := a.Add(b)
	if err != nil {
		panic(err)
	}
	return s
}
