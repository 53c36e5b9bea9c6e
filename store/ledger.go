package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

// move is the net change one transfer makes to one account.
type move struct {
	account ledger.Account
	id      string
	delta   int64
}

// PostTransfer appends t and its entries and moves the balance table; see escrow.Tx. It takes
// four statements: the transfer, the accounts it names (skipped once they are known), its
// entries in one INSERT, and one upsert of all its balances.
func (t *tx) PostTransfer(ctx context.Context, tr ledger.Transfer) error {
	if err := tr.Validate(); err != nil {
		return fmt.Errorf("post transfer: %w", err) // a bug in whoever built it
	}
	moves, err := netMoves(tr)
	if err != nil {
		return err
	}
	var seq int64
	err = t.q.QueryRowContext(ctx, `INSERT INTO ledger_transfers (id, code, currency, order_id, memo, at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING seq`,
		tr.ID, tr.Code, string(tr.Currency), tr.OrderID, tr.Memo, micros(tr.At)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return duplicate("transfer", tr.ID) // nothing written: the transaction stays usable
	}
	if err != nil {
		return t.fail(insertErr("transfer", tr.ID, err))
	}
	if err := t.insertAccounts(ctx, moves); err != nil {
		return t.fail(err)
	}
	if err := t.insertEntries(ctx, seq, tr); err != nil {
		return t.fail(err)
	}
	if err := t.moveBalances(ctx, tr.ID, moves); err != nil {
		return t.fail(err)
	}
	if t.posted == nil {
		t.posted = map[string]int64{}
	}
	t.posted[tr.Code]++
	return nil
}

// netMoves sums a transfer's entries per account, sorted by account ID: balance rows are
// locked in that order, so two transfers never wait for each other in a cycle.
func netMoves(tr ledger.Transfer) ([]move, error) {
	var moves []move
	for _, e := range tr.Entries {
		id := e.Account.ID()
		i := slices.IndexFunc(moves, func(m move) bool { return m.id == id })
		if i < 0 {
			moves = append(moves, move{account: e.Account, id: id})
			i = len(moves) - 1
		}
		sum := moves[i].delta + e.Amount
		if (moves[i].delta^sum)&(e.Amount^sum) < 0 || sum == math.MinInt64 {
			return nil, fmt.Errorf("post transfer %s: entries on %s: %w", tr.ID, id, money.ErrOverflow)
		}
		moves[i].delta = sum
	}
	slices.SortFunc(moves, func(a, b move) int { return strings.Compare(a.id, b.id) })
	return moves, nil
}

// insertAccounts stores the accounts of moves not yet known to exist.
func (t *tx) insertAccounts(ctx context.Context, moves []move) error {
	var b strings.Builder
	var args []any
	for _, m := range moves {
		if _, ok := t.db.accounts.Load(m.id); ok {
			continue
		}
		if len(args) > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
		args = append(args, m.id, string(m.account.Kind), m.account.Owner, string(m.account.Currency))
		t.newAccounts = append(t.newAccounts, m.id)
	}
	if len(args) == 0 {
		return nil
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO ledger_accounts (id, kind, owner, currency) VALUES `+
		b.String()+` ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return fmt.Errorf("insert ledger accounts: %w", err)
	}
	return nil
}

// insertEntries stores a transfer's entries, in their order, with one statement.
func (t *tx) insertEntries(ctx context.Context, seq int64, tr ledger.Transfer) error {
	var b strings.Builder
	args := make([]any, 1, 1+2*len(tr.Entries))
	args[0] = seq
	for i, e := range tr.Entries {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($1, %d, $%d, $%d)", i+1, n+1, n+2)
		args = append(args, e.Account.ID(), e.Amount)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO ledger_entries (transfer_seq, n, account_id, amount) VALUES `+
		b.String(), args...)
	if err != nil {
		return fmt.Errorf("insert entries of transfer %s: %w", tr.ID, err)
	}
	return nil
}

// moveBalances adds moves to the balance table with one upsert and checks the new balances.
func (t *tx) moveBalances(ctx context.Context, transferID string, moves []move) error {
	var b strings.Builder
	args := make([]any, 0, 2*len(moves))
	for i, m := range moves {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d, $%d)", len(args)+1, len(args)+2)
		args = append(args, m.id, m.delta)
	}
	rows, err := t.q.QueryContext(ctx, `INSERT INTO ledger_balances (account_id, balance) VALUES `+b.String()+`
		ON CONFLICT (account_id) DO UPDATE SET balance = ledger_balances.balance + excluded.balance
		RETURNING account_id, balance`, args...)
	if err != nil {
		return balanceErr(transferID, err)
	}
	defer rows.Close()
	var negative []string
	for rows.Next() {
		var id string
		var balance int64
		if err := rows.Scan(&id, &balance); err != nil {
			return fmt.Errorf("post transfer %s: scan balance: %w", transferID, err)
		}
		i := slices.IndexFunc(moves, func(m move) bool { return m.id == id })
		if i < 0 {
			return fmt.Errorf("post transfer %s: balance of unexpected account %s", transferID, id)
		}
		if k := moves[i].account.Kind; !k.MayGoNegative() && ledger.Natural(k, balance) < 0 {
			negative = append(negative, id)
		}
	}
	if err := rows.Err(); err != nil {
		return balanceErr(transferID, err)
	}
	if len(negative) > 0 {
		slices.Sort(negative)
		return &ledger.NegativeError{Accounts: negative}
	}
	return nil
}

func balanceErr(transferID string, err error) error {
	if overflow(err) {
		return fmt.Errorf("post transfer %s: balance: %w", transferID, money.ErrOverflow)
	}
	return fmt.Errorf("post transfer %s: update balances: %w", transferID, err)
}

// Balances returns the balance table.
func (r reader) Balances(ctx context.Context) (ledger.Balances, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT account_id, balance FROM ledger_balances`)
	if err != nil {
		return nil, fmt.Errorf("select balances: %w", err)
	}
	defer rows.Close()
	out := ledger.Balances{}
	for rows.Next() {
		var id string
		var balance int64
		if err := rows.Scan(&id, &balance); err != nil {
			return nil, fmt.Errorf("scan balance: %w", err)
		}
		out[id] = balance
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select balances: %w", err)
	}
	return out, nil
}

// Balance returns one account's signed balance: 0 for an account never posted to.
func (r reader) Balance(ctx context.Context, accountID string) (int64, error) {
	var balance int64
	err := r.q.QueryRowContext(ctx, `SELECT balance FROM ledger_balances WHERE account_id = $1`, accountID).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("select balance of %s: %w", accountID, err)
	}
	return balance, nil
}

const (
	transferCols = `SELECT seq, id, code, currency, order_id, memo, at FROM ledger_transfers`
	entryCols    = `SELECT e.transfer_seq, a.kind, a.owner, a.currency, e.amount
		FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id`
)

// Transfers lists up to limit transfers with Seq > after, in posting order.
func (r reader) Transfers(ctx context.Context, after int64, limit int) ([]escrow.StoredTransfer, error) {
	ts, err := r.transfers(ctx, transferCols+` WHERE seq > $1 ORDER BY seq LIMIT $2`, after, clampLimit(limit))
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	return ts, r.entries(ctx, ts, entryCols+` WHERE e.transfer_seq >= $1 AND e.transfer_seq <= $2
		ORDER BY e.transfer_seq, e.n`, ts[0].Seq, ts[len(ts)-1].Seq)
}

// OrderTransfers lists an order's transfers in posting order.
func (r reader) OrderTransfers(ctx context.Context, orderID string) ([]escrow.StoredTransfer, error) {
	ts, err := r.transfers(ctx, transferCols+` WHERE order_id = $1 ORDER BY seq`, orderID)
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	return ts, r.entries(ctx, ts, entryCols+` WHERE e.transfer_seq IN
		(SELECT seq FROM ledger_transfers WHERE order_id = $1) ORDER BY e.transfer_seq, e.n`, orderID)
}

func (r reader) transfers(ctx context.Context, query string, args ...any) ([]escrow.StoredTransfer, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select transfers: %w", err)
	}
	defer rows.Close()
	var out []escrow.StoredTransfer
	for rows.Next() {
		var s escrow.StoredTransfer
		var cur string
		var at int64
		if err := rows.Scan(&s.Seq, &s.ID, &s.Code, &cur, &s.OrderID, &s.Memo, &at); err != nil {
			return nil, fmt.Errorf("scan transfer: %w", err)
		}
		s.Currency, s.At = money.Currency(cur), fromMicros(at)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select transfers: %w", err)
	}
	return out, nil
}

// entries fills in the entries of ts (sorted by Seq) from query, which returns them by
// transfer and position.
func (r reader) entries(ctx context.Context, ts []escrow.StoredTransfer, query string, args ...any) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("select entries: %w", err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var seq, amount int64
		var kind, owner, cur string
		if err := rows.Scan(&seq, &kind, &owner, &cur, &amount); err != nil {
			return fmt.Errorf("scan entry: %w", err)
		}
		for i < len(ts) && ts[i].Seq < seq {
			i++
		}
		if i == len(ts) || ts[i].Seq != seq {
			continue // a transfer outside the page (or posted since, under READ COMMITTED)
		}
		a := ledger.Account{Kind: ledger.Kind(kind), Owner: owner, Currency: money.Currency(cur)}
		ts[i].Entries = append(ts[i].Entries, ledger.Entry{Account: a, Amount: amount})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select entries: %w", err)
	}
	return nil
}
