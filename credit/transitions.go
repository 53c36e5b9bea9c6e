package credit

import (
	"strconv"
	"time"

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Accept is the buyer accepting the agreement: it reserves the principal on the line and sets
// the disbursement timer for when the lender is expected to pay. The offer is valid on the day
// it was made (its schedule is counted from that date); a later acceptance is refused and the
// buyer gets a new offer.
func (l *Loan) Accept(by Role, line *Line, now time.Time) (Effects, error) {
	return l.apply(CmdAccept, by, line, now, func(s *step) error {
		a := s.l.Agreement
		if !calendar.Date(now.In(a.AgreedAt.Location())).Equal(calendar.Date(a.AgreedAt)) {
			return fault.New(fault.Conflict, "agreement_expired", "the offer was for %s; ask for a new one",
				a.AgreedAt.Format(time.DateOnly))
		}
		if err := s.line.Reserve(a.Principal); err != nil {
			return err
		}
		s.l.State = Agreed
		s.timer(TimerDisburse, "disburse", a.DisbursementDue)
		s.event("loan.accepted", map[string]any{"order_id": s.l.OrderID, "principal": a.Principal,
			"term_months": a.TermMonths, "total_cost": a.TotalCost, "disbursement_due": a.DisbursementDue})
		return nil
	})
}

// Cancel withdraws the agreement before the lender pays (the order was cancelled, or the buyer
// changed their mind): an accepted one gives its reservation back.
func (l *Loan) Cancel(by Role, line *Line, now time.Time) (Effects, error) {
	return l.apply(CmdCancel, by, line, now, func(s *step) error {
		if s.l.State == Agreed {
			if err := s.line.Release(s.l.Agreement.Principal); err != nil {
				return err
			}
		}
		s.l.State, s.l.ClosedAt = LoanCancelled, now
		s.event("loan.cancelled", map[string]any{"order_id": s.l.OrderID})
		return nil
	})
}

// Disburse is the lender's money arriving in the order's escrow: the reservation becomes used
// credit, the escrow is funded (only now does the order count as paid), the loan is booked, and
// a debit timer is set for each installment's due date. The caller sets Sandbox first when the
// money is the sandbox's.
func (l *Loan) Disburse(by Role, line *Line, now time.Time) (Effects, error) {
	return l.apply(CmdDisburse, by, line, now, func(s *step) error {
		a := s.l.Agreement
		if err := s.line.Draw(a.Principal); err != nil {
			return err
		}
		t, err := DisbursementTransfer(s.l, s.id("pl"), now)
		if err != nil {
			panic("credit: " + err.Error()) // the principal was validated by Offer
		}
		s.fx.Transfers = append(s.fx.Transfers, t)
		s.l.State, s.l.DisbursedAt = Disbursed, now
		s.post(PostDraw, 0, a.Principal)
		for _, in := range s.l.Installments {
			s.timer(TimerDebit, "debit/"+strconv.Itoa(in.N), in.DueDate)
		}
		// Late: after the end of the latest disbursement day, in the zone the agreement was made
		// in (its dates are the rail's: New York), as the funds-overdue timer counts it.
		late := !now.Before(a.FundsDeadline(a.DisbursementLatest.Location()))
		ev := map[string]any{"order_id": s.l.OrderID, "amount": a.Principal, "late": late}
		if s.l.Sandbox {
			ev["sandbox"] = true // simulated money: the sandbox paid for the lender
		}
		s.event("loan.disbursed", ev)
		return nil
	})
}

// Due returns what an automatic debit at now collects: every unpaid installment whose due date
// has come, including any past due.
func (l *Loan) Due(now time.Time) money.Amount {
	due := usd(0)
	for _, in := range l.Installments {
		if (in.Status == Scheduled || in.Status == Billed) && !now.Before(in.DueDate) {
			due = sum(due, in.remaining())
		}
	}
	return due
}

// Debit records the outcome of the automatic debit of what is due at now from the buyer's
// business checking account (the sandbox bank's, or the lender's). Either way the due
// installments are billed: their fees and the first-month credit are charged. A success pays
// them, restores their principal to the line, and cures a past-due loan; a failure makes the
// loan past due and freezes the line until a later debit succeeds.
func (l *Loan) Debit(by Role, line *Line, now time.Time, succeeded bool) (Effects, error) {
	return l.RecordDebit(by, line, now, now, succeeded)
}

// RecordDebit is Debit for a debit asked for at asOf whose outcome is recorded at now (the bank
// answers after the request: docs/pay-later.md, the debit outbox): what is due, billed and paid
// is what was due at asOf — the amount the bank was asked for — and the postings are dated now.
func (l *Loan) RecordDebit(by Role, line *Line, asOf, now time.Time, succeeded bool) (Effects, error) {
	return l.apply(CmdDebit, by, line, now, func(s *step) error {
		due := s.l.Due(asOf)
		if !due.IsPositive() {
			return fault.New(fault.Conflict, ReasonNothingDue, "nothing is due on the loan")
		}
		for i := range s.l.Installments {
			if !asOf.Before(s.l.Installments[i].DueDate) {
				s.bill(i)
			}
		}
		if !succeeded {
			if s.l.State != PastDue {
				s.line.markPastDue()
				s.l.State = PastDue
			}
			s.event("loan.debit_failed", map[string]any{"amount": due, "line_status": s.line.Status})
			return nil
		}
		before := s.l.PrincipalOutstanding()
		for i, in := range s.l.Installments {
			if in.Status == Billed && !asOf.Before(in.DueDate) {
				s.pay(i, in.remaining())
			}
		}
		s.post(PostPayment, 0, due)
		s.event("loan.debit_succeeded", map[string]any{"amount": due})
		return s.settle(CmdDebit, before)
	})
}

// Quote is what paying the loan off at now costs: the principal not yet repaid, plus the fees
// of every month that has begun and is not paid — the current month's fee in full, since fees
// accrue per month begun — net of the first-month credit. Months not begun cost nothing.
func (l *Loan) Quote(now time.Time) money.Amount {
	q := usd(0)
	for i, in := range l.Installments {
		switch {
		case in.Status == Billed:
			q = sum(q, in.remaining())
		case in.Status == Scheduled && l.started(i+1, now):
			q = sum(q, in.Total)
		case in.Status == Scheduled:
			q = sum(q, in.Principal)
		}
	}
	return q
}

// PayOff is the buyer repaying the whole loan early, for Quote(now): the current month's fee
// is charged, later months' fees never are (R11, rails.md §8.1: fees apply only while a
// balance remains).
func (l *Loan) PayOff(by Role, line *Line, now time.Time) (Effects, error) {
	return l.PayOffAt(by, line, now, now)
}

// PayOffAt is PayOff for a payoff quoted and debited at asOf whose outcome is recorded at now:
// it pays Quote(asOf), the amount the bank was asked for, with postings dated now.
func (l *Loan) PayOffAt(by Role, line *Line, asOf, now time.Time) (Effects, error) {
	return l.apply(CmdPayOff, by, line, now, func(s *step) error {
		amount := s.l.Quote(asOf)
		before := s.l.PrincipalOutstanding()
		s.payAll(asOf)
		s.post(PostPayment, 0, amount)
		return s.settle(CmdPayOff, before)
	})
}

// RefundSplit says where an order refund goes: ToLoan repays the loan, ToBuyer is the rest.
type RefundSplit struct {
	ToLoan  money.Amount `json:"to_loan"`
	ToBuyer money.Amount `json:"to_buyer"`
}

// Refund applies a refund of the financed order to the loan first; the remainder goes to the
// buyer. A refund that covers Quote(now) pays the loan off. A smaller one pays, in order: what
// is overdue (which cures a past-due loan and unfreezes the line), then principal — from the
// last installment backwards, which shortens the loan: a month whose principal is all repaid
// before it begins is cancelled with its fee — and only then fees owed. The order's own refund
// has credited the buyer's refundable balance; the transfer here moves ToLoan from it to the
// lender.
func (l *Loan) Refund(by Role, line *Line, amount money.Amount, now time.Time) (RefundSplit, Effects, error) {
	var split RefundSplit
	fx, err := l.apply(CmdRefund, by, line, now, func(s *step) error {
		if err := requireUSD("amount", amount); err != nil {
			return err
		}
		if !amount.IsPositive() {
			return fault.FieldErr("amount", ReasonInvalidAmount, "refund a positive amount")
		}
		quote := s.l.Quote(now)
		toLoan := amount.Min(quote)
		split = RefundSplit{ToLoan: toLoan, ToBuyer: sum(amount, toLoan.Neg())}
		t, err := RefundTransfer(s.l, s.id("pl"), toLoan, now)
		if err != nil {
			panic("credit: " + err.Error())
		}
		s.fx.Transfers = append(s.fx.Transfers, t)
		before := s.l.PrincipalOutstanding()
		if toLoan == quote {
			s.payAll(now)
		} else {
			s.prepay(toLoan, now)
		}
		s.post(PostRefund, 0, toLoan)
		s.event("loan.refund_applied", map[string]any{"order_id": s.l.OrderID, "to_loan": split.ToLoan, "to_buyer": split.ToBuyer})
		return s.settle(CmdRefund, before)
	})
	if err != nil {
		return RefundSplit{}, Effects{}, err
	}
	return split, fx, nil
}

// ChargeOff is the lender writing off a past-due loan: it leaves the platform's servicing, the
// buyer's debt stays with the lender (who collects it directly), and the line is closed. What
// the loan still owes is posted as PostChargeOff, so the platform's book of the loan ends at
// zero: the loan book moves it from the loan's receivable to the lender's credit loss
// (ledger.CreditLoss); no money moves and the platform's escrow is never touched.
func (l *Loan) ChargeOff(by Role, line *Line, now time.Time) (Effects, error) {
	return l.apply(CmdChargeOff, by, line, now, func(s *step) error {
		balance := s.l.Balance()
		since := s.l.PastDueSince()
		s.post(PostChargeOff, 0, balance)
		s.line.cure()
		s.line.Close()
		s.l.State, s.l.ClosedAt = ChargedOff, now
		s.event("loan.charged_off", map[string]any{"balance": balance, "past_due_since": since,
			"line_status": s.line.Status})
		return nil
	})
}

// bill charges installment i's fee and credit: on its due date, or earlier when the loan is
// repaid during its month.
func (s *step) bill(i int) {
	in := &s.l.Installments[i]
	if in.Status != Scheduled {
		return
	}
	in.Status = Billed
	s.post(PostFee, in.N, in.Fee)
	s.post(PostCredit, in.N, in.Credit)
}

// pay puts amount (at most what remains) on installment i.
func (s *step) pay(i int, amount money.Amount) {
	in := &s.l.Installments[i]
	if amount.Minor > in.remaining().Minor {
		panic("credit: paying more than an installment's remainder")
	}
	in.Paid = sum(in.Paid, amount)
	if in.Paid == in.Total {
		in.Status = Paid
	}
}

// payAll pays every installment: what is billed, the months begun (billed now), and the
// principal of months not begun, whose fees are never charged.
func (s *step) payAll(now time.Time) {
	for i := range s.l.Installments {
		in := &s.l.Installments[i]
		switch {
		case in.Status == Scheduled && s.l.started(i+1, now):
			s.bill(i)
		case in.Status == Scheduled:
			in.Fee, in.Credit, in.Total, in.Status = usd(0), usd(0), in.Principal, Billed
		}
		if in.Status == Billed {
			s.pay(i, in.remaining())
		}
	}
}

// prepay applies a partial repayment, less than Quote(now): overdue installments oldest first
// (each principal first, then fee); then principal — of installments billed early, then of
// later installments from the last backwards (a month not begun whose principal is all repaid
// is cancelled, fee and all); then fees billed, oldest first; then the fees of months begun but
// not yet billed.
func (s *step) prepay(amount money.Amount, now time.Time) {
	left := amount
	take := func(limit money.Amount) money.Amount {
		x := left.Min(limit)
		left = sum(left, x.Neg())
		return x
	}
	ins := s.l.Installments
	for i := range ins {
		if ins[i].Status == Billed && !now.Before(ins[i].DueDate) {
			s.pay(i, take(ins[i].remaining()))
		}
	}
	for i := range ins {
		if ins[i].Status == Billed {
			s.pay(i, take(ins[i].principalLeft()))
		}
	}
	for i := len(ins) - 1; i >= 0; i-- {
		in := &ins[i]
		if in.Status != Scheduled {
			continue
		}
		in.Principal = sum(in.Principal, take(in.Principal).Neg())
		in.Total = sum(in.Principal, in.netFee())
		if in.Principal.IsZero() && !s.l.started(i+1, now) {
			in.Fee, in.Credit, in.Total, in.Status = usd(0), usd(0), usd(0), Cancelled
		}
	}
	for i := range ins {
		if ins[i].Status == Billed {
			s.pay(i, take(ins[i].remaining()))
		}
	}
	for i := range ins {
		if ins[i].Status == Scheduled && s.l.started(i+1, now) && left.IsPositive() {
			s.bill(i)
			s.pay(i, take(ins[i].remaining()))
		}
	}
	if !left.IsZero() {
		panic("credit: a partial repayment was not fully applied")
	}
}

// settle gives repaid principal back to the line and moves the loan on: paid off once nothing
// is owed, active again once nothing is overdue, active after its first successful debit.
func (s *step) settle(c Command, before money.Amount) error {
	if freed := sum(before, s.l.PrincipalOutstanding().Neg()); freed.IsPositive() {
		if err := s.line.Restore(freed); err != nil {
			return err
		}
	}
	wasPastDue := s.l.State == PastDue
	switch {
	case s.l.repaid():
		s.l.State, s.l.ClosedAt = PaidOff, s.now
		s.event("loan.paid_off", map[string]any{"by": c, "early": c != CmdDebit})
	case wasPastDue && !s.l.overdue(s.now):
		s.l.State = Active
	case c == CmdDebit:
		s.l.State = Active
	}
	if wasPastDue && s.l.State != PastDue {
		s.line.cure()
		s.event("loan.cured", map[string]any{"line_status": s.line.Status})
	}
	return nil
}

// repaid reports whether every installment is paid or cancelled.
func (l *Loan) repaid() bool {
	for _, in := range l.Installments {
		if in.Status != Paid && in.Status != Cancelled {
			return false
		}
	}
	return true
}

// overdue reports whether an installment due by now is still unpaid.
func (l *Loan) overdue(now time.Time) bool {
	for _, in := range l.Installments {
		if in.Status == Billed && !now.Before(in.DueDate) && in.remaining().IsPositive() {
			return true
		}
	}
	return false
}
