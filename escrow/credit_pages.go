package escrow

import (
	"context"
	"strings"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Pages of the Pay Later lists (R11), read from the database a page at a time like the lists of
// pages.go: each takes the cursor of the previous page ("" for the first) and a limit, and
// returns the cursor of the next page, "" on the last.

// StatementKey names one stored statement: its month and its line. It is the cursor of a page
// of statements, written "YYYY-MM/line_id".
type StatementKey struct {
	Period credit.Period
	LineID string
}

// String writes the key as a cursor.
func (k StatementKey) String() string { return k.Period.String() + "/" + k.LineID }

// ParseStatementKey reads a cursor written by StatementKey.String; "" is the zero key.
func ParseStatementKey(s string) (StatementKey, error) {
	if s == "" {
		return StatementKey{}, nil
	}
	period, line, ok := strings.Cut(s, "/")
	p, err := credit.ParsePeriod(period)
	if !ok || err != nil || line == "" {
		return StatementKey{}, fault.FieldErr("after", "invalid_cursor", "pass the next_cursor of the previous page")
	}
	return StatementKey{Period: p, LineID: line}, nil
}

// CreditApplicationsPage lists up to limit of the buyer's applications after the application
// after, newest first; next is the last one's ID when another page may follow. A buyer reads
// its own, an admin names the buyer.
func (s *Service) CreditApplicationsPage(ctx context.Context, a trade.Actor, buyerID, after string, limit int) (apps []credit.Application, next string, err error) {
	if a.Role == trade.RoleBuyer {
		buyerID = a.OrgID
	} else if err := requireAdmin(a); err != nil {
		return nil, "", err
	}
	limit = clampPage(limit)
	err = s.creditRead(ctx, func(r CreditReader) error {
		var err error
		apps, err = r.CreditApplicationsPage(ctx, buyerID, after, limit)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(apps) == limit {
		next = apps[len(apps)-1].ID
	}
	if apps == nil {
		apps = []credit.Application{}
	}
	return apps, next, nil
}

// LoansPage lists up to limit loans of the buyer's open line with an ID after after, by ID,
// each with its newest disbursement request and bank debit; next is the last one's ID when
// another page may follow.
func (s *Service) LoansPage(ctx context.Context, a trade.Actor, buyerID, after string, limit int) (loans []LoanRecord, next string, err error) {
	line, err := s.CreditLine(ctx, a, buyerID)
	if err != nil {
		return nil, "", err
	}
	limit = clampPage(limit)
	err = s.creditRead(ctx, func(r CreditReader) error {
		var err error
		if loans, err = r.LoansOfLinePage(ctx, line.ID, after, limit); err != nil {
			return err
		}
		for i := range loans {
			if err := withRequests(ctx, r, &loans[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(loans) == limit {
		next = loans[len(loans)-1].ID
	}
	if loans == nil {
		loans = []LoanRecord{}
	}
	return loans, next, nil
}

// withRequests fills in a loan's newest disbursement request and, unless it can never be
// debited (cancelled, charged off), its newest bank debit.
func withRequests(ctx context.Context, r CreditReader, l *LoanRecord) error {
	if err := withDisbursement(ctx, r, l); err != nil {
		return err
	}
	if l.State.Terminal() && l.State != credit.PaidOff {
		return nil
	}
	return withBankDebit(ctx, r, l)
}

// CreditStatementsPage lists up to limit of the buyer's closed statements (R11) after the
// statement after (the zero key for the first page), newest month first; next is the last
// one's key, written as a cursor, when another page may follow. Who may read them is as for
// CreditStatements.
func (s *Service) CreditStatementsPage(ctx context.Context, a trade.Actor, buyerID string, after StatementKey, limit int) (sts []credit.Statement, next string, err error) {
	limit = clampPage(limit)
	err = s.creditRead(ctx, func(r CreditReader) error {
		line, err := s.statementLine(ctx, r, a, buyerID)
		if err != nil {
			return err
		}
		sts, err = r.CreditStatementsPage(ctx, line.BuyerID, after, limit)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(sts) == limit {
		last := sts[len(sts)-1]
		next = StatementKey{Period: last.Period, LineID: last.LineID}.String()
	}
	if sts == nil {
		sts = []credit.Statement{}
	}
	return sts, next, nil
}

// BankDebitsPage lists up to f.Limit (1..BankDebitsListMax) debit requests after the request
// f.After, newest first unless f.Order is OldestFirst (admin); f.Status attention lists those an
// operator must look at. next is the last one's ID when another page may follow.
func (s *Service) BankDebitsPage(ctx context.Context, a trade.Actor, f DebitFilter) (ds []DebitRequest, next string, err error) {
	if err := requireAdmin(a); err != nil {
		return nil, "", err
	}
	if f.Order != NewestFirst && f.Order != OldestFirst {
		return nil, "", errListOrder(f.Order)
	}
	if f.Limit <= 0 || f.Limit > BankDebitsListMax {
		f.Limit = BankDebitsListMax
	}
	err = s.store.Read(ctx, func(r Reader) error {
		br, ok := r.(BankDebitReader)
		if !ok {
			return fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep debit requests")
		}
		var err error
		ds, err = br.BankDebits(ctx, f)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(ds) == f.Limit {
		next = ds[len(ds)-1].ID
	}
	if ds == nil {
		ds = []DebitRequest{}
	}
	return ds, next, nil
}

// LenderRequestsPage lists up to f.Limit (1..LenderRequestsListMax) lender requests after the
// request f.After in f.Order — newest first by default — (admin); f.Status attention lists those
// an operator must look at, awaiting_funds the disbursements whose money the lender has not
// sent yet (FundsDueFirst: the overdue ones first). next is the last one's ID when another page
// may follow.
func (s *Service) LenderRequestsPage(ctx context.Context, a trade.Actor, f LenderFilter) (rs []LenderRequest, next string, err error) {
	if err := requireAdmin(a); err != nil {
		return nil, "", err
	}
	switch f.Order {
	case NewestFirst, OldestFirst, FundsDueFirst:
	default:
		return nil, "", errListOrder(f.Order)
	}
	if f.Limit <= 0 || f.Limit > LenderRequestsListMax {
		f.Limit = LenderRequestsListMax
	}
	err = s.store.Read(ctx, func(r Reader) error {
		lr, ok := r.(LenderReader)
		if !ok {
			return fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep lender requests")
		}
		var err error
		rs, err = lr.LenderRequests(ctx, f)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(rs) == f.Limit {
		next = rs[len(rs)-1].ID
	}
	if rs == nil {
		rs = []LenderRequest{}
	}
	return rs, next, nil
}

// errListOrder refuses an order a list does not have: a bug in the caller.
func errListOrder(o ListOrder) error {
	return fault.New(fault.Invalid, "invalid_order", "this list cannot be ordered %q", o)
}
