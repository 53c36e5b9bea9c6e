package credit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// State is where a loan is.
type State string

// The loan states. Terminal: paid_off, charged_off, cancelled.
const (
	AgreementPending State = "agreement_pending" // offered; the buyer has not accepted
	Agreed           State = "agreed"            // accepted; credit reserved; the lender pays in 1–3 working days
	Disbursed        State = "disbursed"         // the lender paid into the order's escrow; nothing repaid yet
	Active           State = "active"            // repaying on schedule
	PastDue          State = "past_due"          // a debit failed; the line is frozen
	PaidOff          State = "paid_off"
	ChargedOff       State = "charged_off" // the lender gave up collecting through the platform
	LoanCancelled    State = "cancelled"   // withdrawn before the lender paid
)

// States lists every loan state in lifecycle order.
var States = []State{AgreementPending, Agreed, Disbursed, Active, PastDue, PaidOff, ChargedOff, LoanCancelled}

// Terminal reports whether no transition leaves s.
func (s State) Terminal() bool { return s == PaidOff || s == ChargedOff || s == LoanCancelled }

// Command is what happens to a loan: one verb per transition, used in the API, UI and docs.
type Command string

// The commands.
const (
	CmdAccept    Command = "accept"     // the buyer accepts the agreement
	CmdCancel    Command = "cancel"     // the agreement is withdrawn before the lender pays
	CmdDisburse  Command = "disburse"   // the lender pays into the order's escrow
	CmdDebit     Command = "debit"      // the automatic debit of what is due, with its outcome
	CmdPayOff    Command = "pay_off"    // the buyer repays everything early
	CmdRefund    Command = "refund"     // a refund of the financed order repays the loan first
	CmdChargeOff Command = "charge_off" // the lender writes off a past-due loan
)

// Commands lists every command.
var Commands = []Command{CmdAccept, CmdCancel, CmdDisburse, CmdDebit, CmdPayOff, CmdRefund, CmdChargeOff}

// Transition is one row of the loan table: in state From, command On may be issued by one of
// Actors and leads to one of To; where To has several states the outcome picks one.
type Transition struct {
	From   State
	On     Command
	To     []State
	Actors []Role
}

// Allows reports whether r may issue the row's command.
func (t Transition) Allows(r Role) bool { return slices.Contains(t.Actors, r) }

var (
	buyerOnly   = []Role{RoleBuyer}
	collectors  = []Role{RoleLender, RoleSystem}
	withdrawers = []Role{RoleBuyer, RoleSystem, RoleAdmin}
	refunders   = []Role{RoleSystem, RoleAdmin}
	writersOff  = []Role{RoleLender, RoleSystem, RoleAdmin} // the system: the charge-off timer
)

func to(s ...State) []State { return s }

// Table is the loan lifecycle: every allowed (state, command) pair. Anything absent is refused
// with transition_not_allowed. A debit or a refund may leave the state as it is.
var Table = []Transition{
	{AgreementPending, CmdAccept, to(Agreed), buyerOnly},
	{AgreementPending, CmdCancel, to(LoanCancelled), withdrawers},
	{Agreed, CmdCancel, to(LoanCancelled), withdrawers},
	{Agreed, CmdDisburse, to(Disbursed), collectors},

	{Disbursed, CmdDebit, to(Active, PastDue, PaidOff), collectors},
	{Active, CmdDebit, to(Active, PastDue, PaidOff), collectors},
	{PastDue, CmdDebit, to(Active, PastDue, PaidOff), collectors},

	{Disbursed, CmdPayOff, to(PaidOff), buyerOnly},
	{Active, CmdPayOff, to(PaidOff), buyerOnly},
	{PastDue, CmdPayOff, to(PaidOff), buyerOnly},

	{Disbursed, CmdRefund, to(Disbursed, PaidOff), refunders},
	{Active, CmdRefund, to(Active, PaidOff), refunders},
	{PastDue, CmdRefund, to(PastDue, Active, PaidOff), refunders},

	{PastDue, CmdChargeOff, to(ChargedOff), writersOff},
}

// Lookup returns the row for (s, c), if the table has one.
func Lookup(s State, c Command) (Transition, bool) {
	for _, t := range Table {
		if t.From == s && t.On == c {
			return t, true
		}
	}
	return Transition{}, false
}

// Mermaid renders the table as a Mermaid state diagram; docs/pay-later.md embeds its output.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n    [*] --> agreement_pending: offer\n")
	for _, t := range Table {
		for _, s := range t.To {
			if s != t.From {
				fmt.Fprintf(&b, "    %s --> %s: %s\n", t.From, s, t.On)
			}
		}
	}
	for _, s := range States {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}

// PostingsMax bounds a loan's postings: a draw, per installment a fee and a payment, the
// first-month credit, and room for partial refunds. A command that would pass it is refused.
const PostingsMax = 64

// PostingKind is what a posting on the loan's account is.
type PostingKind string

// The posting kinds. Draws and fees raise what the buyer owes; credits, payments and refunds
// lower it.
const (
	PostDraw    PostingKind = "draw"
	PostFee     PostingKind = "fee"
	PostCredit  PostingKind = "credit"
	PostPayment PostingKind = "payment"
	PostRefund  PostingKind = "refund" // part of an order refund, paid to the lender
	// PostChargeOff takes what is left off the platform's book when the lender charges the loan
	// off: the debt stays with the lender, who collects it directly; the loan book moves it to
	// the lender's credit loss.
	PostChargeOff PostingKind = "charge_off"
)

// Posting is one line of the loan's account, as the monthly statement shows it (R11).
type Posting struct {
	Seq         int          `json:"seq"`
	At          time.Time    `json:"at"`
	Kind        PostingKind  `json:"kind"`
	Installment int          `json:"installment,omitempty"`
	Amount      money.Amount `json:"amount"` // positive; Kind says which way it moves the balance
}

// Signed returns the posting's effect on what the buyer owes.
func (p Posting) Signed() money.Amount {
	if p.Kind == PostDraw || p.Kind == PostFee {
		return p.Amount
	}
	return p.Amount.Neg()
}

// Loan is one financed order payment: the agreement, the live schedule and the loan's account.
type Loan struct {
	ID           string        `json:"id"`
	LineID       string        `json:"line_id"`
	BuyerID      string        `json:"buyer_id"`
	OrderID      string        `json:"order_id"`
	LenderID     string        `json:"lender_id"`
	State        State         `json:"state"`
	Agreement    Agreement     `json:"agreement"`
	Installments []Installment `json:"installments"` // the live schedule
	Postings     []Posting     `json:"postings"`
	DisbursedAt  time.Time     `json:"disbursed_at"`
	// DisbursementRef names the money that disbursed the loan: the rail's ID of the lender's
	// credit, or the sandbox's for simulated money.
	DisbursementRef string `json:"disbursement_reference,omitempty"`
	// Sandbox marks a loan the sandbox disbursed: its money is simulated, taken from and repaid
	// to the sandbox's clearing account (Clearing).
	Sandbox  bool      `json:"sandbox" doc:"True when the sandbox disbursed this loan (serve --sandbox): its money is simulated, no real money moved."`
	ClosedAt time.Time `json:"closed_at"`
	Version  int       `json:"version"`
}

// NewLoan records an offered agreement on a line for an order, awaiting the buyer's acceptance.
func NewLoan(id string, line Line, orderID, lenderID string, a Agreement) (*Loan, error) {
	switch {
	case id == "" || orderID == "" || lenderID == "":
		return nil, fault.New(fault.Invalid, "invalid_loan", "a loan needs an ID, an order and a lender")
	case line.Currency != USD:
		return nil, fault.FieldErr("currency", ReasonUSDOnly, "Pay Later is available in USD only")
	case a.Principal.Currency != USD:
		return nil, fault.FieldErr("principal", ReasonUSDOnly, "Pay Later is available in USD only")
	case len(a.Installments) != a.TermMonths || a.TermMonths < TermMonthsMin || a.TermMonths > TermMonthsMax:
		return nil, fault.FieldErr("term_months", ReasonInvalidTerm, "the agreement's schedule does not match its term")
	}
	return &Loan{ID: id, LineID: line.ID, BuyerID: line.BuyerID, OrderID: orderID, LenderID: lenderID,
		State: AgreementPending, Agreement: a, Installments: slices.Clone(a.Installments), Version: 1}, nil
}

// Balance is what the buyer owes on the loan now: draws and fees charged, less credits,
// payments and refunds. It is the balance of the loan's LoanReceivable account.
func (l *Loan) Balance() money.Amount {
	b := usd(0)
	for _, p := range l.Postings {
		b = sum(b, p.Signed())
	}
	return b
}

// PrincipalOutstanding is the principal not yet repaid: what the loan uses of its line.
func (l *Loan) PrincipalOutstanding() money.Amount {
	if l.DisbursedAt.IsZero() || l.State == LoanCancelled {
		return usd(0)
	}
	p := usd(0)
	for _, in := range l.Installments {
		p = sum(p, in.principalLeft())
	}
	return p
}

// Money received on an installment repays its principal first, then its fee: a partial
// repayment frees credit on the line before it pays fees.
func (in Installment) netFee() money.Amount    { return sum(in.Fee, in.Credit.Neg()) }
func (in Installment) remaining() money.Amount { return sum(in.Total, in.Paid.Neg()) }
func (in Installment) principalLeft() money.Amount {
	return sum(in.Principal, in.Paid.Min(in.Principal).Neg())
}

// started reports whether installment n's month has begun at now, so its fee is owed: month 1
// begins when the money is lent, month n on the day after installment n−1's due date.
func (l *Loan) started(n int, now time.Time) bool {
	if n == 1 {
		return true
	}
	return !now.Before(l.Installments[n-2].DueDate.AddDate(0, 0, 1))
}

// step is one transition in progress: it accumulates the effects on copies of the loan and
// the line, which replace the originals only when it succeeds.
type step struct {
	l    *Loan
	line *Line
	by   Role
	now  time.Time
	fx   Effects
	n    int
}

// apply runs the transition c: the table and the actor first, then f on copies of the loan and
// the line. On success the copies replace l and line; on error both are left unchanged.
func (l *Loan) apply(c Command, by Role, line *Line, now time.Time, f func(*step) error) (Effects, error) {
	t, ok := Lookup(l.State, c)
	if !ok {
		return Effects{}, fault.New(fault.Conflict, ReasonNotAllowed, "cannot %s a loan that is %s",
			strings.ReplaceAll(string(c), "_", " "), strings.ReplaceAll(string(l.State), "_", " "))
	}
	if !t.Allows(by) {
		return Effects{}, fault.New(fault.Forbidden, ReasonRoleNotAllowed, "a %s cannot %s a loan", by, strings.ReplaceAll(string(c), "_", " "))
	}
	if line == nil || line.ID != l.LineID {
		return Effects{}, fault.New(fault.Internal, "credit_line_mismatch", "loan %s is not on this line", l.ID)
	}
	ln := *line
	s := &step{l: l.clone(), line: &ln, by: by, now: now}
	if err := f(s); err != nil {
		return Effects{}, err
	}
	if len(s.l.Postings) > PostingsMax {
		return Effects{}, fault.New(fault.Conflict, "loan_postings_limit", "loan %s cannot take more than %d postings", l.ID, PostingsMax)
	}
	if !slices.Contains(t.To, s.l.State) {
		panic(fmt.Sprintf("credit: %s from %s led to %s, not in table %v", c, t.From, s.l.State, t.To))
	}
	s.l.assert()
	s.line.assert()
	s.l.Version++
	*l, *line = *s.l, *s.line
	return s.fx, nil
}

func (l *Loan) clone() *Loan {
	c := *l
	c.Installments = slices.Clone(l.Installments)
	c.Postings = slices.Clone(l.Postings)
	return &c
}

// assert panics if the loan's own accounts disagree: only a bug can do that.
func (l *Loan) assert() {
	owed := usd(0)
	for _, in := range l.Installments {
		if in.Paid.IsNegative() || in.Paid.Minor > in.Total.Minor || in.Total != sum(in.Principal, in.netFee()) {
			panic(fmt.Sprintf("credit: loan %s installment %d is inconsistent: %+v", l.ID, in.N, in))
		}
		if in.Status == Billed {
			owed = sum(owed, in.remaining())
		} else {
			owed = sum(owed, in.principalLeft())
		}
	}
	if !l.DisbursedAt.IsZero() && l.State != ChargedOff && l.Balance() != owed {
		panic(fmt.Sprintf("credit: loan %s balance %s, schedule owes %s", l.ID, l.Balance(), owed))
	}
}

// id returns the next deterministic ID of this transition: a retried command, replayed from
// the same stored version of the loan, produces the same IDs, which the store's unique keys
// then refuse to post twice.
func (s *step) id(prefix string) string {
	s.n++
	return fmt.Sprintf("%s_%s_v%d_%d", prefix, s.l.ID, s.l.Version, s.n)
}

func (s *step) event(typ string, payload map[string]any) {
	payload["loan_id"], payload["by"] = s.l.ID, s.by
	s.fx.Events = append(s.fx.Events, Event{Type: typ, Payload: payload})
}

func (s *step) timer(kind TimerKind, key string, due time.Time) {
	s.fx.Timers = append(s.fx.Timers, Timer{Key: s.l.ID + "/" + key, Kind: kind, LoanID: s.l.ID, DueAt: due})
}

// post appends a posting to the loan's account and its mirror in the loan book.
func (s *step) post(kind PostingKind, installment int, amount money.Amount) {
	if !amount.IsPositive() {
		return
	}
	s.l.Postings = append(s.l.Postings, Posting{Seq: len(s.l.Postings) + 1, At: s.now, Kind: kind,
		Installment: installment, Amount: amount})
	s.fx.LoanBook = append(s.fx.LoanBook, bookTransfer(s.id("plb"), s.l, kind, installment, amount, s.now))
}
