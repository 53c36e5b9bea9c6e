package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// caseWorlds runs test on a world on SQLite and on one on PostgreSQL.
func caseWorlds(t *testing.T, test func(t *testing.T, w *world)) {
	t.Run("sqlite", func(t *testing.T) { test(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { test(t, newWorld(t, postgresURL(t))) })
}

// caseOrder is an order driven through the service to an escalated dispute about a failed
// inspection, with what makes the R19 grounds differ: a contract with a vague requirement, an
// inspection booked only once production started, a defect found after arrival.
type caseOrder struct {
	vague        bool   // add "Stitching: good quality" to the contract (R5)
	lateBooking  bool   // book the inspection after the initial payment (R19b)
	afterArrival bool   // the buyer says the issue was found after arrival (R19c)
	noInspection bool   // stop at in_production with no inspection booked
	disputed     string // the requirement the buyer disputes; default the fabric weight
}

func (w *world) caseOrder(c caseOrder) *trade.Order {
	w.t.Helper()
	buyer, sup, insp := w.actors["buyer"], w.actors["supplier"], w.actors["inspector"]
	k := w.contract(false)
	if c.vague {
		k.Quality = append(k.Quality, trade.Requirement{Attribute: "Stitching", Requirement: "good quality"})
	}
	o, err := w.svc.Place(w.ctx, buyer, w.key(), trade.Place{SupplierID: sup.OrgID, Currency: "USD", ShipBy: k.ShipBy, ComplianceConfirmed: true})
	w.must("place", err)
	step := func(a trade.Actor, cmd trade.Command) {
		w.t.Helper()
		o, err = w.svc.Do(w.ctx, a, w.key(), o.ID, cmd)
		w.must(string(cmd.Event()), err)
	}
	book := trade.BookInspection{InspectorID: insp.OrgID}
	if !c.lateBooking && !c.noInspection {
		step(buyer, book)
	}
	step(sup, trade.ProposeContract{Contract: k})
	step(buyer, trade.ConfirmContract{Hash: o.Proposal.Hash})
	step(buyer, trade.Pay{Installment: trade.Initial, Method: payment.Card})
	o = w.deliver(o)
	if c.noInspection {
		return o
	}
	if c.lateBooking {
		step(buyer, book)
	}
	findings := []trade.Finding{{Attribute: "Fabric weight", Measured: "168 g/m²", Pass: false}, {Attribute: "Zipper", Measured: "YKK", Pass: true}}
	if c.vague {
		findings = append(findings, trade.Finding{Attribute: "Stitching", Measured: "loose threads on 3 units", Pass: false})
	}
	step(insp, trade.SubmitReport{Report: trade.Report{Passed: false, SampleSize: 125, Major: 9, Findings: findings,
		Summary: "Fabric too light"}})
	disputed := "Fabric weight"
	if c.disputed != "" {
		disputed = c.disputed
	}
	step(buyer, trade.FileDispute{Reason: "Fabric weight 168 g/m² against 200 ± 5%", Requirements: []string{disputed},
		FoundAfterArrival: c.afterArrival})
	step(sup, trade.ProposeResolution{Kind: trade.PartialRefund, Amount: 500_00, Note: "5% off"})
	step(buyer, trade.RejectResolution{ProposalID: o.OpenDispute().Proposals[0].ID, Note: "not enough for 16% light fabric"})
	step(buyer, trade.Escalate{Note: "the supplier will not refund"})
	return o
}

// moneyRE matches an amount as the portal shows one.
var moneyRE = regexp.MustCompile(`USD [0-9]`)

func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

// TestCasePageByRole ensures the case file is the platform's: an arbiter and an admin see it,
// the buyer, the supplier and the inspection company are refused (403), an unknown order and an
// order without a dispute are 404; the arbiter's queue links each dispute to its case file.
func TestCasePageByRole(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		o := w.caseOrder(caseOrder{})
		path := "/orders/" + o.ID + "/case"
		for _, role := range []string{"arbiter", "admin"} {
			res := w.login(role).get(path)
			if res.status != http.StatusOK {
				t.Fatalf("%s: %d", role, res.status)
			}
			contains(t, role+"'s case page", res.body, "Case file", "Fabric weight", "168 g/m²")
		}
		for _, role := range []string{"buyer", "supplier", "inspector"} {
			if res := w.login(role).get(path); res.status != http.StatusForbidden || strings.Contains(res.body, "168 g/m²") {
				t.Errorf("%s gets the case page: %d", role, res.status)
			}
		}
		arb := w.login("arbiter")
		if res := arb.get("/orders/ord_doesnotexist/case"); res.status != http.StatusNotFound {
			t.Errorf("unknown order: %d", res.status)
		}
		calm := w.order(trade.InProduction)
		if res := arb.get("/orders/" + calm.ID + "/case"); res.status != http.StatusNotFound {
			t.Errorf("an order without a dispute: %d", res.status)
		}
		if res := arb.get("/"); !strings.Contains(res.body, `href="`+path+`"`) {
			t.Error("the arbiter's queue does not link the dispute to its case page")
		}
		// Staff get a link from the order page; the parties do not.
		if res := arb.get("/orders/" + o.ID); !strings.Contains(res.body, `href="`+path+`"`) {
			t.Error("the arbiter's order page does not link to the case file")
		}
		if res := w.login("buyer").get("/orders/" + o.ID); strings.Contains(res.body, `href="`+path+`"`) {
			t.Error("the buyer's order page links to the case file")
		}
	})
}

// TestCasePageShowsEvidence ensures the case file puts each requirement of the contract beside
// the inspector's finding with the verdict (R18), lists the sampling plan (lot, sample size,
// Ac/Re per class) and the discrepancies (R16), the dispute with its offers and escalation
// (R17), and the R19 grounds the domain computes — none for a clean case, (a)–(c) for a vague
// requirement, a late booking and a defect found after arrival — as the API's comparison does.
func TestCasePageShowsEvidence(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		arb := w.login("arbiter")
		clean := arb.get("/orders/" + w.caseOrder(caseOrder{}).ID + "/case").body
		contains(t, "case page", clean,
			// R18: the requirement beside the finding, and its result
			`<th scope="row" data-label="Attribute">Fabric weight <small class="tag">disputed</small>`,
			"200 g/m² ± 5% (ISO 3801)", "168 g/m²", "<strong class=\"bad\">fails</strong>",
			"Zipper", "YKK", "CPSIA (US) compliant", "not inspected",
			// R16: the plan for a lot of 2,000 (code letter K, 125 units, major Ac 7 / Re 8) and the discrepancies
			"lot of 2000 units", `data-label="Code letter">K<`, `data-label="Sample size" class="num">125<`,
			`data-label="Accept (Ac)" class="num">7<`, `data-label="Reject (Re)" class="num">8<`,
			"Why the batch is not accepted", "requirement",
			// R17: the dispute, the offer and its rejection, the escalation
			"Fabric weight 168 g/m² against 200 ± 5%", "Partial refund of USD 500.00", "Rejected",
			"not enough for 16% light fabric", "by buyer: <q>the supplier will not refund</q>",
			// R19: nothing applies
			"No R19 ground applies",
			// the platform's verdict decides; the inspector's call is shown beside it
			"the inspector recommended rejecting it",
			// the decide form, posting to the existing action
			`action="/orders/`, `/decide"`, "Record decision",
			// the thread
			`id="thread"`)
		messy := arb.get("/orders/" + w.caseOrder(caseOrder{vague: true, lateBooking: true, afterArrival: true}).ID + "/case").body
		contains(t, "case page with grounds", messy,
			"R19(b): no inspection was booked when the order was placed",
			"R19(c): the issue was found only after the goods arrived",
			"Stitching", "<strong>unclear</strong>", "loose threads on 3 units")
		if strings.Contains(messy, "No R19 ground applies") {
			t.Error("grounds that apply are said not to")
		}
	})
}

// TestCaseDecision ensures the arbiter decides from the case file through the existing decide
// action (R18): a decision without reasons, or a refund although an R19 ground applies and no
// override is written, is refused and the case file shows again with the error next to its
// field and what was typed; a refusal names the ground that applied (R19); the buyer's order
// page then shows the outcome.
func TestCaseDecision(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		o := w.caseOrder(caseOrder{afterArrival: true})
		path := "/orders/" + o.ID
		arb := w.login("arbiter")
		page := arb.get(path + "/case").body
		contains(t, "case page", page, "R19(c): the issue was found only after the goods arrived")
		o = mustOrder(w, path)
		form := url.Values{"idempotency_key": {formKey(t, page, path+"/decide")}, "version": {itoa(o.Version)},
			"outcome": {"refund_full"}, "reasons": {""}}
		res := arb.post(path+"/decide", form)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("no reasons: %d", res.status)
		}
		contains(t, "refused decision", res.body, "Case file", `id="f-reasons-error"`, `value="refund_full" checked`)

		// R19: a refund although the issue was found after arrival needs a written override.
		form.Set("reasons", "Fabric weight 168 g/m² is outside 200 ± 5%.")
		form.Set("idempotency_key", formKey(t, res.body, path+"/decide"))
		res = arb.post(path+"/decide", form)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("refund on a ground without override: %d", res.status)
		}
		contains(t, "refused refund", res.body, "Case file", `id="f-override-error"`, "Fabric weight 168 g/m² is outside 200 ± 5%.")

		// R19(c): no refund, naming the ground.
		form.Set("outcome", "no_refund")
		form.Set("refusals", "found_after_arrival")
		form.Set("idempotency_key", formKey(t, res.body, path+"/decide"))
		res = arb.post(path+"/decide", form)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path {
			t.Fatalf("decision: %d %s", res.status, res.header.Get("Location"))
		}
		o = mustOrder(w, path)
		d := o.Disputes[len(o.Disputes)-1].Decision
		if d == nil || d.Outcome != trade.OutcomeNoRefund || len(d.Refusals) != 1 || d.Refusals[0] != trade.RefusalAfterArrival {
			t.Fatalf("decision %+v", d)
		}
		contains(t, "decided case page", arb.get(path+"/case").body, "Decided", "No refund", "Found after arrival")
		// A second decision from a page opened before the first is refused, and says why.
		form.Set("idempotency_key", "5ec0dd0ec151017a1ab0000000000002") // a form never posted
		res = arb.post(path+"/decide", form)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("a second decision: %d", res.status)
		}
		contains(t, "second decision", res.body, "Case file", `class="form-error" role="alert">The order changed since you opened this page.`)
		contains(t, "buyer's order page", w.login("buyer").get(path).body, "Decision", "No refund", "Found after arrival")
	})
}

// TestCaseDecisionOutcomes ensures the two decisions besides a full refund work from the case
// file, as labelled there (R18): a partial refund reduces the price, refunds that much of what
// was paid and lets the order go on to shipment; "No refund: release to the supplier" accepts
// the goods as they are — the order goes on to shipment and release — and, for a dispute filed
// after release, leaves the released money with the supplier and gives the buyer a new time to
// dispute before the order completes. The ledger balances after each. R18 R19 R20
func TestCaseDecisionOutcomes(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		arb := w.login("arbiter")
		decide := func(o *trade.Order, v url.Values) {
			t.Helper()
			path := "/orders/" + o.ID
			page := arb.get(path + "/case").body
			contains(t, "the decide form", page, "Full refund to the buyer", "Partial refund to the buyer",
				"No refund: release to the supplier")
			v.Set("idempotency_key", formKey(t, page, path+"/decide"))
			v.Set("version", itoa(mustOrder(w, path).Version))
			if res := arb.post(path+"/decide", v); res.status != http.StatusSeeOther || res.header.Get("Location") != path {
				t.Fatalf("decide %v: %d %s", v, res.status, res.body)
			}
			rep, err := w.svc.CheckLedger(w.ctx)
			w.must("ledger check", err)
			if !rep.OK() {
				t.Errorf("the ledger after deciding %v: %+v", v["outcome"], rep)
			}
		}

		// A partial refund: USD 1,500.00 off an order of USD 11,600.00 whose USD 3,480.00 deposit is paid.
		o := w.caseOrder(caseOrder{})
		decide(o, url.Values{"outcome": {"refund_partial"}, "amount": {"1500.00"},
			"reasons": {"Fabric weight 168 g/m² against 200 ± 5%: a price reduction of USD 1,500.00."}})
		o = mustOrder(w, "/orders/"+o.ID)
		if o.State != trade.InspectionPassed || o.Money.Refunded != 1500_00 || o.Total() != 10100_00 || o.Money.Released != 0 {
			t.Errorf("after a partial refund: %s, refunded %d, total %d, released %d", o.State, o.Money.Refunded, o.Total(), o.Money.Released)
		}
		contains(t, "case file after a partial refund", arb.get("/orders/"+o.ID+"/case").body, "Partial refund to the buyer</strong> (USD 1,500.00)")
		contains(t, "buyer's page after a partial refund", w.login("buyer").get("/orders/"+o.ID).body,
			"Partial refund to the buyer</strong> (USD 1,500.00)", "Pay the balance", "USD 8,120.00")

		// No refund on goods that comply: the goods are accepted; the escrow waits for shipment.
		o = w.caseOrder(caseOrder{})
		decide(o, url.Values{"outcome": {"no_refund"}, "refusals": {"goods_compliant"},
			"reasons": {"168 g/m² was measured on one roll; the retest shows 198 g/m². The goods comply."}})
		o = mustOrder(w, "/orders/"+o.ID)
		if o.State != trade.InspectionPassed || o.Money.Refunded != 0 || o.Money.Held() != 3480_00 {
			t.Errorf("after no refund: %s, refunded %d, held %d", o.State, o.Money.Refunded, o.Money.Held())
		}
		contains(t, "buyer's page after no refund", w.login("buyer").get("/orders/"+o.ID).body,
			"No refund: release to the supplier", "Goods compliant")

		// A dispute filed after release: no refund leaves the money released and restarts the
		// buyer's time to dispute.
		o = w.released()
		_, err := w.svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.FileDispute{Reason: "Seams split after washing",
			Requirements: []string{"Fabric weight"}})
		w.must("dispute", err)
		_, err = w.svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.Escalate{Note: "no answer"})
		w.must("escalate", err)
		page := arb.get("/orders/" + o.ID + "/case").body
		contains(t, "the decide form after release", page, "the money already released stays with the supplier",
			"R19(c): the issue was found only after the goods arrived")
		decide(o, url.Values{"outcome": {"no_refund"}, "refusals": {"found_after_arrival"},
			"reasons": {"Found only after the goods arrived (R19c)."}})
		o = mustOrder(w, "/orders/"+o.ID)
		if o.State != trade.Released || o.Money.Released != 11600_00 || o.Money.Refunded != 0 {
			t.Errorf("after no refund on released goods: %s, released %d, refunded %d", o.State, o.Money.Released, o.Money.Refunded)
		}
		contains(t, "buyer's page after no refund on released goods", w.login("buyer").get("/orders/"+o.ID).body,
			"No refund: release to the supplier", "The buyer&#39;s time to dispute after release ends", "in 30 days")
	})
}

// TestCaseCompliantGoods ensures a buyer who disputes what the inspector found compliant gets
// no refund (R20): the case file shows the disputed requirement as met and no R19 ground, and the
// arbiter's refusal on goods_compliant is recorded and shown to the buyer.
func TestCaseCompliantGoods(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		o := w.caseOrder(caseOrder{disputed: "Zipper"})
		path := "/orders/" + o.ID
		arb := w.login("arbiter")
		page := arb.get(path + "/case").body
		contains(t, "case page", page, `Zipper <small class="tag">disputed</small>`, `<span class="ok">meets</span>`, "No R19 ground applies")
		o = mustOrder(w, path)
		res := arb.post(path+"/decide", url.Values{"idempotency_key": {formKey(t, page, path+"/decide")}, "version": {itoa(o.Version)},
			"outcome": {"no_refund"}, "refusals": {"goods_compliant"}, "reasons": {"The zipper is YKK as the contract requires."}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("decision: %d", res.status)
		}
		o = mustOrder(w, path)
		if d := o.Disputes[0].Decision; d == nil || d.Outcome != trade.OutcomeNoRefund || o.Money.Refunded != 0 {
			t.Fatalf("decision %+v, refunded %d", d, o.Money.Refunded)
		}
		contains(t, "buyer's order page", w.login("buyer").get(path).body, "No refund", "Goods compliant", "The zipper is YKK as the contract requires.")
	})
}

// TestOrderPageQuality ensures the order page shows the confirmed contract's specification check
// (R5: which requirement is vague and why), the sampling plan and the verdict with its
// discrepancies (R16), and links the contract PDF; the inspection company sees the quality but
// not the money.
func TestOrderPageQuality(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		o := w.caseOrder(caseOrder{vague: true})
		path := "/orders/" + o.ID
		buyer := w.login("buyer").get(path).body
		contains(t, "buyer's order page", buyer,
			"Specification check", "Too vague to judge a dispute on: <strong>Stitching</strong>", "Too vague", "cannot be measured",
			`href="`+path+`/contract.pdf"`,
			"lot of 2000 units", `data-label="Sample size" class="num">125<`,
			"The platform's verdict against the contract: <strong>rejected</strong>",
			"Why the batch is not accepted", "168 g/m²", "loose threads on 3 units")
		insp := w.login("inspector").get(path).body
		contains(t, "inspector's order page", insp, "Specification check", "Why the batch is not accepted", "lot of 2000 units")
		if moneyRE.MatchString(insp) {
			t.Error("the inspection company sees money on the order page")
		}
		clear := w.login("buyer").get("/orders/" + w.order(trade.InProduction).ID).body
		contains(t, "a clear contract", clear, "Every requirement is quantified clearly enough", "Sampling plan")
	})
}

// TestContractPDFRoute ensures the portal serves the confirmed contract as the API does (R3,
// R4): a PDF, the same bytes for the same version, to whoever may see the order — the parties,
// staff, and the booked inspection company, whose copy has no prices — and 404 before confirmation, for
// a version that does not exist, and for an order the viewer may not see.
func TestContractPDFRoute(t *testing.T) {
	caseWorlds(t, func(t *testing.T, w *world) {
		o := w.order(trade.InProduction)
		path := "/orders/" + o.ID + "/contract.pdf"
		want, _, err := w.svc.ContractPDF(w.ctx, w.admin, o.ID, 1)
		w.must("contract pdf", err)
		for _, role := range []string{"buyer", "supplier", "inspector", "arbiter", "admin"} {
			res := w.login(role).get(path)
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(res.body, "%PDF") {
				t.Fatalf("%s: %d %s", role, res.status, res.header.Get("Content-Type"))
			}
			wantFor := want
			if role == "inspector" { // its copy has no prices
				wantFor, _, err = w.svc.ContractPDF(w.ctx, trade.Actor{Role: trade.RoleInspector, OrgID: o.Inspection.InspectorID}, o.ID, 1)
				w.must("inspection copy", err)
				if bytes.Equal(wantFor, want) {
					t.Error("the inspection company's copy is the priced one")
				}
			}
			if !bytes.Equal([]byte(res.body), wantFor) {
				t.Errorf("%s gets other bytes than the API's generator gives", role)
			}
		}
		buyer := w.login("buyer")
		if res := buyer.get(path + "?version=1"); res.status != http.StatusOK {
			t.Errorf("version 1: %d", res.status)
		}
		for _, q := range []string{"?version=2", "?version=x", "?version=0"} {
			if res := buyer.get(path + q); res.status != http.StatusNotFound {
				t.Errorf("%s: %d", q, res.status)
			}
		}
		if res := buyer.get("/orders/" + w.order(trade.ContractProposed).ID + "/contract.pdf"); res.status != http.StatusNotFound {
			t.Errorf("an unconfirmed contract: %d", res.status)
		}
		other := w.caseOrder(caseOrder{noInspection: true}) // not booked with the inspector: not theirs to see
		if res := w.login("inspector").get("/orders/" + other.ID + "/contract.pdf"); res.status != http.StatusNotFound {
			t.Errorf("an order the inspection company may not see: %d", res.status)
		}
		if res := w.client().get(path); res.status != http.StatusSeeOther {
			t.Errorf("without a session: %d", res.status)
		}
	})
}
