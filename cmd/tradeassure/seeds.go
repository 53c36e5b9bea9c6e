package main

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// seed leaves one order in a lifecycle state, so a server started with --demo shows every state.
type seed struct {
	want trade.State
	run  func(*demo) (*trade.Order, error)
}

// seeds cover the states the scenarios do not end in. Their waits are short, so the demo's
// virtual time stays behind the wall clock.
var seeds = []seed{
	{trade.Draft, func(d *demo) (*trade.Order, error) { return d.placed() }},
	{trade.ContractProposed, func(d *demo) (*trade.Order, error) {
		o, err := d.placed()
		if err != nil {
			return o, err
		}
		return d.do(d.supplier, o, trade.ProposeContract{Contract: d.contract(60)})
	}},
	{trade.Confirmed, func(d *demo) (*trade.Order, error) { return d.confirmed(d.supplier, true) }},
	{trade.InspectionFailed, func(d *demo) (*trade.Order, error) { return d.producedAndReported(false) }},
	{trade.Disputed, func(d *demo) (*trade.Order, error) {
		o, err := d.producedAndReported(false)
		if err != nil {
			return o, err
		}
		return d.do(d.buyer, o, trade.FileDispute{Reason: "Fabric weight below the contract", Requirements: []string{"Fabric weight"}})
	}},
	{trade.Escalated, func(d *demo) (*trade.Order, error) {
		o, err := d.producedAndReported(false)
		if err != nil {
			return o, err
		}
		if o, err = d.do(d.buyer, o, trade.FileDispute{Reason: "Fabric weight below the contract", Requirements: []string{"Fabric weight"}}); err != nil {
			return o, err
		}
		return d.do(d.supplier, o, trade.Escalate{Note: "We ask the platform to decide."})
	}},
	{trade.BalancePaid, func(d *demo) (*trade.Order, error) { return d.balancePaid() }},
	{trade.Late, func(d *demo) (*trade.Order, error) {
		c := d.contract(1)
		o, err := d.svc.Place(d.ctx, d.buyer, d.key(), trade.Place{SupplierID: d.supplier.OrgID, Currency: "USD",
			ShipBy: c.ShipBy, ComplianceConfirmed: true, Contract: &c})
		if err != nil {
			return o, err
		}
		if o, err = d.do(d.supplier, o, trade.ConfirmContract{Hash: o.Proposal.Hash}); err != nil {
			return o, err
		}
		if o, err = d.paid(o); err != nil {
			return o, err
		}
		return d.wait(o, 2*24*time.Hour)
	}},
	{trade.Cancelled, func(d *demo) (*trade.Order, error) {
		o, err := d.placed()
		if err != nil {
			return o, err
		}
		return d.do(d.buyer, o, trade.Cancel{Reason: "Ordered from another supplier"})
	}},
	// Last: a later seed's wait would fire its release timer. The server's worker releases it
	// within seconds of starting; until then the admin sees it awaiting release.
	{trade.Shipped, func(d *demo) (*trade.Order, error) {
		o, err := d.balancePaid()
		if err != nil {
			return o, err
		}
		return d.do(d.supplier, o, trade.Ship{ShippedOn: trade.Day(d.clock.Now()), Carrier: "Maersk", Tracking: "MAEU2231907"})
	}},
}

func (d *demo) placed() (*trade.Order, error) {
	return d.svc.Place(d.ctx, d.buyer, d.key(), trade.Place{SupplierID: d.supplier.OrgID, Currency: "USD",
		ShipBy: trade.Day(d.clock.Now()).AddDate(0, 0, 60), ComplianceConfirmed: true})
}

// producedAndReported is a confirmed, paid order whose inspection has just reported.
func (d *demo) producedAndReported(pass bool) (*trade.Order, error) {
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if pass {
		return d.report(o, true)
	}
	return d.report(o, false, "Fabric weight")
}

func (d *demo) balancePaid() (*trade.Order, error) {
	o, err := d.producedAndReported(true)
	if err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.Pay{Installment: trade.Balance, Method: payment.TTWire}); err != nil {
		return o, err
	}
	return d.wait(o, 3*time.Hour)
}

// seedStates runs every seed and checks where each order ended.
func seedStates(d *demo) error {
	for _, s := range seeds {
		o, err := s.run(d)
		if err != nil {
			return fmt.Errorf("seed %s: %w", s.want, err)
		}
		if o.State != s.want {
			return fmt.Errorf("seed %s: the order ended %s", s.want, o.State)
		}
	}
	return nil
}
