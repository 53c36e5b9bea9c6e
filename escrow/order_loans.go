package escrow

import (
	"context"

	"github.com/tradeassure/tradeassure/trade"
)

// OrderLoans lists the Pay Later loans that finance the order's payments, by ID — every
// agreement offered for them, accepted or not — each with its newest disbursement request and
// bank debit. It reads the order's loans only, however many the buyer's line has had, so the
// order page finds the agreement for its pending payment (R11). A buyer sees its own loans, an
// admin every one; other roles are refused.
func (s *Service) OrderLoans(ctx context.Context, a trade.Actor, orderID string) ([]LoanRecord, error) {
	if a.Role != trade.RoleBuyer {
		if err := requireAdmin(a); err != nil {
			return nil, err
		}
	}
	var out []LoanRecord
	err := s.creditRead(ctx, func(r CreditReader) error {
		loans, err := r.LoansOfOrder(ctx, orderID)
		if err != nil {
			return err
		}
		for _, l := range loans {
			if !loanVisible(a, l) {
				continue
			}
			if err := withRequests(ctx, r, &l); err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
