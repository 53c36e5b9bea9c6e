package main

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// payoutNetting follows the deposit supplier after the guarantee fund refunded its released
// deposit (depositGuarantee): it owes the platform that deposit (R14). A new order's deposit is
// released for production; the next day's automatic payout nets it against the debt and sends
// nothing. The goods pass inspection and ship, the rest is released (R12), and the next day's
// automatic payout sends it all to the supplier's bank.
func payoutNetting(d *demo) (*trade.Order, error) {
	before, err := d.svc.Payouts(d.ctx, d.admin, escrow.PayoutFilter{SupplierID: d.deposit.OrgID})
	if err != nil {
		return nil, err
	}
	o, err := d.confirmed(d.deposit, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 40*24*time.Hour); err != nil { // production; the deposit's payout runs
		return o, err
	}
	if o, err = d.report(o, true); err != nil {
		return o, err
	}
	if o, err = d.shipAndRelease(d.deposit, o); err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.Complete{}); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 2*24*time.Hour); err != nil { // the release's automatic payout runs
		return o, err
	}
	after, err := d.svc.Payouts(d.ctx, d.admin, escrow.PayoutFilter{SupplierID: d.deposit.OrgID})
	if err != nil {
		return o, err
	}
	fresh := after[:len(after)-len(before)]
	netted, sent := int64(0), int64(0)
	for i := len(fresh) - 1; i >= 0; i-- {
		p := fresh[i]
		netted, sent = netted+p.Netted, sent+p.Sent
		fmt.Fprintf(d.out, "  payout %s (%s, %s): owed %s, netted %s against the supplier's debt, sent %s by %s, reference %s\n",
			p.ID, p.Trigger, p.Status, money.New(p.PayableBefore, p.Currency), money.New(p.Netted, p.Currency).Decimal(),
			money.New(p.Sent, p.Currency).Decimal(), p.Method, p.Reference)
	}
	bs, err := d.svc.PayoutBalances(d.ctx, d.admin, d.deposit.OrgID)
	if err != nil {
		return o, err
	}
	for _, b := range bs {
		if b.Payable != 0 || b.Receivable != 0 {
			return o, fmt.Errorf("after the payouts the supplier is owed %d and owes %d %s", b.Payable, b.Receivable, b.Currency)
		}
	}
	switch {
	case len(fresh) == 0:
		return o, fmt.Errorf("no automatic payout ran")
	case netted+sent != o.Money.Released:
		return o, fmt.Errorf("payouts netted %d and sent %d of %d released", netted, sent, o.Money.Released)
	}
	return o, nil
}
