package credit_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
)

// TestRepaidOnSchedule ensures the whole flow of the worked example: accepting reserves the
// credit and sets the disbursement timer; the lender pays into the order's escrow two working
// days later (only then is the order funded); each automatic debit bills the month's fee and
// credit, collects the installment of rails.md §8.1 and restores its principal to the line; the
// last one pays the loan off, having cost US$500.00 in net fees. The ledger balances
// throughout. R11 R21
func TestRepaidOnSchedule(t *testing.T) {
	k := newKit(t, 10_000_00, 6)
	k.accept(t0.Add(time.Minute))
	if k.loan.State != credit.Agreed || k.line.Reserved != usd(10_000_00) || k.line.Available() != usd(70_000_00) {
		t.Fatalf("after accept: %s reserved %s available %s", k.loan.State, k.line.Reserved, k.line.Available())
	}
	if len(k.fx.Timers) != 1 || k.fx.Timers[0].Kind != credit.TimerDisburse || !k.fx.Timers[0].DueAt.Equal(date("2025-03-07").Add(10*time.Hour)) {
		t.Fatalf("disbursement timer %+v", k.fx.Timers)
	}
	if len(k.fx.Transfers) != 0 {
		t.Fatal("the order is funded before the lender pays")
	}

	k.disburse(k.fx.Timers[0].DueAt)
	escrow := credit.EscrowAccount("ord_1").ID()
	if k.loan.State != credit.Disbursed || k.line.Used != usd(10_000_00) || !k.line.Reserved.IsZero() ||
		ledger.Natural(ledger.Escrow, k.balances[escrow]) != 10_000_00 {
		t.Fatalf("after disbursement: %s used %s escrow %d", k.loan.State, k.line.Used, k.balances[escrow])
	}
	if n := len(k.fx.Timers); n != 6 || k.fx.Timers[5].Kind != credit.TimerDebit || !k.fx.Timers[5].DueAt.Equal(k.due(6)) {
		t.Fatalf("debit timers %+v", k.fx.Timers)
	}

	for n, want := range workedExample {
		k.debit(k.due(n+1), true)
		if k.fx.Events[0].Payload.(map[string]any)["amount"] != usd(want.total) {
			t.Errorf("debit %d collected %v, want %d", n+1, k.fx.Events[0].Payload, want.total)
		}
		if n < 5 && (k.loan.State != credit.Active || k.line.Used != k.loan.PrincipalOutstanding()) {
			t.Fatalf("after debit %d: %s used %s", n+1, k.loan.State, k.line.Used)
		}
	}
	if k.loan.State != credit.PaidOff || !k.line.Used.IsZero() || k.line.Available() != usd(80_000_00) || !k.loan.Balance().IsZero() {
		t.Fatalf("after the last debit: %s used %s balance %s", k.loan.State, k.line.Used, k.loan.Balance())
	}
	fees, credits, paid := int64(0), int64(0), int64(0)
	for _, p := range k.loan.Postings {
		switch p.Kind {
		case credit.PostFee:
			fees += p.Amount.Minor
		case credit.PostCredit:
			credits += p.Amount.Minor
		case credit.PostPayment:
			paid += p.Amount.Minor
		}
	}
	if fees != 600_00 || credits != 100_00 || paid != 10_500_00 {
		t.Errorf("fees %d credits %d paid %d", fees, credits, paid)
	}
	if v := ledger.CheckBalances(k.balances); len(v) != 0 {
		t.Errorf("ledger: %v", v)
	}
}

// TestMissedDebit ensures a failed automatic debit bills the installment, makes the loan past
// due and freezes the line — no new reservation or draw — and that a later successful debit
// collects everything overdue, cures the loan and unfreezes the line. R11
func TestMissedDebit(t *testing.T) {
	k := funded(t, 10_000_00, 6)
	k.debit(k.due(1), false)
	if k.loan.State != credit.PastDue || k.line.Status != credit.LineFrozen || k.line.PastDueLoans != 1 {
		t.Fatalf("after a failed debit: %s, line %s", k.loan.State, k.line.Status)
	}
	if k.loan.Balance() != usd(10_100_00) || k.line.Used != usd(10_000_00) {
		t.Fatalf("balance %s used %s", k.loan.Balance(), k.line.Used)
	}
	if err := k.line.Reserve(usd(100_00)); !isReason(err, credit.ReasonLineFrozen) {
		t.Errorf("reserve on a frozen line: %v", err)
	}
	if _, err := credit.Draw(k.line, credit.DrawRequest{OrderID: "ord_2", Amount: usd(100_00), TermMonths: 1}, k.due(1), fed); !isReason(err, credit.ReasonLineFrozen) {
		t.Errorf("draw on a frozen line: %v", err)
	}
	// A retry fails again: still past due, still one loan counted.
	k.debit(k.due(1).AddDate(0, 0, 3), false)
	if k.loan.State != credit.PastDue || k.line.PastDueLoans != 1 {
		t.Fatalf("after a second failure: %s, %d", k.loan.State, k.line.PastDueLoans)
	}
	// At the second due date both installments are collected at once.
	k.debit(k.due(2), true)
	if k.fx.Events[0].Payload.(map[string]any)["amount"] != usd(1_766_67+1_866_67) {
		t.Errorf("catch-up debit %v", k.fx.Events[0].Payload)
	}
	if k.loan.State != credit.Active || k.line.Status != credit.LineActive || k.line.PastDueLoans != 0 {
		t.Fatalf("after catching up: %s, line %s", k.loan.State, k.line.Status)
	}
	if err := k.line.Reserve(usd(100_00)); err != nil {
		t.Errorf("reserve after the cure: %v", err)
	}
	if _, err := k.loan.Debit(credit.RoleSystem, &k.line, k.due(2).Add(time.Hour), true); !isReason(err, credit.ReasonNothingDue) {
		t.Errorf("a second debit the same day: %v", err)
	}
}

// TestEarlyPayoff ensures paying off early costs the principal left plus the fee of the month
// under way (fees accrue per month begun, net of the first-month credit), and that the fees of
// later months are never charged. R11
func TestEarlyPayoff(t *testing.T) {
	tests := []struct {
		name  string
		paid  int // installments debited first
		at    func(k *kit) time.Time
		quote int64
		fees  int64 // all fees charged over the loan's life, before credits
	}{
		{"in month 1", 0, func(k *kit) time.Time { return k.loan.DisbursedAt.AddDate(0, 0, 10) }, 10_000_00 + 100_00, 200_00},
		{"on the first due date, before the debit", 0, func(k *kit) time.Time { return k.due(1).Add(time.Hour) }, 10_000_00 + 100_00, 200_00},
		{"the day after the first due date", 0, func(k *kit) time.Time { return k.due(1).AddDate(0, 0, 1) }, 10_000_00 + 100_00 + 200_00, 400_00},
		{"in month 3 after two debits", 2, func(k *kit) time.Time { return k.due(2).AddDate(0, 0, 5) }, 6_666_66 + 50_00, 450_00},
		{"on the last due date", 5, func(k *kit) time.Time { return k.due(6) }, 1_716_65, 600_00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := funded(t, 10_000_00, 6)
			for n := 1; n <= tc.paid; n++ {
				k.debit(k.due(n), true)
			}
			at := tc.at(k)
			if q := k.loan.Quote(at); q != usd(tc.quote) {
				t.Fatalf("quote %s, want %d", q, tc.quote)
			}
			k.take(k.loan.PayOff(credit.RoleBuyer, &k.line, at))
			if k.loan.State != credit.PaidOff || !k.loan.Balance().IsZero() || !k.line.Used.IsZero() {
				t.Fatalf("%s balance %s used %s", k.loan.State, k.loan.Balance(), k.line.Used)
			}
			fees := int64(0)
			for _, p := range k.loan.Postings {
				if p.Kind == credit.PostFee {
					fees += p.Amount.Minor
				}
			}
			if fees != tc.fees {
				t.Errorf("fees charged %d, want %d", fees, tc.fees)
			}
			if _, err := k.loan.Debit(credit.RoleSystem, &k.line, k.due(6), true); !isReason(err, credit.ReasonNotAllowed) {
				t.Errorf("a debit after payoff: %v", err)
			}
		})
	}
	// Paying off a past-due loan cures it and unfreezes the line.
	k := funded(t, 10_000_00, 6)
	k.debit(k.due(1), false)
	k.take(k.loan.PayOff(credit.RoleBuyer, &k.line, k.due(1).AddDate(0, 0, 2)))
	if k.loan.State != credit.PaidOff || k.line.Status != credit.LineActive {
		t.Errorf("payoff of a past-due loan: %s, line %s", k.loan.State, k.line.Status)
	}
}

// refundOrder books the order's own refund (escrow → the buyer's refundable balance), as the
// trade domain does, then applies it to the loan.
func (k *kit) refundOrder(amount int64, at time.Time) credit.RefundSplit {
	k.t.Helper()
	tr, err := ledger.NewTransfer("tr_refund_"+at.Format("20060102"), "refund", "USD", "ord_1", at).
		Post(credit.EscrowAccount("ord_1"), credit.BuyerRefundableAccount("org_buyer"), amount).Build()
	if err != nil {
		k.t.Fatal(err)
	}
	if err := k.balances.Apply(tr); err != nil {
		k.t.Fatal(err)
	}
	split, fx, err := k.loan.Refund(credit.RoleSystem, &k.line, usd(amount), at)
	k.take(fx, err)
	return split
}

// TestRefundOfFinancedOrder ensures a refund of a financed order repays the loan first and
// only the remainder goes to the buyer: a refund above the payoff closes the loan; a smaller
// one pays what is overdue (curing a past-due loan), then principal from the last installment
// back, shortening the loan so that the months it no longer reaches are cancelled with their
// fees. The money routed to the lender leaves the buyer's refundable balance for the lender's
// clearing. R11 R13
func TestRefundOfFinancedOrder(t *testing.T) {
	refundable := credit.BuyerRefundableAccount("org_buyer").ID()
	clearing := credit.LenderClearing().ID()

	// A full refund of a US$12,000 order, US$10,000 financed and US$2,000 paid by card, in
	// month 2.
	k := funded(t, 10_000_00, 6)
	card, err := ledger.NewTransfer("tr_card", "payment_received", "USD", "ord_1", t0).
		Post(ledger.Account{Kind: ledger.RailClearing, Owner: "card", Currency: "USD"}, credit.EscrowAccount("ord_1"), 2_000_00).Build()
	if err != nil || k.balances.Apply(card) != nil {
		t.Fatal(err)
	}
	k.debit(k.due(1), true)
	at := k.due(1).AddDate(0, 0, 10)
	quote := k.loan.Quote(at) // principal left 8,333.33 + month 2's fee 200.00
	if quote != usd(8_533_33) {
		t.Fatalf("quote %s", quote)
	}
	split := k.refundOrder(12_000_00, at)
	if split.ToLoan != quote || split.ToBuyer != usd(12_000_00-8_533_33) {
		t.Errorf("split %+v", split)
	}
	if k.loan.State != credit.PaidOff || !k.line.Used.IsZero() {
		t.Errorf("after a full refund: %s used %s", k.loan.State, k.line.Used)
	}
	if ledger.Natural(ledger.BuyerRefundable, k.balances[refundable]) != 12_000_00-8_533_33 || k.balances[clearing] != 10_000_00-8_533_33 {
		t.Errorf("refundable %d clearing %d", k.balances[refundable], k.balances[clearing])
	}

	// A partial refund of US$4,000 in month 1: principal first, from the last installment back.
	k = funded(t, 10_000_00, 6)
	split = k.refundOrder(4_000_00, k.loan.DisbursedAt.AddDate(0, 0, 3))
	if split.ToLoan != usd(4_000_00) || !split.ToBuyer.IsZero() {
		t.Errorf("partial split %+v", split)
	}
	got := make([]string, 0, 6)
	for _, in := range k.loan.Installments {
		got = append(got, string(in.Status)+" "+in.Principal.Decimal()+" "+in.Fee.Decimal())
	}
	want := []string{"scheduled 1666.67 200.00", "scheduled 1666.67 200.00", "scheduled 1666.67 50.00",
		"scheduled 999.99 50.00", "cancelled 0.00 0.00", "cancelled 0.00 0.00"}
	if !slices.Equal(got, want) {
		t.Errorf("schedule after a partial refund:\n got %v\nwant %v", got, want)
	}
	if k.line.Used != usd(6_000_00) || k.loan.State != credit.Disbursed {
		t.Errorf("used %s state %s", k.line.Used, k.loan.State)
	}
	// The rest is repaid on schedule: four debits, fees 200+200+50+50 less the credit.
	for n := 1; n <= 4; n++ {
		k.debit(k.due(n), true)
	}
	if k.loan.State != credit.PaidOff {
		t.Errorf("after four debits: %s", k.loan.State)
	}

	// A refund while past due pays the overdue installment first and cures the loan; the rest
	// shortens it from the end: 9,000.00 − 1,766.67 = 7,233.33 clears installments 6 to 3
	// (6,666.66) and 566.67 of installment 2.
	k = funded(t, 10_000_00, 6)
	k.debit(k.due(1), false)
	k.refundOrder(9_000_00, k.due(1).AddDate(0, 0, 1))
	if k.loan.State != credit.Active || k.line.Status != credit.LineActive || k.loan.Installments[0].Status != credit.Paid {
		t.Errorf("refund of a past-due loan: %s, line %s", k.loan.State, k.line.Status)
	}
	if in := k.loan.Installments[1]; in.Principal != usd(1_100_00) || in.Total != usd(1_300_00) || k.loan.Installments[2].Status != credit.Cancelled {
		t.Errorf("installment 2 after the refund: %+v", in)
	}
	// Overdue paid, a smaller refund in a later month still goes to principal before fees.
	k = funded(t, 10_000_00, 6)
	k.debit(k.due(1), false)
	k.refundOrder(1_000_00, k.due(1).AddDate(0, 0, 1))
	if k.loan.State != credit.PastDue || k.loan.Installments[0].Paid != usd(1_000_00) || k.loan.Due(k.due(1).AddDate(0, 0, 1)) != usd(766_67) {
		t.Errorf("a refund smaller than the overdue installment: %s paid %s", k.loan.State, k.loan.Installments[0].Paid)
	}
	if v := ledger.CheckBalances(k.balances); len(v) != 0 {
		t.Errorf("ledger: %v", v)
	}
}

// TestRefundSmallerThanPrincipal ensures a refund that covers all the principal but not the
// fee of the month under way leaves only that fee owed, collected on its due date. R11
func TestRefundSmallerThanPrincipal(t *testing.T) {
	k := funded(t, 10_000_00, 6)
	split := k.refundOrder(10_000_00, k.loan.DisbursedAt.AddDate(0, 0, 1))
	// The month's fee is owed but charged only when billed, on the due date.
	at := k.loan.DisbursedAt.AddDate(0, 0, 1)
	if split.ToLoan != usd(10_000_00) || !k.loan.Balance().IsZero() || k.loan.Quote(at) != usd(100_00) || !k.line.Used.IsZero() {
		t.Fatalf("split %+v balance %s quote %s used %s", split, k.loan.Balance(), k.loan.Quote(at), k.line.Used)
	}
	if k.loan.Due(k.due(1)) != usd(100_00) {
		t.Fatalf("due %s", k.loan.Due(k.due(1)))
	}
	k.debit(k.due(1), true)
	if k.loan.State != credit.PaidOff {
		t.Errorf("state %s", k.loan.State)
	}
}

// TestSandboxLoanClearing ensures a loan the sandbox disbursed keeps its simulated money off the
// lender's clearing account: the disbursement is drawn on the sandbox's clearing, the event says
// sandbox, and a refund repaying it goes back there, so rail_clearing:pay_later only ever holds
// the lender's real money. R11
func TestSandboxLoanClearing(t *testing.T) {
	k := newKit(t, 10_000_00, 6)
	k.accept(t0)
	k.loan.Sandbox = true
	k.disburse(k.loan.Agreement.DisbursementDue)
	sandbox, lenderAcct := credit.SandboxClearing().ID(), credit.LenderClearing().ID()
	if k.balances[sandbox] != 10_000_00 || k.balances[lenderAcct] != 0 || len(k.fx.Events) != 1 ||
		!strings.Contains(string(mustJSON(t, k.fx.Events[0].Payload)), `"sandbox":true`) {
		t.Fatalf("a sandbox disbursement: sandbox %d, lender %d, events %+v", k.balances[sandbox], k.balances[lenderAcct], k.fx.Events)
	}
	k.refundOrder(4_000_00, k.loan.DisbursedAt.AddDate(0, 0, 3))
	if k.balances[sandbox] != 6_000_00 || k.balances[lenderAcct] != 0 {
		t.Fatalf("after a refund: sandbox %d, lender %d", k.balances[sandbox], k.balances[lenderAcct])
	}
	if real := funded(t, 10_000_00, 6); real.balances[lenderAcct] != 10_000_00 || real.balances[sandbox] != 0 ||
		strings.Contains(string(mustJSON(t, real.fx.Events[0].Payload)), "sandbox") {
		t.Fatalf("the lender's money: lender %d, sandbox %d", real.balances[lenderAcct], real.balances[sandbox])
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCancelBeforeDisbursement ensures an agreement can be withdrawn until the lender pays —
// an accepted one gives its reservation back — and that an offer not accepted on its day has
// expired. R11
func TestCancelBeforeDisbursement(t *testing.T) {
	k := newKit(t, 10_000_00, 3)
	k.accept(t0)
	k.take(k.loan.Cancel(credit.RoleBuyer, &k.line, t0.Add(time.Hour)))
	if k.loan.State != credit.LoanCancelled || !k.line.Reserved.IsZero() || k.line.Available() != k.line.Limit {
		t.Errorf("after cancel: %s reserved %s", k.loan.State, k.line.Reserved)
	}
	if _, err := k.loan.Disburse(credit.RoleSystem, &k.line, t0.AddDate(0, 0, 2)); !isReason(err, credit.ReasonNotAllowed) {
		t.Errorf("disbursement timer after cancel: %v", err)
	}
	k = newKit(t, 10_000_00, 3)
	if _, err := k.loan.Accept(credit.RoleBuyer, &k.line, t0.AddDate(0, 0, 1)); !isReason(err, "agreement_expired") {
		t.Errorf("accept the next day: %v", err)
	}
	// Acceptance beyond the available credit is refused and changes nothing.
	k = newKit(t, 10_000_00, 3)
	if err := k.line.Reserve(usd(75_000_00)); err != nil {
		t.Fatal(err)
	}
	before := k.line
	if _, err := k.loan.Accept(credit.RoleBuyer, &k.line, t0); !isReason(err, credit.ReasonLimitExceeded) {
		t.Errorf("accept over the limit: %v", err)
	}
	if k.line != before || k.loan.State != credit.AgreementPending || k.loan.Version != 1 {
		t.Errorf("a refused transition changed the state: %+v %s", k.line, k.loan.State)
	}
}

// TestChargeOff ensures only a past-due loan can be charged off, by the lender or an admin,
// and that it closes the line. R11
func TestChargeOff(t *testing.T) {
	k := funded(t, 10_000_00, 6)
	if _, err := k.loan.ChargeOff(credit.RoleLender, &k.line, k.due(1)); !isReason(err, credit.ReasonNotAllowed) {
		t.Errorf("charge off a current loan: %v", err)
	}
	k.debit(k.due(1), false)
	if _, err := k.loan.ChargeOff(credit.RoleBuyer, &k.line, k.due(3)); !isReason(err, credit.ReasonRoleNotAllowed) {
		t.Errorf("a buyer charges off: %v", err)
	}
	k.take(k.loan.ChargeOff(credit.RoleLender, &k.line, k.due(3)))
	if k.loan.State != credit.ChargedOff || k.line.Status != credit.LineClosed || k.line.PastDueLoans != 0 {
		t.Errorf("after charge-off: %s, line %s", k.loan.State, k.line.Status)
	}
}

// TestEveryStateAndCommand ensures the table decides every state × command pair: a pair the
// table lacks is refused with transition_not_allowed and changes nothing; a pair it has is
// refused to every role it does not list, and accepted from a listed one with a result the
// table allows. R11
func TestEveryStateAndCommand(t *testing.T) {
	roles := []credit.Role{credit.RoleBuyer, credit.RoleLender, credit.RoleSystem, credit.RoleAdmin}
	for _, s := range credit.States {
		for _, c := range credit.Commands {
			row, allowed := credit.Lookup(s, c)
			for _, r := range roles {
				k := inState(t, s)
				before := k.loan.Version
				err := run(k, c, r)
				switch {
				case !allowed:
					if !isReason(err, credit.ReasonNotAllowed) || fault.CodeOf(err) != fault.Conflict {
						t.Errorf("%s × %s by %s: %v, want transition_not_allowed", s, c, r, err)
					}
				case !row.Allows(r):
					if !isReason(err, credit.ReasonRoleNotAllowed) {
						t.Errorf("%s × %s by %s: %v, want role_not_allowed", s, c, r, err)
					}
				default:
					if err != nil {
						t.Errorf("%s × %s by %s: %v", s, c, r, err)
					} else if !slices.Contains(row.To, k.loan.State) {
						t.Errorf("%s × %s by %s led to %s", s, c, r, k.loan.State)
					}
				}
				if err != nil && k.loan.Version != before {
					t.Errorf("%s × %s by %s: refused but changed the loan", s, c, r)
				}
			}
		}
	}
}

// inState returns a kit whose loan is in s.
func inState(t *testing.T, s credit.State) *kit {
	k := newKit(t, 10_000_00, 6)
	switch s {
	case credit.AgreementPending:
	case credit.Agreed:
		k.accept(t0)
	case credit.LoanCancelled:
		k.take(k.loan.Cancel(credit.RoleBuyer, &k.line, t0))
	default:
		k.accept(t0)
		k.disburse(k.loan.Agreement.DisbursementDue)
		switch s {
		case credit.Active:
			k.debit(k.due(1), true)
		case credit.PastDue:
			k.debit(k.due(1), false)
		case credit.PaidOff:
			k.take(k.loan.PayOff(credit.RoleBuyer, &k.line, k.due(1)))
		case credit.ChargedOff:
			k.debit(k.due(1), false)
			k.take(k.loan.ChargeOff(credit.RoleAdmin, &k.line, k.due(2)))
		}
	}
	if k.loan.State != s {
		t.Fatalf("inState(%s) reached %s", s, k.loan.State)
	}
	return k
}

// run issues c by r at a time when it can succeed.
func run(k *kit, c credit.Command, r credit.Role) error {
	l, line := k.loan, &k.line
	var err error
	switch c {
	case credit.CmdAccept:
		_, err = l.Accept(r, line, t0)
	case credit.CmdCancel:
		_, err = l.Cancel(r, line, t0)
	case credit.CmdDisburse:
		_, err = l.Disburse(r, line, l.Agreement.DisbursementDue)
	case credit.CmdDebit:
		_, err = l.Debit(r, line, k.due(2), true)
	case credit.CmdPayOff:
		_, err = l.PayOff(r, line, k.due(2))
	case credit.CmdRefund:
		_, _, err = l.Refund(r, line, usd(1_000_00), k.due(2))
	case credit.CmdChargeOff:
		_, err = l.ChargeOff(r, line, k.due(3))
	}
	return err
}
