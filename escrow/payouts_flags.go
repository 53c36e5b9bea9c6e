package escrow

import (
	"context"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// PayoutFlagLister lists the suppliers whose payout account a returned payout flagged; the
// store's readers implement it beside PayoutReader.
type PayoutFlagLister interface {
	// OpenPayoutFlags lists up to limit (1..PageSizeMax) open flags, one per supplier, flagged
	// after the flag of the payout after ("" for the first page), oldest flagged first (by flag
	// time, then payout ID).
	OpenPayoutFlags(ctx context.Context, after string, limit int) ([]trade.PayoutAccountFlag, error)
}

// OpenPayoutFlagsPage lists the suppliers whose payout account is flagged (admin): a page of at
// most limit (1..PageSizeMax) open flags after the flag of the payout after, oldest flagged
// first, and the cursor of the next page (the last flag's payout ID; "" when this page is not
// full). Each waits for an admin to clear it
// (ClearPayoutFlag) once the supplier has given correct bank details.
func (s *Service) OpenPayoutFlagsPage(ctx context.Context, a trade.Actor, after string, limit int) ([]trade.PayoutAccountFlag, string, error) {
	if err := requireAdmin(a); err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > PageSizeMax {
		limit = PageSizeMax
	}
	var fs []trade.PayoutAccountFlag
	err := s.store.Read(ctx, func(r Reader) error {
		fl, ok := r.(PayoutFlagLister)
		if !ok {
			return fault.New(fault.Internal, "payouts_unavailable", "this store does not list payout account flags")
		}
		var err error
		fs, err = fl.OpenPayoutFlags(ctx, after, limit)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(fs) == limit {
		next = fs[len(fs)-1].PayoutID
	}
	if fs == nil {
		fs = []trade.PayoutAccountFlag{}
	}
	return fs, next, nil
}
