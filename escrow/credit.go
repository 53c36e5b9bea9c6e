package escrow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	_ "time/tzdata" // America/New_York for the US rails' calendar days, wherever the server runs

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Pay Later (R11): the use cases around the pure domain in package credit. A buyer applies and
// the lender decides; at checkout the buyer issues Pay Later payment instructions for an
// installment, asks for a loan agreement and accepts it, which reserves the credit and sets the
// disbursement timer; when it fires it records a request to the lender, and the order counts as
// paid only once the lender's money arrives through ReceiveFunds' matching (reported on the
// pay_later rail, or simulated by the sandbox on a sandbox server; credit_funds.go); debit timers record requests the bank worker sends to the buyer's bank; a refund of
// a financed order repays the loan first. Applications, too, are decided by the lender worker.
// See docs/pay-later.md.

// CreditOptions configure Pay Later. The zero value is the built-in lender on the US Federal
// Reserve calendar; the bank is the SandboxBank when the sandbox is on (Options.Sandbox), and
// none otherwise: debit requests then wait for an operator to record the bank's answer.
type CreditOptions struct {
	// Lender decides applications and disburses accepted loans, called by the lender worker.
	Lender credit.Lender
	// Bank debits the buyer's business checking account for repayments. Nil: the SandboxBank
	// with the sandbox on, no bank with it off.
	Bank Bank
	// Location is the zone whose dates are the rail's days: America/New_York for US rails.
	Location *time.Location
	// Calendar counts the business days of debit retries: the US Federal Reserve's by default.
	Calendar calendar.Calendar
	// OnDebit is told of each answer the bank worker recorded: the request's kind and its new
	// status (succeeded, refused, attention, unapplied) or DebitResultRetry. Metrics hang here.
	OnDebit func(kind DebitKind, result string)
	// OnLender is told of each answer the lender worker recorded: the request's kind and its
	// new status (recorded; awaiting_funds, a disbursement the lender accepted to pay; attention)
	// or LenderResultRetry. Metrics hang here.
	OnLender func(kind LenderRequestKind, result string)
}

// creditDeps is CreditOptions with the defaults filled in.
type creditDeps struct {
	lender   credit.Lender
	bank     Bank // nil: no bank on this machine; an operator records each answer
	sandbox  bool // bank is the SandboxBank: its answers are simulated
	loc      *time.Location
	cal      calendar.Calendar
	onDebit  func(kind DebitKind, result string)
	onLender func(kind LenderRequestKind, result string)
}

// Calendar years computed up front; others are computed on demand (calendar.USFederal).
const calendarFrom, calendarTo = 2015, 2040

func newCreditDeps(o CreditOptions, st Store, sbx Sandbox, clock Clock, log *slog.Logger) creditDeps {
	d := creditDeps{lender: o.Lender, bank: o.Bank, loc: o.Location, cal: o.Calendar, onDebit: o.OnDebit, onLender: o.OnLender}
	if d.cal == nil {
		d.cal = calendar.USFederal(calendarFrom, calendarTo)
	}
	if d.loc == nil {
		loc, err := time.LoadLocation("America/New_York") // embedded by time/tzdata: cannot fail
		if err != nil {
			panic("escrow: " + err.Error())
		}
		d.loc = loc
	}
	if d.lender == nil {
		d.lender = credit.NewBuiltIn()
	}
	ss, ok := st.(SandboxBankStore)
	switch {
	case d.bank != nil:
		_, d.sandbox = d.bank.(*SandboxBank)
	case sbx.Enabled && ok:
		d.bank, d.sandbox = NewSandboxBank(ss, clock), true
		log.Info("Pay Later bank: the sandbox bank (simulated answers, no money moves); set buyers' debits to fail with POST /v1/credit/sandbox-bank")
	default:
		log.Warn("Pay Later bank: none on this machine; debit requests wait for an operator to record the bank's answer (POST /v1/credit/bank-debits/{id}/result)")
	}
	return d
}

// Bank returns the bank Pay Later debits repayments from; nil when there is none and an
// operator records each answer.
func (s *Service) Bank() Bank { return s.cred.bank }

// SandboxBank returns the sandbox bank when the sandbox answers Pay Later's debits.
func (s *Service) SandboxBank() (*SandboxBank, bool) {
	b, ok := s.cred.bank.(*SandboxBank)
	return b, ok && s.cred.sandbox
}

// creditTx is the transaction's Pay Later storage.
func (u *unit) creditTx() (CreditTx, error) {
	ct, ok := u.tx.(CreditTx)
	if !ok {
		return nil, fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep Pay Later state")
	}
	return ct, nil
}

func requireBuyer(a trade.Actor) error {
	if a.Role != trade.RoleBuyer {
		return fault.New(fault.Forbidden, "role_not_allowed", "only a buyer may do this")
	}
	return nil
}

func usd(minor int64) money.Amount { return money.New(minor, credit.USD) }

// CreditApplicationResult is an application with the lender's decision, and the line an
// approval opened.
type CreditApplicationResult struct {
	Application credit.Application `json:"application"`
	Line        *credit.Line       `json:"line,omitempty"`
}

// CreditApplications lists the buyer's applications, newest first.
func (s *Service) CreditApplications(ctx context.Context, a trade.Actor, buyerID string) ([]credit.Application, error) {
	if a.Role == trade.RoleBuyer {
		buyerID = a.OrgID
	} else if err := requireAdmin(a); err != nil {
		return nil, err
	}
	var out []credit.Application
	err := s.creditRead(ctx, func(r CreditReader) error {
		var err error
		out, err = r.CreditApplications(ctx, buyerID, PageSizeMax)
		return err
	})
	return out, err
}

// CreditLine returns the buyer's line that is not closed: a buyer's own, any for an admin.
func (s *Service) CreditLine(ctx context.Context, a trade.Actor, buyerID string) (credit.Line, error) {
	if a.Role == trade.RoleBuyer {
		buyerID = a.OrgID
	} else if err := requireAdmin(a); err != nil {
		return credit.Line{}, err
	}
	var l credit.Line
	err := s.creditRead(ctx, func(r CreditReader) error {
		var err error
		l, err = r.OpenCreditLine(ctx, buyerID)
		return err
	})
	return l, notFound(err, "credit_line")
}

// Loan returns a loan its buyer or an admin may see.
func (s *Service) Loan(ctx context.Context, a trade.Actor, id string) (LoanRecord, error) {
	var l LoanRecord
	err := s.creditRead(ctx, func(r CreditReader) error {
		var err error
		if l, err = r.Loan(ctx, id); err != nil {
			return err
		}
		if err := withDisbursement(ctx, r, &l); err != nil {
			return err
		}
		return withBankDebit(ctx, r, &l)
	})
	if err != nil {
		return LoanRecord{}, notFound(err, "loan")
	}
	if !loanVisible(a, l) {
		return LoanRecord{}, fault.New(fault.NotFound, "loan_not_found", "no such loan")
	}
	return l, nil
}

// withBankDebit fills in the loan's newest debit request, if it has one.
func withBankDebit(ctx context.Context, r CreditReader, l *LoanRecord) error {
	br, ok := r.(BankDebitReader)
	if !ok {
		return nil
	}
	d, err := br.LatestBankDebit(ctx, l.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	l.BankDebit = &d
	return nil
}

// Loans lists the loans of the buyer's open line, by ID.
func (s *Service) Loans(ctx context.Context, a trade.Actor, buyerID string) ([]LoanRecord, error) {
	line, err := s.CreditLine(ctx, a, buyerID)
	if err != nil {
		return nil, err
	}
	var out []LoanRecord
	err = s.creditRead(ctx, func(r CreditReader) error {
		var err error
		if out, err = r.LoansOfLine(ctx, line.ID, credit.StatementLoansMax); err != nil {
			return err
		}
		for i := range out {
			if err := withRequests(ctx, r, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (s *Service) creditRead(ctx context.Context, fn func(CreditReader) error) error {
	return s.store.Read(ctx, func(r Reader) error {
		cr, ok := r.(CreditReader)
		if !ok {
			return fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep Pay Later state")
		}
		return fn(cr)
	})
}

func loanVisible(a trade.Actor, l LoanRecord) bool {
	return a.Role == trade.RoleAdmin || a.Role == trade.RoleSystem || (a.Role == trade.RoleBuyer && a.OrgID == l.BuyerID)
}

// pendingPayLater returns the order's Pay Later payment whose instructions are out, if any.
func pendingPayLater(o *trade.Order) *trade.Payment {
	for i := range o.Payments {
		if p := &o.Payments[i]; p.Method == payment.PayLater && p.Status == trade.PaymentPending {
			return p
		}
	}
	return nil
}

func findPayment(o *trade.Order, id string) *trade.Payment {
	for i := range o.Payments {
		if o.Payments[i].ID == id {
			return &o.Payments[i]
		}
	}
	return nil
}

// OfferLoan asks the lender for the loan agreement that finances the order's pending Pay Later
// payment over termMonths (1–6): the principal, the schedule with every installment, the fees,
// the first-month credit and the total cost. Nothing is reserved until the buyer accepts; the
// offer is valid on the day it is made.
func (s *Service) OfferLoan(ctx context.Context, a trade.Actor, key, orderID string, termMonths int) (LoanRecord, error) {
	if err := requireBuyer(a); err != nil {
		return LoanRecord{}, err
	}
	return run(ctx, s, a, key, []any{"loan_offer", orderID, termMonths}, func(u *unit) (LoanRecord, error) {
		ct, err := u.creditTx()
		if err != nil {
			return LoanRecord{}, err
		}
		o, err := u.tx.Order(ctx, orderID)
		if err != nil || !o.Visible(a) {
			return LoanRecord{}, fault.New(fault.NotFound, "order_not_found", "no such order")
		}
		p := pendingPayLater(o)
		if p == nil {
			return LoanRecord{}, fault.New(fault.Conflict, "pay_later_payment_required",
				"choose Pay Later as the payment method first: the agreement finances that payment")
		}
		line, err := ct.OpenCreditLine(ctx, o.BuyerID)
		if errors.Is(err, ErrNotFound) {
			return LoanRecord{}, fault.New(fault.Conflict, "pay_later_requires_credit_line", "Pay Later needs an approved credit line")
		}
		if err != nil {
			return LoanRecord{}, err
		}
		ag, err := credit.Draw(line, credit.DrawRequest{OrderID: o.ID, Amount: money.New(p.Total, o.Currency),
			TermMonths: termMonths}, u.now.In(s.cred.loc), s.cred.cal)
		if err != nil {
			return LoanRecord{}, err
		}
		l, err := credit.NewLoan(newID("loan"), line, o.ID, s.cred.lender.ID(), ag)
		if err != nil {
			return LoanRecord{}, err
		}
		rec := LoanRecord{Loan: *l, PaymentID: p.ID, CreatedAt: u.now}
		if err := ct.InsertLoan(ctx, rec); err != nil {
			return LoanRecord{}, fmt.Errorf("insert loan: %w", err)
		}
		return rec, u.appendEvent(ctx, rec.ID, []string{rec.BuyerID}, "loan.offered", map[string]any{
			"loan_id": rec.ID, "order_id": o.ID, "payment_id": p.ID, "principal": ag.Principal, "term_months": ag.TermMonths,
			"total_cost": ag.TotalCost, "credit_applied": ag.CreditApplied, "disbursement_due": ag.DisbursementDue})
	})
}

// AcceptLoan is the buyer accepting the agreement (R11): the principal is reserved on the line
// under its lock, so concurrent acceptances cannot pass the limit, and the disbursement timer is
// set for 2 US business days later. The order's payment stays pending until the lender pays.
func (s *Service) AcceptLoan(ctx context.Context, a trade.Actor, key, loanID string) (LoanRecord, error) {
	if err := requireBuyer(a); err != nil {
		return LoanRecord{}, err
	}
	return run(ctx, s, a, key, []any{"loan_accept", loanID}, func(u *unit) (LoanRecord, error) {
		return s.onLoan(ctx, u, loanID, func(ct CreditTx, l *LoanRecord, line *credit.Line) (credit.Effects, bool, error) {
			o, err := u.tx.Order(ctx, l.OrderID)
			if err != nil {
				return credit.Effects{}, false, err
			}
			if p := findPayment(o, l.PaymentID); p == nil || p.Status != trade.PaymentPending {
				return credit.Effects{}, false, fault.New(fault.Conflict, "payment_not_pending",
					"the payment this agreement finances is no longer pending")
			}
			others, err := ct.LoansOfOrder(ctx, l.OrderID)
			if err != nil {
				return credit.Effects{}, false, err
			}
			for _, x := range others {
				if x.ID != l.ID && x.PaymentID == l.PaymentID && x.State != credit.AgreementPending && x.State != credit.LoanCancelled {
					return credit.Effects{}, false, fault.New(fault.Conflict, "payment_already_financed",
						"another agreement already finances this payment (loan %s)", x.ID)
				}
			}
			fx, err := l.Accept(credit.RoleBuyer, line, u.now.In(s.cred.loc))
			return fx, false, err
		})
	})
}

// CancelLoan withdraws an agreement before the lender pays; an accepted one gives its
// reservation back.
func (s *Service) CancelLoan(ctx context.Context, a trade.Actor, key, loanID string) (LoanRecord, error) {
	if a.Role != trade.RoleBuyer {
		if err := requireAdmin(a); err != nil {
			return LoanRecord{}, err
		}
	}
	role := credit.RoleBuyer
	if a.Role != trade.RoleBuyer {
		role = credit.RoleAdmin
	}
	return run(ctx, s, a, key, []any{"loan_cancel", loanID}, func(u *unit) (LoanRecord, error) {
		return s.onLoan(ctx, u, loanID, func(_ CreditTx, l *LoanRecord, line *credit.Line) (credit.Effects, bool, error) {
			lt, err := u.lenderTx()
			if err != nil {
				return credit.Effects{}, false, err
			}
			// The lender may be paying right now: its money must find the loan it lends.
			if r, err := openDisbursement(ctx, lt, l.ID); err != nil || (r != nil && r.Status != LenderAttention) {
				if err != nil {
					return credit.Effects{}, false, err
				}
				return credit.Effects{}, false, fault.New(fault.Conflict, "disbursement_pending",
					"the lender is paying this loan into the order's escrow; it can no longer be cancelled")
			}
			fx, err := l.Cancel(role, line, u.now)
			return fx, false, err
		})
	})
}

// onLoan locks the loan's line and then the loan, lets f decide on them, and writes the loan,
// the line and the effects; f reports whether the effects' money transfers are to be posted.
// Nothing is written when f refuses.
func (s *Service) onLoan(ctx context.Context, u *unit, loanID string,
	f func(CreditTx, *LoanRecord, *credit.Line) (credit.Effects, bool, error)) (LoanRecord, error) {
	ct, err := u.creditTx()
	if err != nil {
		return LoanRecord{}, err
	}
	l, err := ct.Loan(ctx, loanID)
	if err != nil {
		return LoanRecord{}, notFound(err, "loan")
	}
	if !loanVisible(u.actor, l) {
		return LoanRecord{}, fault.New(fault.NotFound, "loan_not_found", "no such loan")
	}
	line, err := ct.LockCreditLine(ctx, l.LineID)
	if err != nil {
		return LoanRecord{}, err
	}
	if l, err = ct.LockLoan(ctx, loanID); err != nil {
		return LoanRecord{}, err
	}
	prev := l.Version
	fx, postMoney, err := f(ct, &l, &line)
	if err != nil {
		return LoanRecord{}, err
	}
	if err := u.writeLoan(ctx, ct, l, prev, line, fx, postMoney); err != nil {
		return LoanRecord{}, &dirtyError{err}
	}
	return l, nil
}

// writeLoan persists what a loan transition produced: the line, the loan (if prevVersion is
// still stored), the loan book on the ledger, the money transfers when postMoney, the timers
// and the events (on the loan's stream, seen by its buyer).
func (u *unit) writeLoan(ctx context.Context, ct CreditTx, l LoanRecord, prevVersion int, line credit.Line, fx credit.Effects, postMoney bool) error {
	if err := ct.UpdateCreditLine(ctx, line); err != nil {
		return fmt.Errorf("update credit line: %w", err)
	}
	if err := ct.UpdateLoan(ctx, l, prevVersion); err != nil {
		return fmt.Errorf("update loan: %w", err)
	}
	if err := u.ensureStatementTimer(ctx, line); err != nil {
		return err
	}
	var ts []ledger.Transfer
	if postMoney {
		ts = append(ts, fx.Transfers...)
	}
	for _, t := range append(ts, fx.LoanBook...) {
		if err := u.tx.PostTransfer(ctx, t); err != nil {
			return postError(t, err)
		}
	}
	// A loan's timers are filed under the loan, not its order: they outlive the order (the order
	// closes long before the last installment), and closing an order retires its own timers.
	for _, tm := range fx.Timers {
		if err := u.tx.PutTimer(ctx, trade.Timer{Key: tm.Key, Kind: trade.TimerKind(tm.Kind), OrderID: l.ID,
			DueAt: tm.DueAt, Ref: l.ID}); err != nil {
			return fmt.Errorf("put timer: %w", err)
		}
	}
	for _, e := range fx.Events {
		if err := u.appendEvent(ctx, l.ID, []string{l.BuyerID}, e.Type, e.Payload); err != nil {
			return err
		}
	}
	return nil
}

// payLater vets a Pay Later payment before the order decides on it (R11): the buyer must be a US
// business, the order in USD, and the buyer's line open and not frozen; the command then names
// the line. Without a line the command goes on unchanged, and the order refuses it.
func (s *Service) payLater(ctx context.Context, u *unit, o *trade.Order, cmd trade.Command) (trade.Command, error) {
	p, ok := cmd.(trade.Pay)
	if !ok || p.Method != payment.PayLater || u.actor.Role != trade.RoleBuyer {
		return cmd, nil
	}
	// On a sandbox server the sandbox pays for the lender: the payment is simulated, and says so.
	p.CreditLine, p.Simulated = "", s.sbx.Enabled
	buyer, err := u.tx.Org(ctx, o.BuyerID)
	if err != nil {
		return nil, fmt.Errorf("load buyer %s: %w", o.BuyerID, err)
	}
	if err := credit.CheckEligible(buyer.Country, o.Currency); err != nil {
		return nil, err
	}
	ct, ok := u.tx.(CreditTx)
	if !ok {
		return p, nil
	}
	line, err := ct.OpenCreditLine(ctx, o.BuyerID)
	switch {
	case errors.Is(err, ErrNotFound):
		return p, nil
	case err != nil:
		return nil, err
	case line.Status == credit.LineFrozen:
		return nil, fault.New(fault.Conflict, credit.ReasonLineFrozen, "the credit line is frozen while a repayment is past due")
	}
	// Pending instructions block another method until they expire: refuse now what no agreement
	// could finance.
	if due := dueNow(o, p.Installment); due > 0 {
		switch {
		case due > line.Available().Minor:
			return nil, fault.New(fault.Conflict, credit.ReasonLimitExceeded, "%s is more than the available credit of %s",
				money.New(due, o.Currency), line.Available())
		case due < credit.PrincipalMin.Minor:
			return nil, fault.FieldErr("method", credit.ReasonInvalidAmount, "Pay Later finances %s or more", credit.PrincipalMin)
		}
	}
	p.CreditLine = line.ID
	return p, nil
}

// dueNow is what paying inst would ask for now, or 0 when the order will refuse the payment.
func dueNow(o *trade.Order, inst trade.Installment) int64 {
	c := o.Contract()
	switch {
	case c == nil:
		return 0
	case inst == trade.Initial && o.State == trade.Confirmed:
		due, _ := c.Contract.Initial()
		return due
	case inst == trade.Balance && o.State != trade.Confirmed:
		return o.Outstanding()
	}
	return 0
}

// refundFinanced routes the part of an order's refund that repays its loans to the lender
// (R11, docs/pay-later.md): the order's own refund has just credited the buyer's refundable
// balance; each loan of the order takes what it needs first (Loan.Refund), moved on by a
// pay_later_refund transfer, and only the rest stays refundable to the buyer.
func (u *unit) refundFinanced(ctx context.Context, o *trade.Order, ts []ledger.Transfer) error {
	refunded := refundedToBuyer(o, ts)
	if refunded <= 0 || !financed(o, ts) {
		return nil
	}
	ct, ok := u.tx.(CreditTx)
	if !ok { // never skip repaying a lender quietly
		return fmt.Errorf("refund of financed order %s: the store keeps no credit data", o.ID)
	}
	loans, err := ct.LoansOfOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	left := usd(refunded)
	for _, x := range loans {
		if !left.IsPositive() {
			break
		}
		if x.State != credit.Disbursed && x.State != credit.Active && x.State != credit.PastDue {
			continue
		}
		line, err := ct.LockCreditLine(ctx, x.LineID)
		if err != nil {
			return err
		}
		l, err := ct.LockLoan(ctx, x.ID)
		if err != nil {
			return err
		}
		prev := l.Version
		split, fx, err := l.Refund(credit.RoleSystem, &line, left, u.now)
		if err != nil {
			return err
		}
		if err := u.writeLoan(ctx, ct, l, prev, line, fx, true); err != nil {
			return err
		}
		left = split.ToBuyer
	}
	return nil
}

// lapseFinanced cancels the accepted loans of the order whose payment can no longer be paid
// (R11): the Pay Later payment expired, or the order closed, before the lender's money arrived.
// The reservation is given back; a disbursement request still open is marked for an operator,
// who tells the lender not to pay (money it sends later is held in suspense). Before the request
// the disbursement timer does the same. It runs in the order's transaction, only when fx expires
// a payment or closes the order.
func (u *unit) lapseFinanced(ctx context.Context, o *trade.Order, fx trade.Effects) error {
	lapsed := o.State.Terminal()
	for _, e := range fx.Events {
		lapsed = lapsed || e.Type == "payment.expired"
	}
	if !lapsed {
		return nil
	}
	ct, ok := u.tx.(CreditTx)
	if !ok {
		return nil // no Pay Later state: no loan to lapse
	}
	loans, err := ct.LoansOfOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, x := range loans {
		if x.State != credit.Agreed {
			continue
		}
		if p := findPayment(o, x.PaymentID); p != nil && p.Status == trade.PaymentPending && !o.State.Terminal() {
			continue
		}
		line, err := ct.LockCreditLine(ctx, x.LineID) // the order is locked: the line, the loan, the request
		if err != nil {
			return err
		}
		l, err := ct.LockLoan(ctx, x.ID)
		if err != nil {
			return err
		}
		prev := l.Version
		fx, err := l.Cancel(credit.RoleSystem, &line, u.now)
		if err != nil {
			return err
		}
		if err := u.writeLoan(ctx, ct, l, prev, line, fx, false); err != nil {
			return err
		}
		if err := u.lapseDisbursement(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// lapseDisbursement marks the cancelled loan's open disbursement request for an operator.
func (u *unit) lapseDisbursement(ctx context.Context, l LoanRecord) error {
	lt, ok := u.tx.(LenderTx)
	if !ok {
		return nil
	}
	r, err := openDisbursement(ctx, lt, l.ID)
	if err != nil || r == nil || r.Status == LenderAttention {
		return err
	}
	cur, err := lt.LockLenderRequest(ctx, r.ID, "")
	if err != nil {
		return err
	}
	cur.Status, cur.LastError = LenderAttention, fmt.Sprintf("the payment of loan %s lapsed (expired, or the order closed) before "+
		"the lender's money arrived, and the loan was cancelled: tell the lender not to pay; money it sends is held in suspense", l.ID)
	if err := lt.UpdateLenderRequest(ctx, cur); err != nil {
		return fmt.Errorf("update lender request: %w", err)
	}
	return lenderAttentionEvent(ctx, u, cur)
}

// financed reports whether money from the Pay Later lender reached the order, or is being
// returned by these transfers.
func financed(o *trade.Order, ts []ledger.Transfer) bool {
	for _, p := range o.Payments {
		if p.Method == payment.PayLater && p.Status == trade.PaymentReceived {
			return true
		}
	}
	lender := credit.LenderClearing()
	for _, t := range ts {
		for _, e := range t.Entries {
			if e.Account == lender && e.Amount > 0 {
				return true
			}
		}
	}
	return false
}

// refundedToBuyer is what ts credit to the buyer's refundable balance as a refund of the order:
// stray money returned is not a refund, unless it is the lender's.
func refundedToBuyer(o *trade.Order, ts []ledger.Transfer) int64 {
	acct := ledger.Account{Kind: ledger.BuyerRefundable, Owner: o.BuyerID, Currency: o.Currency}
	lender := credit.LenderClearing()
	var total int64
	for _, t := range ts {
		fromLender := false
		var credited int64
		for _, e := range t.Entries {
			if e.Account == acct && e.Amount < 0 {
				credited -= e.Amount
			}
			fromLender = fromLender || (e.Account == lender && e.Amount > 0)
		}
		if t.Code == "payment_returned" && !fromLender {
			continue
		}
		total += credited
	}
	return total
}

// creditTimer fires a Pay Later timer: the lender's disbursement, its money overdue, an
// automatic debit or its retry, a charge-off, a monthly statement.
func (s *Service) creditTimer(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	switch credit.TimerKind(t.Kind) {
	case credit.TimerDisburse:
		return s.requestDisbursement(ctx, u, t.Ref)
	case credit.TimerDebit, credit.TimerDebitRetry:
		return s.collect(ctx, u, t)
	case credit.TimerChargeOff:
		return s.chargeOff(ctx, u, t)
	case credit.TimerStatement:
		return s.closeStatement(ctx, u, t)
	case credit.TimerFundsOverdue:
		return s.fundsOverdue(ctx, u, t) // credit_overdue.go
	}
	return "", fmt.Errorf("unknown Pay Later timer kind %q", t.Kind)
}
