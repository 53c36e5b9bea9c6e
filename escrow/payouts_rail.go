package escrow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// The payout rail sends a requested payout to the supplier's designated bank account and says
// what became of it (docs/payouts.md). This machine has no adapter for a real bank: with the
// sandbox on (Options.Sandbox.Enabled) the SandboxPayoutRail below answers the payouts requested
// while it ran, and says so; with it off, payouts wait as requested until an operator records the
// bank's confirmation or return (RecordPayoutResult) — nothing invents an answer.
//
// The rail is never called inside a database transaction. A payout is requested in its own
// transaction (the send outbox is the payouts table); the payout rail's worker claims it with a
// lease, calls Send outside any transaction, and records the answer in a transaction of its
// own. A worker that dies after the rail answered but before the answer was recorded leaves its
// lease to lapse, and another worker asks again with the same Reference.
type PayoutRail interface {
	// Name is who answers, as the payout records it ("rail:<name>").
	Name() string
	// Send asks the rail to send in and reports what became of it: sent (with the bank's
	// reference and value date) or returned (with the bank's reason). An error means no answer
	// (an outage, a timeout, or a wire the bank has not executed yet): the worker asks again
	// later. Asking again with the same Reference must give the same answer as the first time
	// and never send twice; the Reference is unique per payout.
	Send(ctx context.Context, in PayoutInstruction) (trade.PayoutResult, error)
}

// PayoutInstruction is one payout as the rail is asked to send it.
type PayoutInstruction struct {
	Reference  string         `json:"reference"` // the payout's ID: asking again repeats it
	SupplierID string         `json:"supplier_id"`
	Amount     money.Amount   `json:"amount"`
	Method     payment.Method `json:"method"`
	// StatementReference is what the supplier's bank statement shows (trade.PayoutReference).
	StatementReference string    `json:"statement_reference"`
	At                 time.Time `json:"at"` // when the payout was requested
}

// PayoutOptions configure the payout rail. The zero value is the SandboxPayoutRail while the
// sandbox is on, and no rail otherwise: an operator records each answer.
type PayoutOptions struct {
	// Rail sends payouts requested with the sandbox off. Nil: none ships; payouts wait for an
	// operator. (Payouts requested with the sandbox on are answered only by the sandbox rail.)
	Rail PayoutRail
	// OnAnswer is told of each answer the payout rail's worker recorded: sent, returned, retry
	// (no answer: asked again later) or attention (no answer after the last attempt, or an answer
	// that does not fit the payout). Metrics hang here.
	OnAnswer func(result string)
}

// payoutDeps is PayoutOptions with the defaults filled in.
type payoutDeps struct {
	rail     PayoutRail // nil: no rail on this machine; an operator records each answer
	sandbox  bool       // rail is the SandboxPayoutRail: it answers sandbox payouts only
	onAnswer func(result string)
}

func newPayoutDeps(o PayoutOptions, st Store, sbx Sandbox, clock Clock, log *slog.Logger) payoutDeps {
	d := payoutDeps{rail: o.Rail, onAnswer: o.OnAnswer}
	ss, ok := st.(SandboxPayoutStore)
	switch {
	case sbx.Enabled && ok:
		// With the sandbox on, every new payout is a sandbox payout: only the sandbox answers.
		d.rail, d.sandbox = NewSandboxPayoutRail(ss, clock), true
		log.Info("payout rail: the sandbox (simulated answers, no money moves); make a supplier's payouts return with POST /v1/payouts/sandbox-rail")
	case d.rail != nil:
		log.Info("payout rail: " + d.rail.Name())
	default:
		log.Warn("payout rail: none on this machine; payouts wait for an operator to record the bank's answer (POST /v1/payouts/{id}/result)")
	}
	return d
}

// SandboxPayoutStore keeps the sandbox payout rail's settings and answers in the database, so
// that every process shares them and they survive a restart. The store implements it.
type SandboxPayoutStore interface {
	// SetSandboxPayoutReturns makes the sandbox return the supplier's payouts from now on, or
	// send them.
	SetSandboxPayoutReturns(ctx context.Context, supplierID string, ret bool, at time.Time) error
	// SandboxPayoutReturns reports whether the sandbox returns the supplier's payouts.
	SandboxPayoutReturns(ctx context.Context, supplierID string) (bool, error)
	// SandboxPayoutAnswer answers in once, in one transaction: the answer stored for its
	// Reference if there is one, else returned if the supplier's payouts are set to return,
	// sent otherwise, stored for good.
	SandboxPayoutAnswer(ctx context.Context, in PayoutInstruction, sent, returned trade.PayoutResult, at time.Time) (trade.PayoutResult, error)
}

// SandboxPayoutRail is a simulated payout rail, used only with the sandbox on: it sends every
// payout at once unless told to return a supplier's, moves no money, and its answers are
// labelled sandbox in the API and the portal. It keeps each reference's answer in the database,
// so a payout asked again — after a worker died between the answer and its record, or from
// another process — gets the same answer, as PayoutRail requires.
type SandboxPayoutRail struct {
	store SandboxPayoutStore
	clock Clock
}

// NewSandboxPayoutRail returns a sandbox payout rail over st that sends every payout until told
// otherwise.
func NewSandboxPayoutRail(st SandboxPayoutStore, clock Clock) *SandboxPayoutRail {
	if clock == nil {
		clock = SystemClock{}
	}
	return &SandboxPayoutRail{store: st, clock: clock}
}

var _ PayoutRail = (*SandboxPayoutRail)(nil)

// Name is "sandbox".
func (r *SandboxPayoutRail) Name() string { return trade.SandboxRail }

// SandboxReturnReason is why the sandbox returns a payout: ISO 20022's AC04, simulated.
const SandboxReturnReason = "AC04 closed account number (sandbox: simulated return)"

// Send sends in today, with a made-up bank reference, or returns it when the supplier's payouts
// are set to return; the same reference gets the same answer, whenever and by whichever process
// it is asked.
func (r *SandboxPayoutRail) Send(ctx context.Context, in PayoutInstruction) (trade.PayoutResult, error) {
	now := r.clock.Now()
	h := sha256.Sum256([]byte(in.Reference))
	sent := trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: in.Amount, ValueDate: trade.Day(now),
		BankReference: "SANDBOX-" + strings.ToUpper(hex.EncodeToString(h[:]))[:12]}
	returned := trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: in.Amount, ValueDate: trade.Day(now),
		Reason: SandboxReturnReason}
	return r.store.SandboxPayoutAnswer(ctx, in, sent, returned, now)
}

// SetReturns makes the supplier's sandbox payouts come back (a closed account) or go through
// again, for every process sharing the database.
func (r *SandboxPayoutRail) SetReturns(ctx context.Context, supplierID string, ret bool) error {
	if supplierID == "" || len(supplierID) > trade.TextMax {
		return fault.FieldErr("supplier_id", "invalid_supplier_id", "name the supplier whose payouts the sandbox returns or sends")
	}
	return r.store.SetSandboxPayoutReturns(ctx, supplierID, ret, r.clock.Now())
}

// Returns reports whether the supplier's sandbox payouts come back.
func (r *SandboxPayoutRail) Returns(ctx context.Context, supplierID string) (bool, error) {
	return r.store.SandboxPayoutReturns(ctx, supplierID)
}

// PayoutRail returns the rail that answers payouts on this machine, and whether it is the
// sandbox; nil when an operator records each answer.
func (s *Service) PayoutRail() (PayoutRail, bool) { return s.pays.rail, s.pays.sandbox }

// SandboxPayoutRail returns the sandbox payout rail while the sandbox runs.
func (s *Service) SandboxPayoutRail() (*SandboxPayoutRail, bool) {
	r, ok := s.pays.rail.(*SandboxPayoutRail)
	return r, ok && s.pays.sandbox
}
