package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/webhook"
)

// Pages of the lists the API serves. Each takes the cursor of the previous page (the last item's
// key; zero or "" for the first page) and a limit clamped to escrow.PageSizeMax. A list ordered
// by a time then an ID takes the last ID as its cursor and compares the pair with a row value,
// which both databases support; a cursor naming no row gives an empty page.

// StreamEvents lists up to limit events of a stream with Seq > after, by Seq.
func (r reader) StreamEvents(ctx context.Context, stream string, after int64, limit int) ([]escrow.Event, error) {
	return r.events(ctx, eventCols+` WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3`, stream, after, clampLimit(limit))
}

// MessagesPage lists up to limit messages of an order after the message after, oldest first.
func (r reader) MessagesPage(ctx context.Context, orderID, after string, limit int) ([]trade.Message, error) {
	q, args := `SELECT at, doc FROM messages WHERE order_id = $1 ORDER BY at, id LIMIT $2`, []any{orderID, clampLimit(limit)}
	if after != "" {
		q = `SELECT at, doc FROM messages WHERE order_id = $1
			AND (at, id) > (SELECT at, id FROM messages WHERE id = $3 AND order_id = $1) ORDER BY at, id LIMIT $2`
		args = append(args, after)
	}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select messages of %q: %w", orderID, err)
	}
	defer rows.Close()
	var out []trade.Message
	for rows.Next() {
		var at int64
		var doc string
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, fmt.Errorf("scan message: %w", err)
		}
		var m trade.Message
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("decode message: %w", err)
		}
		m.At = fromMicros(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select messages of %q: %w", orderID, err)
	}
	return out, nil
}

// OrgsPage lists up to limit organizations of a kind with an ID after after, by ID.
func (r reader) OrgsPage(ctx context.Context, kind trade.OrgKind, after string, limit int) ([]trade.Org, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT doc FROM orgs WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3`,
		string(kind), after, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("select orgs: %w", err)
	}
	defer rows.Close()
	var out []trade.Org
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("scan org: %w", err)
		}
		var o trade.Org
		if err := json.Unmarshal([]byte(doc), &o); err != nil {
			return nil, fmt.Errorf("decode org: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select orgs: %w", err)
	}
	return out, nil
}

// SuspensePage lists up to limit suspense items in a state after the item after, by ReceivedAt
// then ID.
func (r reader) SuspensePage(ctx context.Context, state escrow.SuspenseState, after string, limit int) ([]escrow.SuspenseItem, error) {
	q, args := suspenseCols+` WHERE state = $1 ORDER BY received_at, id LIMIT $2`, []any{string(state), clampLimit(limit)}
	if after != "" {
		q = suspenseCols + ` WHERE state = $1 AND (received_at, id) > (SELECT received_at, id FROM suspense WHERE id = $3)
			ORDER BY received_at, id LIMIT $2`
		args = append(args, after)
	}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select suspense items: %w", err)
	}
	defer rows.Close()
	var out []escrow.SuspenseItem
	for rows.Next() {
		s, err := scanSuspense(rows)
		if err != nil {
			return nil, fmt.Errorf("scan suspense item: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select suspense items: %w", err)
	}
	return out, nil
}

// EndpointsPage lists up to limit endpoints of an organization after the endpoint after, by
// creation time then ID, disabled ones too.
func (s webhookStore) EndpointsPage(ctx context.Context, orgID, after string, limit int) ([]webhook.Endpoint, error) {
	q, args := `SELECT `+endpointCols+` FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id LIMIT $2`,
		[]any{orgID, clampLimit(limit)}
	if after != "" {
		q = `SELECT ` + endpointCols + ` FROM webhook_endpoints WHERE org_id = $1
			AND (created_at, id) > (SELECT created_at, id FROM webhook_endpoints WHERE id = $3) ORDER BY created_at, id LIMIT $2`
		args = append(args, after)
	}
	rows, err := s.db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select webhook endpoints of %q: %w", orgID, err)
	}
	defer rows.Close()
	var out []webhook.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("scan webhook endpoint: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select webhook endpoints of %q: %w", orgID, err)
	}
	return out, nil
}

// APIKeysPage lists up to limit keys of an organization after the key after, by creation time
// then ID, revoked ones too.
func (s accessStore) APIKeysPage(ctx context.Context, orgID, after string, limit int) ([]access.APIKey, error) {
	q, args := `SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at, id LIMIT $2`,
		[]any{orgID, clampLimit(limit)}
	if after != "" {
		q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE org_id = $1
			AND (created_at, id) > (SELECT created_at, id FROM api_keys WHERE id = $3) ORDER BY created_at, id LIMIT $2`
		args = append(args, after)
	}
	rows, err := s.db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select API keys of %q: %w", orgID, err)
	}
	defer rows.Close()
	out := []access.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select API keys of %q: %w", orgID, err)
	}
	return out, nil
}

// BalancesPage lists up to limit rows of the balance table after the account f.After, by
// account ID, of one kind and currency when f names them. An account ID is "kind:owner:CUR": a
// kind is a range of IDs (from "kind:" up to "kind;", the next character), which the primary
// key serves; a currency is the ID's suffix.
func (r reader) BalancesPage(ctx context.Context, f escrow.BalanceFilter) ([]escrow.AccountBalance, error) {
	var b strings.Builder
	args := []any{f.After}
	b.WriteString(`SELECT account_id, balance FROM ledger_balances WHERE account_id > $1`)
	if f.Kind != "" {
		args = append(args, string(f.Kind)+":", string(f.Kind)+";")
		fmt.Fprintf(&b, " AND account_id >= $%d AND account_id < $%d", len(args)-1, len(args))
	}
	if f.Currency != "" {
		args = append(args, "%:"+string(f.Currency))
		fmt.Fprintf(&b, " AND account_id LIKE $%d", len(args))
	}
	args = append(args, clampLimit(f.Limit))
	fmt.Fprintf(&b, " ORDER BY account_id LIMIT $%d", len(args))
	rows, err := r.q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("select balances: %w", err)
	}
	defer rows.Close()
	var out []escrow.AccountBalance
	for rows.Next() {
		var ab escrow.AccountBalance
		if err := rows.Scan(&ab.Account, &ab.Balance); err != nil {
			return nil, fmt.Errorf("scan balance: %w", err)
		}
		out = append(out, ab)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select balances: %w", err)
	}
	return out, nil
}

// CreditApplicationsPage lists up to limit applications of a buyer after the application after,
// newest first: by submission time, then ID, both descending.
func (r reader) CreditApplicationsPage(ctx context.Context, buyerID, after string, limit int) ([]credit.Application, error) {
	if after == "" {
		return r.applications(ctx, buyerID, `SELECT submitted_at, doc FROM credit_applications WHERE buyer_id = $1
			ORDER BY submitted_at DESC, id DESC LIMIT $2`, buyerID, clampLimit(limit))
	}
	return r.applications(ctx, buyerID, `SELECT submitted_at, doc FROM credit_applications WHERE buyer_id = $1
		AND (submitted_at, id) < (SELECT submitted_at, id FROM credit_applications WHERE id = $3 AND buyer_id = $1)
		ORDER BY submitted_at DESC, id DESC LIMIT $2`, buyerID, clampLimit(limit), after)
}

// LoansOfLinePage lists up to limit loans of a line with an ID after after, by ID.
func (r reader) LoansOfLinePage(ctx context.Context, lineID, after string, limit int) ([]escrow.LoanRecord, error) {
	return r.loans(ctx, lineID, loanCols+` WHERE line_id = $1 AND id > $2 ORDER BY id LIMIT $3`, lineID, after, clampLimit(limit))
}

// CreditStatementsPage lists up to limit stored statements of a buyer after the statement
// after, newest month first, then by line ID, both descending. The cursor is the key itself
// (month and line), compared as a row value; the zero key starts at the newest.
func (r reader) CreditStatementsPage(ctx context.Context, buyerID string, after escrow.StatementKey, limit int) ([]credit.Statement, error) {
	if after == (escrow.StatementKey{}) {
		return r.statements(ctx, buyerID, `SELECT doc FROM credit_statements WHERE buyer_id = $1
			ORDER BY period DESC, line_id DESC LIMIT $2`, buyerID, clampLimit(limit))
	}
	return r.statements(ctx, buyerID, `SELECT doc FROM credit_statements WHERE buyer_id = $1 AND (period, line_id) < ($3, $4)
		ORDER BY period DESC, line_id DESC LIMIT $2`, buyerID, clampLimit(limit), after.Period.String(), after.LineID)
}
