package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "database URL: sqlite:PATH or postgres://… (default $TRADEASSURE_DB or "+DefaultDB+")")
	quiet := fs.Bool("q", false, "print only the summary")
	blobs := fs.String("blobs", "", "attachment directory (default $TRADEASSURE_BLOBS or "+DefaultBlobs+")")
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	// The scenarios run on virtual time that ends about now: deadlines fire because the clock
	// moves, not because the demo waits.
	clock := escrow.NewManualClock(time.Now().UTC().AddDate(0, 0, -400))
	deps, err := openService(ctx, dbURL(*db), blobDir(*blobs), escrow.Options{Clock: clock,
		Config: trade.DefaultConfig(), Sandbox: escrow.Sandbox{Enabled: true, Delay: 2 * time.Hour}})
	if err != nil {
		return err
	}
	defer deps.close()
	svc := deps.svc
	out := stdout
	if *quiet {
		out = io.Discard
	}
	d, err := newDemo(ctx, svc, deps.blobs, clock, out)
	if err != nil {
		return fmt.Errorf("demo setup: %w", err)
	}
	failed := 0
	for _, sc := range scenarios {
		fmt.Fprintf(out, "\n=== %s\n", sc.name)
		o, err := sc.run(d)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %v\n", sc.name, err)
		case o.State != sc.want:
			failed++
			fmt.Fprintf(stdout, "FAIL %s: ended %s, want %s\n", sc.name, o.State, sc.want)
		default:
			fmt.Fprintf(stdout, "ok   %-58s %s\n", sc.name, o.State)
		}
		if o != nil {
			d.timeline(o)
		}
	}
	fmt.Fprintln(out)
	rep, err := svc.CheckLedger(ctx)
	if err != nil {
		return err
	}
	printCheck(stdout, rep, !*quiet)
	if failed > 0 || !rep.OK() {
		fmt.Fprintf(stdout, "demo: %d of %d scenarios failed\n", failed, len(scenarios))
		return exitError{1}
	}
	fmt.Fprintf(stdout, "demo: %d scenarios passed\n", len(scenarios))
	return nil
}

// demo holds the organizations and actors the scenarios share.
type demo struct {
	ctx      context.Context
	svc      *escrow.Service
	clock    *escrow.ManualClock
	out      io.Writer
	run      string // makes idempotency keys unique to this run
	n        int
	admin    trade.Actor
	arbiter  trade.Actor
	buyer    trade.Actor
	supplier trade.Actor
	deposit  trade.Actor // a supplier whose deposit is released for production (R14)
	inspect  trade.Actor
	files    []trade.Attachment // the seeds' design draft and care label (R3)
}

func newDemo(ctx context.Context, svc *escrow.Service, files *blob.Dir, clock *escrow.ManualClock, out io.Writer) (*demo, error) {
	d := &demo{ctx: ctx, svc: svc, clock: clock, out: out, run: fmt.Sprint(time.Now().UnixNano())}
	for _, f := range []struct{ name, body string }{
		{"design_draft_a.pdf", "%PDF-1.4\n% Children's zip hoodie: design draft A, front and back views\n%%EOF\n"},
		{"label_b.pdf", "%PDF-1.4\n% Care label B: 100% organic cotton, machine wash 30°C, CPSIA tracking label\n%%EOF\n"},
	} {
		m, err := files.Put(ctx, strings.NewReader(f.body), "application/pdf")
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, trade.Attachment{Name: f.name, Ref: string(m.Ref), Size: m.Size, MediaType: m.MediaType})
	}
	d.admin = trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin@platform"}
	d.arbiter = trade.Actor{Role: trade.RoleArbiter, OrgID: ledger.Platform, UserID: "arbiter@platform"}
	mk := func(kind trade.OrgKind, name, country string) (trade.Org, error) {
		return svc.CreateOrg(ctx, d.admin, d.key(), kind, name, country)
	}
	b, err := mk(trade.KindBuyer, "Maple Kids Apparel Inc.", "US")
	if err != nil {
		return nil, err
	}
	i, err := mk(trade.KindInspector, "Asia Quality Inspections Ltd.", "HK")
	if err != nil {
		return nil, err
	}
	d.buyer = trade.Actor{Role: trade.RoleBuyer, OrgID: b.ID, UserID: "buyer@maplekids"}
	d.inspect = trade.Actor{Role: trade.RoleInspector, OrgID: i.ID, UserID: "qc@aqi"}
	for _, x := range []struct {
		name   string
		policy trade.ReleasePolicy
		to     *trade.Actor
	}{{"Ningbo Sunrise Garments Co.", "", &d.supplier}, {"Shenzhen Early Textiles Co.", trade.ReleaseInitialForProduction, &d.deposit}} {
		s, err := mk(trade.KindSupplier, x.name, "CN")
		if err != nil {
			return nil, err
		}
		if _, err := svc.SetEligibility(ctx, d.admin, d.key(), s.ID, true, "Gold Supplier, verified 2 years, on-time rate 98%"); err != nil {
			return nil, err
		}
		if _, err := svc.SetCoverageLimit(ctx, d.admin, d.key(), s.ID, money.New(20_000_00, "USD")); err != nil {
			return nil, err
		}
		if x.policy != "" {
			if _, err := svc.SetReleasePolicy(ctx, d.admin, d.key(), s.ID, x.policy); err != nil {
				return nil, err
			}
		}
		*x.to = trade.Actor{Role: trade.RoleSupplier, OrgID: s.ID, UserID: "sales@" + s.ID}
	}
	// The parties that attach the files at checkout or in a proposal have uploaded them.
	for _, a := range []trade.Actor{d.buyer, d.supplier, d.deposit} {
		for _, f := range d.files {
			if _, err := svc.RecordUpload(ctx, a, blob.Ref(f.Ref), f.Name); err != nil {
				return nil, err
			}
		}
	}
	if _, err := svc.FundGuarantee(ctx, d.admin, d.key(), money.New(50_000_00, "USD")); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *demo) key() string { d.n++; return fmt.Sprintf("demo-%s-%d", d.run, d.n) }

// do issues a command and lets due timers fire.
func (d *demo) do(a trade.Actor, o *trade.Order, cmd trade.Command) (*trade.Order, error) {
	next, err := d.svc.Do(d.ctx, a, d.key(), o.ID, cmd)
	if err != nil {
		return o, fmt.Errorf("%s by %s: %w", cmd.Event(), a.Role, err)
	}
	return next, nil
}

// wait moves virtual time and fires the timers that come due, with the Pay Later bank and lender
// workers and the payout rail's worker between rounds: they ask the bank for the debits and the
// lender for the decisions and disbursements that were requested (R11), and the sandbox payout
// rail about the payouts requested (R12).
func (d *demo) wait(o *trade.Order, dur time.Duration) (*trade.Order, error) {
	d.clock.Advance(dur)
	if err := d.rounds(true); err != nil {
		return o, err
	}
	return d.svc.Order(d.ctx, d.admin, o.ID)
}

// rounds runs the workers until none finds work; without payouts the payout rail's worker does
// not run, so a payout requested meanwhile stays requested.
func (d *demo) rounds(payouts bool) error {
	for {
		n, err := d.svc.RunTimers(d.ctx, "demo")
		if err != nil {
			return err
		}
		debits, err := d.svc.RunBankDebits(d.ctx, "demo")
		if err != nil {
			return err
		}
		asked, err := d.svc.RunLenderRequests(d.ctx, "demo")
		if err != nil {
			return err
		}
		sent := 0
		if payouts {
			if sent, err = d.svc.RunPayoutSends(d.ctx, "demo"); err != nil {
				return err
			}
		}
		if n == 0 && debits == 0 && asked == 0 && sent == 0 {
			return nil
		}
	}
}

// contract is the seeds' children's-clothing specification, in clear, measurable terms (R5).
func (d *demo) contract(shipIn int) trade.Contract {
	return trade.Contract{
		Currency: "USD", Incoterm: "FOB", ShipBy: trade.Day(d.clock.Now()).AddDate(0, 0, shipIn),
		Terms: trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{
			{Description: "Children's zip hoodie, organic cotton, sizes 2T–5T", Quantity: 1200, Unit: "pcs", UnitPrice: 6_50},
			{Description: "Children's joggers, organic cotton, sizes 2T–5T", Quantity: 800, Unit: "pcs", UnitPrice: 4_75},
		},
		Quality: []trade.Requirement{
			{Attribute: "Fabric", Requirement: "Organic cotton", Method: "GOTS certificate"},
			{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"},
			{Attribute: "Fabric color", Requirement: "Pantone 1935 C", Tolerance: "ΔE ≤ 1.0"},
			{Attribute: "Zipper", Requirement: "YKK"},
		},
		Compliance: []trade.Requirement{
			{Attribute: "CPSIA (US) compliant", Requirement: "yes", Method: "CPSC-accepted lab test report"},
			{Attribute: "California Prop 65 compliant", Requirement: "yes"},
		},
		Attachments: d.files,
	}
}

// confirmed places an order, lets the supplier propose the contract and the buyer confirm it.
func (d *demo) confirmed(sup trade.Actor, book bool) (*trade.Order, error) {
	c := d.contract(60)
	o, err := d.svc.Place(d.ctx, d.buyer, d.key(), trade.Place{SupplierID: sup.OrgID, Currency: "USD",
		ShipBy: c.ShipBy, ComplianceConfirmed: true})
	if err != nil {
		return nil, err
	}
	if book {
		if o, err = d.do(d.buyer, o, trade.BookInspection{InspectorID: d.inspect.OrgID}); err != nil {
			return o, err
		}
	}
	if o, err = d.do(sup, o, trade.ProposeContract{Contract: c}); err != nil {
		return o, err
	}
	if _, err := d.svc.PostMessage(d.ctx, d.buyer, d.key(), o.ID, "Please confirm the Pantone shade on the lab dip before bulk; the care label is attached.", d.files[1:]); err != nil {
		return o, err
	}
	return d.do(d.buyer, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
}

// paid sends the initial payment by card and lets the sandbox rail deliver it.
func (d *demo) paid(o *trade.Order) (*trade.Order, error) {
	o, err := d.do(d.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
	if err != nil {
		return o, err
	}
	return d.wait(o, 3*time.Hour)
}

// report submits a report on every requirement of the contract; the failing attributes fail,
// with 3 major defects, within what the plan accepts: the platform's verdict rejects the batch
// on the requirements alone (R16), and the goods meet the industry standard (R5).
func (d *demo) report(o *trade.Order, pass bool, failing ...string) (*trade.Order, error) {
	r := trade.Report{Passed: pass, SampleSize: 125, Summary: "ISO 2859-1, general level II, AQL 0/2.5/4.0"}
	c := o.Contract().Contract
	for _, req := range slices.Concat(c.Quality, c.Compliance) {
		f := trade.Finding{Attribute: req.Attribute, Measured: "as specified", Pass: !slices.Contains(failing, req.Attribute)}
		if !f.Pass && req.Attribute == "Fabric weight" {
			f.Measured = "168 g/m² average (−16%)"
		}
		r.Findings = append(r.Findings, f)
	}
	if !pass {
		r.Major = 3
	}
	return d.do(d.inspect, o, trade.SubmitReport{Report: r})
}

// shipAndRelease pays the balance by wire, ships, and lets the release timer fire.
func (d *demo) shipAndRelease(sup trade.Actor, o *trade.Order) (*trade.Order, error) {
	o, err := d.do(d.buyer, o, trade.Pay{Installment: trade.Balance, Method: payment.TTWire})
	if err != nil {
		return o, err
	}
	if o, err = d.wait(o, 3*time.Hour); err != nil {
		return o, err
	}
	if o, err = d.do(sup, o, trade.Ship{ShippedOn: trade.Day(d.clock.Now()), Carrier: "COSCO Shipping",
		Tracking: "COSU6312845170", BillOfLading: "NGB2026-118842"}); err != nil {
		return o, err
	}
	return d.wait(o, time.Minute)
}

// failedDispute drives an order to a filed dispute after a failed inspection.
func (d *demo) failedDispute(book bool, disputed ...string) (*trade.Order, error) {
	o, err := d.confirmed(d.supplier, book)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if !book {
		if o, err = d.do(d.buyer, o, trade.BookInspection{InspectorID: d.inspect.OrgID}); err != nil {
			return o, err
		}
	}
	if o, err = d.wait(o, 30*24*time.Hour); err != nil {
		return o, err
	}
	if o, err = d.report(o, false, "Fabric weight"); err != nil {
		return o, err
	}
	return d.do(d.buyer, o, trade.FileDispute{Reason: "Fabric weight 168 g/m² against 200 ± 5% in the contract", Requirements: disputed})
}

func (d *demo) timeline(o *trade.Order) {
	evs, err := d.svc.Events(d.ctx, d.admin, o.ID)
	if err != nil {
		fmt.Fprintf(d.out, "  (timeline unavailable: %v)\n", err)
		return
	}
	fmt.Fprintf(d.out, "  order %s  total %s  state %s\n", o.ID, money.New(o.Total(), o.Currency), o.State)
	for _, e := range evs {
		fmt.Fprintf(d.out, "  %s  %-9s %s\n", e.At.Format("2006-01-02 15:04"), e.Actor.Role, e.Type)
	}
	m := o.Money
	fmt.Fprintf(d.out, "  money: paid %s, released %s (early %s), refunded %s (guarantee %s), fees %s, held %s\n",
		money.New(m.Paid, o.Currency).Decimal(), money.New(m.Released, o.Currency).Decimal(),
		money.New(m.ReleasedEarly, o.Currency).Decimal(), money.New(m.Refunded, o.Currency).Decimal(),
		money.New(m.Guaranteed, o.Currency).Decimal(), money.New(m.FeesCollected, o.Currency).Decimal(),
		money.New(m.Held(), o.Currency).Decimal())
}

// loadDemo runs the demo scenarios into the server's database on virtual time that ends about
// now, then issues an API key for each demo organization and prints how to make a first call.
func loadDemo(ctx context.Context, dp deps, acc *access.Service, out io.Writer, addr string) error {
	clock := escrow.NewManualClock(time.Now().UTC().AddDate(0, 0, -400))
	svc := escrow.New(dp.db, escrow.Options{Clock: clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: 2 * time.Hour}, Blobs: dp.blobs})
	if dp.blobs == nil {
		return fmt.Errorf("the demo needs an attachment directory")
	}
	d, err := newDemo(ctx, svc, dp.blobs, clock, io.Discard)
	if err != nil {
		return err
	}
	for _, sc := range scenarios {
		if _, err := sc.run(d); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
	}
	if err := seedStates(d); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo loaded: %d orders, one left in each lifecycle state (the worker releases the shipped one "+
		"within seconds). API keys (shown once):\n", len(scenarios)+len(seeds))
	var buyerKey string
	for _, x := range []struct {
		label string
		a     trade.Actor
	}{{"buyer", d.buyer}, {"supplier", d.supplier}, {"supplier (deposit released early)", d.deposit},
		{"inspector", d.inspect}, {"arbiter", d.arbiter}, {"admin", d.admin}} {
		tok, _, err := acc.CreateAPIKey(ctx, d.admin, x.a.OrgID, x.a.Role, "demo "+x.label)
		if err != nil {
			return err
		}
		if buyerKey == "" {
			buyerKey = tok
		}
		fmt.Fprintf(out, "  %-34s %s\n", x.label, tok)
	}
	fmt.Fprintf(out, "\ntry:\n  curl -s -H 'Authorization: Bearer %s' http://%s/v1/orders | head -c 600\n", buyerKey, addr)
	fmt.Fprintf(out, "  the OpenAPI description: http://%s/openapi.json\n\n", addr)
	return nil
}
