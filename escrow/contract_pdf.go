package escrow

import (
	"context"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// ContractPDF renders a confirmed version of an order's purchase contract as a PDF (R3, R4), for
// whoever may see the order: version 0 is the version in force. The API and the portal both
// serve it from here, so the same version gives the same bytes through either. The booked
// inspection company gets its copy without prices.
func (s *Service) ContractPDF(ctx context.Context, a trade.Actor, orderID string, version int) ([]byte, trade.ContractVersion, error) {
	o, err := s.Order(ctx, a, orderID)
	if err != nil {
		return nil, trade.ContractVersion{}, err
	}
	switch {
	case len(o.Contracts) == 0:
		return nil, trade.ContractVersion{}, fault.New(fault.NotFound, "contract_not_found", "the contract has not been confirmed yet")
	case version < 0 || version > len(o.Contracts):
		return nil, trade.ContractVersion{}, fault.New(fault.NotFound, "contract_version_not_found", "the order has %d confirmed versions", len(o.Contracts))
	}
	v := *o.Contract()
	if version > 0 {
		v = o.Contracts[version-1]
	}
	// An inspection company inspects the goods; it never sees the money (the API's and the
	// portal's rule), so its copy leaves prices out.
	doc := quality.ContractDoc{OrderID: o.ID, Version: v, GoodsOnly: a.Role == trade.RoleInspector}
	for _, p := range []struct {
		id  string
		dst *quality.Party
	}{{o.BuyerID, &doc.Buyer}, {o.SupplierID, &doc.Supplier}} {
		org, err := s.Org(ctx, p.id)
		if err != nil {
			return nil, trade.ContractVersion{}, err
		}
		*p.dst = quality.Party{ID: org.ID, Name: org.Name, Country: org.Country}
	}
	pdf, err := quality.ContractPDF(doc)
	if err != nil {
		return nil, trade.ContractVersion{}, err
	}
	return pdf, v, nil
}
