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
// automatic payout requests it all from the rail: it waits in transit until the sandbox payout
// rail's worker confirms the wire left.
func payoutNetting(d *demo) (*trade.Order, error) {
	before, err := d.payouts(d.deposit)
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
	d.clock.Advance(2 * 24 * time.Hour)
	if err := d.rounds(false); err != nil { // the release's automatic payout is requested
		return o, err
	}
	requested, err := d.newPayouts(d.deposit, before)
	if err != nil {
		return o, err
	}
	if err := d.rounds(true); err != nil { // the sandbox payout rail answers
		return o, err
	}
	fresh, err := d.newPayouts(d.deposit, before)
	if err != nil {
		return o, err
	}
	netted, sent := int64(0), int64(0)
	for i := len(fresh) - 1; i >= 0; i-- {
		p := fresh[i]
		netted, sent = netted+p.Netted, sent+p.Sent
		d.printPayout(p)
		if p.Sent > 0 && (p.Status != trade.PayoutSent || requested[i].Status != trade.PayoutRequested) {
			return o, fmt.Errorf("payout %s went %s then %s, want requested then sent", p.ID, requested[i].Status, p.Status)
		}
	}
	if err := d.settled(d.deposit); err != nil {
		return o, err
	}
	switch {
	case len(fresh) == 0:
		return o, fmt.Errorf("no automatic payout ran")
	case netted+sent != o.Money.Released:
		return o, fmt.Errorf("payouts netted %d and sent %d of %d released", netted, sent, o.Money.Released)
	}
	return o, nil
}

// payoutReturned follows a payout the supplier's bank returns (the sandbox payout rail told to
// return the supplier's payouts: a closed account): the money is owed to the supplier again and
// its account is flagged, so the next automatic payout sends nothing; once the supplier's
// details are corrected an admin clears the flag, and the automatic payout sends it (R12).
func payoutReturned(d *demo) (*trade.Order, error) {
	rail, ok := d.svc.SandboxPayoutRail()
	if !ok {
		return nil, fmt.Errorf("the demo runs without the sandbox payout rail")
	}
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 40*24*time.Hour); err != nil {
		return o, err
	}
	if o, err = d.report(o, true); err != nil {
		return o, err
	}
	before, err := d.payouts(d.supplier) // the earlier scenarios' payouts have all run by now
	if err != nil {
		return o, err
	}
	if err := rail.SetReturns(d.ctx, d.supplier.OrgID, true); err != nil {
		return o, err
	}
	if o, err = d.shipAndRelease(d.supplier, o); err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.Complete{}); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 2*24*time.Hour); err != nil { // the automatic payout: requested, then returned
		return o, err
	}
	fresh, err := d.newPayouts(d.supplier, before)
	if err != nil {
		return o, err
	}
	if len(fresh) != 1 || fresh[0].Status != trade.PayoutReturned {
		return o, fmt.Errorf("want one returned payout, got %d: %+v", len(fresh), fresh)
	}
	d.printPayout(fresh[0])
	flag, err := d.svc.OpenPayoutFlag(d.ctx, d.admin, d.supplier.OrgID)
	if err != nil {
		return o, err
	}
	if flag == nil {
		return o, fmt.Errorf("the return flagged no account")
	}
	fmt.Fprintf(d.out, "  the supplier's account is flagged: %s; nothing more is sent until an admin clears it\n", flag.Reason)
	if err := rail.SetReturns(d.ctx, d.supplier.OrgID, false); err != nil { // the supplier gives correct details
		return o, err
	}
	if _, err := d.svc.ClearPayoutFlag(d.ctx, d.admin, d.key(), d.supplier.OrgID); err != nil {
		return o, err
	}
	fmt.Fprintf(d.out, "  an admin cleared the flag: the automatic payout is scheduled again\n")
	if o, err = d.wait(o, 2*24*time.Hour); err != nil {
		return o, err
	}
	if fresh, err = d.newPayouts(d.supplier, before); err != nil {
		return o, err
	}
	if len(fresh) != 2 || fresh[0].Status != trade.PayoutSent || fresh[0].Sent != fresh[1].Sent {
		return o, fmt.Errorf("after clearing the flag want the returned amount sent, got %+v", fresh)
	}
	d.printPayout(fresh[0])
	return o, d.settled(d.supplier)
}

// payouts lists a supplier's payouts, newest first.
func (d *demo) payouts(sup trade.Actor) ([]trade.Payout, error) {
	return d.svc.Payouts(d.ctx, d.admin, escrow.PayoutFilter{SupplierID: sup.OrgID})
}

// newPayouts lists the supplier's payouts made since before was listed, newest first.
func (d *demo) newPayouts(sup trade.Actor, before []trade.Payout) ([]trade.Payout, error) {
	after, err := d.payouts(sup)
	if err != nil {
		return nil, err
	}
	return after[:len(after)-len(before)], nil
}

// printPayout says what a payout did and where it is.
func (d *demo) printPayout(p trade.Payout) {
	c := p.Currency
	fmt.Fprintf(d.out, "  payout %s (%s, %s): owed %s, netted %s against the supplier's debt, to send %s by %s, reference %s\n",
		p.ID, p.Trigger, p.Status, money.New(p.PayableBefore, c), money.New(p.Netted, c).Decimal(), money.New(p.Sent, c).Decimal(),
		p.Method, p.Reference)
	label := ""
	if p.Sandbox {
		label = " (sandbox: simulated, no money moved)"
	}
	switch p.Status {
	case trade.PayoutSent:
		fmt.Fprintf(d.out, "    requested, in transit on %s, then sent: value date %s, bank reference %s%s\n",
			trade.InTransitAccount(p.Rail(), c), p.ValueDate.Format(time.DateOnly), p.BankReference, label)
	case trade.PayoutReturned:
		fmt.Fprintf(d.out, "    requested, then returned by the bank: %s; back in the supplier's payable%s\n", p.ReturnReason, label)
	case trade.PayoutRequested:
		fmt.Fprintf(d.out, "    requested: in transit on %s, waiting for the bank's confirmation%s\n", trade.InTransitAccount(p.Rail(), c), label)
	}
}

// settled checks that the supplier is owed nothing, owes nothing and has nothing in transit.
func (d *demo) settled(sup trade.Actor) error {
	bs, err := d.svc.PayoutBalances(d.ctx, d.admin, sup.OrgID)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.Payable != 0 || b.Receivable != 0 || b.InTransit != 0 {
			return fmt.Errorf("after the payouts the supplier is owed %d, owes %d and has %d in transit (%s)",
				b.Payable, b.Receivable, b.InTransit, b.Currency)
		}
	}
	return nil
}
