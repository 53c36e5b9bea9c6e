package escrow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Payouts: money released to a supplier (R12) is paid out to its bank, after the platform has
// taken back what the supplier owes it from a refund paid by the guarantee fund (R14). See
// docs/payouts.md.

// PayoutDelay is how long after 00:00 UTC the daily automatic payouts run: the day's releases
// and the bank statements booked for it are in by then.
const PayoutDelay = time.Hour

// PayoutReleasesMax bounds the releases listed as making up one payable balance.
const PayoutReleasesMax = 50

// PayoutReader reads payouts and what they are paid from. The store's readers and transactions
// implement it beside Reader; the payout use cases reach it by a type assertion, like Pay Later.
type PayoutReader interface {
	Payout(ctx context.Context, id string) (trade.Payout, error)
	// Payouts lists payouts newest first (by ID, descending), narrowed by f.
	Payouts(ctx context.Context, f PayoutFilter) ([]trade.Payout, error)
	// PayableCredits lists the credits (releases) to a supplier's payable account in a
	// currency, newest first, at most limit (1..PayoutReleasesMax).
	PayableCredits(ctx context.Context, supplierID string, c money.Currency, limit int) ([]trade.PayableCredit, error)
	// SupplierBalances returns the signed balances of a supplier's payable and receivable
	// accounts, by account ID: every currency it was ever posted in.
	SupplierBalances(ctx context.Context, supplierID string) (ledger.Balances, error)
	// LiveTimer returns the pending or claimed timer with key, or ErrNotFound.
	LiveTimer(ctx context.Context, key string) (StoredTimer, error)
	// PayoutsInTransit sums the supplier's requested payouts per currency: what the rail was
	// told to send and has not confirmed.
	PayoutsInTransit(ctx context.Context, supplierID string) (map[money.Currency]int64, error)
	// OpenPayoutFlag returns the supplier's flag no admin has cleared, or ErrNotFound.
	OpenPayoutFlag(ctx context.Context, supplierID string) (trade.PayoutAccountFlag, error)
}

// PayoutTx writes payouts in a transaction. Balance rows are locked in account-ID order, the
// order PostTransfer locks them in, so a payout and a posting never wait for each other in a
// cycle; a payout's row is locked before the balances its answer moves.
type PayoutTx interface {
	PayoutReader
	// LockBalance reads an account's signed balance and locks its row until commit; 0 (and no
	// lock) for an account never posted to.
	LockBalance(ctx context.Context, accountID string) (int64, error)
	// LockLiveTimer is LiveTimer that locks the timer's row until commit.
	LockLiveTimer(ctx context.Context, key string) (StoredTimer, error)
	InsertPayout(ctx context.Context, p trade.Payout) error // ErrDuplicate
	// LockPayout reads a payout and locks it until commit. With an owner it must be requested,
	// not waiting for an operator, and leased by that owner, else ErrNotFound (another worker
	// took it over, or its answer is recorded).
	LockPayout(ctx context.Context, id, owner string) (trade.Payout, error)
	// UpdatePayout writes a locked payout's lifecycle — status, the rail's answer, the outbox's
	// attempts, schedule, error and attention — and clears its lease. The store refuses any
	// other change.
	UpdatePayout(ctx context.Context, p trade.Payout) error
	// FlagPayoutAccount stores f as the supplier's open flag; nothing when one is open already.
	FlagPayoutAccount(ctx context.Context, f trade.PayoutAccountFlag) error
	// LockPayoutFlag reads the supplier's open flag and locks it until commit, or ErrNotFound.
	LockPayoutFlag(ctx context.Context, supplierID string) (trade.PayoutAccountFlag, error)
	// ClearPayoutFlag records that the locked open flag f was cleared (ClearedAt, ClearedBy).
	ClearPayoutFlag(ctx context.Context, f trade.PayoutAccountFlag) error
}

// PayoutClaimer is the store's claim on requested payouts, in a transaction of its own.
type PayoutClaimer interface {
	// ClaimPayouts leases up to limit requested payouts due at now (next attempt reached, not
	// waiting for an operator, no live lease), requested with the sandbox on or not as sandbox
	// says, to owner until now+lease, counting an attempt on each. Concurrent claimers never get
	// the same payout while its lease runs (SKIP LOCKED on PostgreSQL; the single writer on
	// SQLite).
	ClaimPayouts(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int, sandbox bool) ([]trade.Payout, error)
}

// PayoutFilter selects payouts; empty fields match every payout. A page is newest first (by
// ID, descending: IDs are time-ordered), after the cursor Before; with OldestFirst it is oldest
// first, after the cursor After (the portal's Operations page: what waits longest first).
type PayoutFilter struct {
	SupplierID  string
	Status      trade.PayoutStatus
	Attention   bool   // only requested payouts the rail's worker gave up on
	Before      string // cursor, newest first: the last ID of the previous page
	OldestFirst bool   // list oldest first
	After       string // cursor, oldest first: the last ID of the previous page
	Limit       int    // 1..PageSizeMax
}

func (u *unit) payoutTx() (PayoutTx, error) {
	pt, ok := u.tx.(PayoutTx)
	if !ok {
		return nil, fault.New(fault.Internal, "payouts_unavailable", "this store does not keep payouts")
	}
	return pt, nil
}

func payoutReader(r Reader) (PayoutReader, error) {
	pr, ok := r.(PayoutReader)
	if !ok {
		return nil, fault.New(fault.Internal, "payouts_unavailable", "this store does not keep payouts")
	}
	return pr, nil
}

// PayOut pays out a supplier's payable balance in one currency now (admin): it nets the
// supplier's debt first and asks the payout rail to send the rest, in one transaction with the
// payout's record and event; the money waits in payouts_in_transit until the rail's answer is
// recorded. Nothing payable is refused (nothing_to_pay_out), and so is sending to an account a
// returned payout flagged (payout_account_flagged).
func (s *Service) PayOut(ctx context.Context, a trade.Actor, key, supplierID string, c money.Currency) (trade.Payout, error) {
	if err := requireAdmin(a); err != nil {
		return trade.Payout{}, err
	}
	if supplierID == "" || len(supplierID) > trade.TextMax {
		return trade.Payout{}, fault.FieldErr("supplier_id", "invalid_supplier_id", "name the supplier to pay out")
	}
	if !c.Valid() {
		return trade.Payout{}, fault.FieldErr("currency", "invalid_currency", "give an ISO 4217 currency code")
	}
	return run(ctx, s, a, key, []any{"pay_out", supplierID, c}, func(u *unit) (trade.Payout, error) {
		return s.payOut(ctx, u, supplierID, c, trade.PayoutByAdmin)
	})
}

func supplierNotFound() error {
	return &fault.Error{Code: fault.NotFound, Reason: "supplier_not_found", Message: "no such supplier", Field: "supplier_id"}
}

// payoutSupplier loads a supplier for a payout command.
func payoutSupplier(ctx context.Context, u *unit, supplierID string) (trade.Org, error) {
	sup, err := u.tx.Org(ctx, supplierID)
	if errors.Is(err, ErrNotFound) || err == nil && sup.Kind != trade.KindSupplier {
		return trade.Org{}, supplierNotFound()
	}
	if err != nil {
		return trade.Org{}, fmt.Errorf("load supplier %s: %w", supplierID, err)
	}
	return sup, nil
}

// payOut locks the supplier's balances, decides the payout and writes it. A refusal comes before
// anything is written; a failure after is dirty, so a timer never records it as skipped.
func (s *Service) payOut(ctx context.Context, u *unit, supplierID string, c money.Currency, by trade.PayoutTrigger) (trade.Payout, error) {
	pt, err := u.payoutTx()
	if err != nil {
		return trade.Payout{}, err
	}
	sup, err := payoutSupplier(ctx, u, supplierID)
	if err != nil {
		return trade.Payout{}, err
	}
	method, err := trade.PayoutMethod(c)
	if err != nil {
		return trade.Payout{}, err
	}
	// An admin's payout empties the balance the automatic payout would pay: its pending timer
	// is retired. The timer row is locked before the balance rows, in the order a release and
	// the timer worker take them.
	key := trade.PayoutTimerKey(sup.ID, c)
	live, err := pt.LockLiveTimer(ctx, key)
	retire := err == nil && live.State == TimerPending && by == trade.PayoutByAdmin
	if err != nil && !errors.Is(err, ErrNotFound) {
		return trade.Payout{}, fmt.Errorf("lock payout timer %s: %w", key, err)
	}
	rail := string(method)
	if s.sbx.Enabled {
		rail = trade.SandboxRail
	}
	pay, rec := trade.PayableAccount(sup.ID, c).ID(), trade.ReceivableAccount(sup.ID, c).ID()
	ids := []string{trade.InTransitAccount(rail, c).ID(), pay, rec}
	slices.Sort(ids)
	signed := map[string]int64{}
	for _, id := range ids {
		if signed[id], err = pt.LockBalance(ctx, id); err != nil {
			return trade.Payout{}, fmt.Errorf("lock balance %s: %w", id, err)
		}
	}
	// Read after the payable's lock: a return that flags the account posts to the payable
	// first, so a payout waiting on that lock sees its flag.
	_, err = pt.OpenPayoutFlag(ctx, sup.ID)
	flagged := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return trade.Payout{}, fmt.Errorf("read payout account flag: %w", err)
	}
	p, transfers, err := trade.PlanPayout(trade.PayoutPlan{ID: newID("po"), SupplierID: sup.ID, Currency: c,
		Payable: ledger.Natural(ledger.SupplierPayable, signed[pay]), Receivable: ledger.Natural(ledger.SupplierReceivable, signed[rec]),
		Trigger: by, Sandbox: s.sbx.Enabled, Flagged: flagged, Now: u.now})
	if err != nil {
		return trade.Payout{}, err
	}
	for _, t := range transfers {
		if err := u.tx.PostTransfer(ctx, t); err != nil {
			return trade.Payout{}, &dirtyError{postError(t, err)}
		}
	}
	if err := pt.InsertPayout(ctx, p); err != nil {
		return trade.Payout{}, &dirtyError{fmt.Errorf("insert payout: %w", err)}
	}
	if retire {
		if err := u.tx.RetireTimers(ctx, sup.ID, []string{key}); err != nil {
			return trade.Payout{}, &dirtyError{fmt.Errorf("retire payout timer: %w", err)}
		}
	}
	if err := u.appendEvent(ctx, sup.ID, []string{sup.ID}, "payout."+string(p.Status), payoutEvent(p)); err != nil {
		return trade.Payout{}, &dirtyError{err}
	}
	return p, nil
}

// payoutTimer is the automatic payout: the supplier's whole payable balance in the timer's
// currency, as it is when the timer fires. Nothing to pay (an admin paid it out already) is a
// refusal the worker records as skipped.
func (s *Service) payoutTimer(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	p, err := s.payOut(ctx, u, t.OrderID, money.Currency(t.Ref), trade.PayoutAutomatic)
	if err != nil {
		return "", err
	}
	return "fired: " + p.ID, nil
}

// schedulePayouts sets the automatic payout of every supplier payable that transfers credit (a
// release), in the release's transaction and before its transfers post, so that the timer row
// is locked before the balance rows, in the order the timer worker takes them.
func (u *unit) schedulePayouts(ctx context.Context, ts []ledger.Transfer) error {
	var done []string
	for _, t := range ts {
		for _, e := range t.Entries {
			if e.Account.Kind != ledger.SupplierPayable || e.Amount >= 0 {
				continue
			}
			key := trade.PayoutTimerKey(e.Account.Owner, e.Account.Currency)
			if slices.Contains(done, key) {
				continue
			}
			done = append(done, key)
			if err := u.schedulePayout(ctx, e.Account.Owner, e.Account.Currency); err != nil {
				return err
			}
		}
	}
	return nil
}

// schedulePayout keeps one live automatic-payout timer per supplier and currency, due at the
// next 00:00 UTC plus PayoutDelay. A pending one due no later is kept: it is locked now, so it
// fires after this release commits and pays it too. A claimed one may already have read the
// balance, so it is replaced: if its worker has not locked it yet, it finds it gone and the new
// one pays everything; if it has, this waits for it to finish and the new one pays the rest.
func (u *unit) schedulePayout(ctx context.Context, supplierID string, c money.Currency) error {
	pt, err := u.payoutTx()
	if err != nil {
		return err
	}
	key, due := trade.PayoutTimerKey(supplierID, c), trade.NextPayoutAt(u.now, PayoutDelay)
	live, err := pt.LockLiveTimer(ctx, key)
	switch {
	case err == nil && live.State == TimerPending && !live.DueAt.After(due):
		return nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return fmt.Errorf("lock payout timer %s: %w", key, err)
	}
	if err := u.tx.PutTimer(ctx, trade.Timer{Key: key, Kind: trade.TimerPayout, OrderID: supplierID, DueAt: due, Ref: string(c)}); err != nil {
		return fmt.Errorf("put payout timer: %w", err)
	}
	return nil
}

// payoutScope resolves whose payouts a may read: a supplier its own (naming another supplier
// finds nothing), an admin any supplier's, or every supplier's when supplierID is empty.
func payoutScope(a trade.Actor, supplierID string) (string, error) {
	switch a.Role {
	case trade.RoleSupplier:
		if supplierID != "" && supplierID != a.OrgID {
			return "", supplierNotFound()
		}
		return a.OrgID, nil
	case trade.RoleAdmin, trade.RoleSystem:
		return supplierID, nil
	}
	return "", fault.New(fault.Forbidden, "role_not_allowed", "only the supplier and admins may see payouts")
}

// Payouts lists payouts newest first: a supplier its own, an admin every supplier's or one's.
func (s *Service) Payouts(ctx context.Context, a trade.Actor, f PayoutFilter) ([]trade.Payout, error) {
	sup, err := payoutScope(a, f.SupplierID)
	if err != nil {
		return nil, err
	}
	f.SupplierID = sup
	if f.Limit <= 0 || f.Limit > PageSizeMax {
		f.Limit = PageSizeMax
	}
	var out []trade.Payout
	err = s.store.Read(ctx, func(r Reader) error {
		pr, err := payoutReader(r)
		if err != nil {
			return err
		}
		out, err = pr.Payouts(ctx, f)
		return err
	})
	return out, err
}

// Payout returns one payout: to its supplier and to admins; anyone else's is not found.
func (s *Service) Payout(ctx context.Context, a trade.Actor, id string) (trade.Payout, error) {
	if _, err := payoutScope(a, ""); err != nil {
		return trade.Payout{}, err
	}
	var p trade.Payout
	err := s.store.Read(ctx, func(r Reader) error {
		pr, err := payoutReader(r)
		if err != nil {
			return err
		}
		p, err = pr.Payout(ctx, id)
		return err
	})
	if err == nil && a.Role == trade.RoleSupplier && p.SupplierID != a.OrgID {
		err = ErrNotFound
	}
	return p, notFound(err, "payout")
}

// PayoutBalance is what the platform owes a supplier in one currency and what the supplier owes
// it, with the next automatic payout and the releases the balance is made of.
type PayoutBalance struct {
	SupplierID   string                `json:"supplier_id"`
	Currency     money.Currency        `json:"currency"`
	Payable      int64                 `json:"payable" doc:"Released to the supplier, not yet paid out (R12)."`
	Receivable   int64                 `json:"receivable" doc:"What the supplier owes from refunds paid by the guarantee fund (R14); the next payout nets it first."`
	InTransit    int64                 `json:"in_transit" doc:"Requested payouts the rail has not confirmed sent yet."`
	Flagged      bool                  `json:"flagged,omitempty" doc:"A payout was returned: nothing is sent until an admin clears the supplier's account."`
	Method       payment.Method        `json:"method,omitempty" doc:"The rail a payout in this currency leaves by."`
	NextPayoutAt *time.Time            `json:"next_payout_at,omitempty" doc:"When the automatic payout runs; absent when none is scheduled."`
	Releases     []trade.PayableCredit `json:"releases" doc:"The releases the payable balance is made of, newest first: payouts pay the oldest first."`
	ReleasesMore bool                  `json:"releases_more,omitempty" doc:"More releases make up the balance than are listed."`
}

// ToSend is what the next payout would send after netting the debt: nothing while the
// supplier's account is flagged.
func (b PayoutBalance) ToSend() int64 {
	if b.Flagged {
		return 0
	}
	return max(0, b.Payable-b.Receivable)
}

// PayoutBalances returns a supplier's balances, one per currency it was ever paid or owed in,
// sorted by currency: to the supplier itself and to admins.
func (s *Service) PayoutBalances(ctx context.Context, a trade.Actor, supplierID string) ([]PayoutBalance, error) {
	sup, err := payoutScope(a, supplierID)
	if err != nil {
		return nil, err
	}
	if sup == "" {
		return nil, fault.FieldErr("supplier_id", "invalid_supplier_id", "name the supplier")
	}
	var out []PayoutBalance
	err = s.store.Read(ctx, func(r Reader) error {
		pr, err := payoutReader(r)
		if err != nil {
			return err
		}
		if o, err := r.Org(ctx, sup); errors.Is(err, ErrNotFound) || err == nil && o.Kind != trade.KindSupplier {
			return supplierNotFound()
		} else if err != nil {
			return err
		}
		bs, err := pr.SupplierBalances(ctx, sup)
		if err != nil {
			return err
		}
		if out, err = payoutBalances(ctx, pr, sup, bs); err != nil {
			return err
		}
		return payoutExtras(ctx, pr, sup, out)
	})
	return out, err
}

// payoutExtras adds to each balance what is in transit to the supplier and whether its account
// is flagged.
func payoutExtras(ctx context.Context, pr PayoutReader, sup string, bs []PayoutBalance) error {
	transit, err := pr.PayoutsInTransit(ctx, sup)
	if err != nil {
		return err
	}
	_, err = pr.OpenPayoutFlag(ctx, sup)
	flagged := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for i := range bs {
		bs[i].InTransit, bs[i].Flagged = transit[bs[i].Currency], flagged
	}
	return nil
}

func payoutBalances(ctx context.Context, pr PayoutReader, sup string, bs ledger.Balances) ([]PayoutBalance, error) {
	by := map[money.Currency]*PayoutBalance{}
	var curs []money.Currency
	for id, signed := range bs {
		acc, err := ledger.ParseAccountID(id)
		if err != nil || acc.Owner != sup {
			continue
		}
		b, ok := by[acc.Currency]
		if !ok {
			b = &PayoutBalance{SupplierID: sup, Currency: acc.Currency, Releases: []trade.PayableCredit{}}
			by[acc.Currency] = b
			curs = append(curs, acc.Currency)
		}
		switch acc.Kind {
		case ledger.SupplierPayable:
			b.Payable = ledger.Natural(acc.Kind, signed)
		case ledger.SupplierReceivable:
			b.Receivable = ledger.Natural(acc.Kind, signed)
		}
	}
	slices.Sort(curs)
	out := make([]PayoutBalance, 0, len(curs))
	for _, c := range curs {
		b := by[c]
		if m, err := trade.PayoutMethod(c); err == nil {
			b.Method = m
		}
		if t, err := pr.LiveTimer(ctx, trade.PayoutTimerKey(sup, c)); err == nil {
			due := t.DueAt
			b.NextPayoutAt = &due
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if b.Payable > 0 {
			credits, err := pr.PayableCredits(ctx, sup, c, PayoutReleasesMax)
			if err != nil {
				return nil, err
			}
			b.Releases = trade.PayableComposition(b.Payable, credits)
			covered := int64(0)
			for _, r := range b.Releases {
				covered += r.Unpaid
			}
			b.ReleasesMore = covered < b.Payable
		}
		out = append(out, *b)
	}
	return out, nil
}

// sortedCurrencies lists the currencies in which bs has the supplier owed something (a positive
// payable), sorted.
func sortedCurrencies(bs ledger.Balances, supplierID string) []money.Currency {
	var out []money.Currency
	for id, signed := range bs {
		acc, err := ledger.ParseAccountID(id)
		if err == nil && acc.Kind == ledger.SupplierPayable && acc.Owner == supplierID && ledger.Natural(acc.Kind, signed) > 0 {
			out = append(out, acc.Currency)
		}
	}
	slices.Sort(out)
	return out
}
