package escrow_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// vagueContract is the fixture contract with one requirement the linter cannot enforce.
func vagueContract(e *env) trade.Contract {
	c := contract(e.clock.Now(), 10_00)
	c.Quality = append(c.Quality, trade.Requirement{Attribute: "Stitching", Requirement: "good quality"})
	return c
}

// TestSpecCheckFrozen ensures the platform lints every drafted contract — at checkout, when
// proposed and when amended — whatever check the caller sent, shows the result with the
// proposal before confirmation, and freezes it with the confirmed version. R4 R5
func TestSpecCheckFrozen(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		c := vagueContract(e)
		forged := &trade.SpecCheck{Unclear: []string{}, Findings: json.RawMessage(`[]`)}
		o := must(e.svc.Place(e.ctx, e.buyer, e.key(), trade.Place{SupplierID: e.supplier.OrgID, Currency: "USD",
			ShipBy: c.ShipBy, ComplianceConfirmed: true, Contract: &c, Lint: forged}))
		unclear := func(s *trade.SpecCheck) []string {
			t.Helper()
			if s == nil {
				t.Fatal("no spec check")
			}
			return s.Unclear
		}
		if got := unclear(o.Proposal.Lint); !slices.Equal(got, []string{"Stitching"}) {
			t.Fatalf("checkout proposal: unclear %q", got)
		}
		fs := must(quality.Findings(o.Proposal.Lint))
		if !slices.ContainsFunc(fs, func(f quality.Finding) bool {
			return f.Code == quality.CodeVagueRequirement && f.Attribute == "Stitching" && f.Suggestion != ""
		}) {
			t.Fatalf("findings %+v", fs)
		}

		clear := contract(e.clock.Now(), 10_00)
		o = e.do(e.supplier, o, trade.ProposeContract{Contract: clear, Lint: &trade.SpecCheck{Unclear: []string{"Fabric weight"}}})
		if got := unclear(o.Proposal.Lint); len(got) != 0 {
			t.Fatalf("counter-proposal: unclear %q", got)
		}
		o = e.do(e.supplier, o, trade.ProposeContract{Contract: c, Lint: forged})
		lint := o.Proposal.Lint
		o = e.do(e.buyer, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
		if got := e.reload(o).Contract().Lint; got == nil || !slices.Equal(got.Unclear, lint.Unclear) || string(got.Findings) != string(lint.Findings) {
			t.Fatalf("frozen %+v, shown %+v", got, lint)
		}

		o = e.do(e.buyer, o, trade.ProposeAmendment{Contract: clear, Lint: forged})
		o = e.do(e.supplier, o, trade.ConfirmAmendment{Hash: o.Proposal.Hash})
		o = e.reload(o)
		if len(o.Contracts) != 2 || len(unclear(o.Contracts[1].Lint)) != 0 || !slices.Equal(unclear(o.Contracts[0].Lint), []string{"Stitching"}) {
			t.Fatalf("versions %+v", o.Contracts)
		}
	})
}

// passingReport is a report that meets the fixture contract (a lot of 1000, 80 units drawn).
func passingReport() trade.Report {
	return trade.Report{Passed: true, SampleSize: 80, Summary: "level II",
		Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "201 g/m²", Pass: true}}}
}

// inspected places an order for c, books the inspection when the order is placed (or, if
// !atPlacement, once production started: R19b), confirms the contract, receives the initial
// payment and submits r.
func (e *env) inspected(c trade.Contract, atPlacement bool, r trade.Report) *trade.Order {
	e.t.Helper()
	o := must(e.svc.Place(e.ctx, e.buyer, e.key(), trade.Place{SupplierID: e.supplier.OrgID, Currency: "USD",
		ShipBy: c.ShipBy, ComplianceConfirmed: true}))
	book := trade.BookInspection{InspectorID: e.inspect.OrgID}
	if atPlacement {
		o = e.do(e.buyer, o, book)
	}
	o = e.do(e.supplier, o, trade.ProposeContract{Contract: c})
	o = e.do(e.buyer, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
	o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
	e.clock.Advance(2 * time.Hour)
	e.timers()
	o = e.reload(o)
	if !atPlacement {
		o = e.do(e.buyer, o, book)
	}
	return e.do(e.inspect, o, trade.SubmitReport{Report: r})
}

// escalated files a dispute about reqs and hands it to the arbiter.
func (e *env) escalated(o *trade.Order, reqs ...string) (*trade.Order, *trade.Dispute) {
	e.t.Helper()
	o = e.do(e.buyer, o, trade.FileDispute{Reason: "the goods do not match the contract", Requirements: reqs})
	o = e.do(e.supplier, o, trade.Escalate{Note: "we disagree"})
	return o, o.OpenDispute()
}

// decide applies the arbiter's decision and returns the refusal reason, "" when it was accepted.
func (e *env) decide(o *trade.Order, d trade.Decide) (*trade.Order, string) {
	e.t.Helper()
	got, err := e.svc.Do(e.ctx, e.arbiter, e.key(), o.ID, d)
	if err != nil {
		if fault.ReasonOf(err) == "" {
			e.t.Fatal(err)
		}
		return o, fault.ReasonOf(err)
	}
	return got, ""
}

// discrepancies decodes a frozen verdict's discrepancies.
func discrepancies(t *testing.T, v *trade.Verdict) []quality.Discrepancy {
	t.Helper()
	if v == nil {
		t.Fatal("no verdict")
	}
	var out []quality.Discrepancy
	if err := json.Unmarshal(v.Discrepancies, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReportVerdictComputed ensures the platform computes the verdict when the inspector
// submits: accept only if every defect class is within its acceptance number at the booked
// AQLs and every requirement of the contract passed; the inspector's call is kept as a
// recommendation; a rejection notifies the parties of every discrepancy in one event; a sample
// smaller than the plan and a booking at an AQL outside the standard are refused. R5 R15 R16
func TestReportVerdictComputed(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		c := contract(e.clock.Now(), 10_00)
		c.Compliance = []trade.Requirement{{Attribute: "CPSIA compliant", Requirement: "yes"}}
		r := passingReport()
		r.Major = 6 // the plan for 1000 units at AQL 2.5 accepts 5
		r.Findings = append(r.Findings, trade.Finding{Attribute: "Stitching", Measured: "uneven", Pass: false})
		o := e.inspected(c, true, r)
		rep := o.Inspection.Reports[0]
		if o.State != trade.InspectionFailed || rep.Passed || rep.InspectorPassed == nil || !*rep.InspectorPassed {
			t.Fatalf("state %s report %+v", o.State, rep)
		}
		ds := discrepancies(t, rep.Verdict)
		got := []string{}
		for _, d := range ds {
			got = append(got, d.Kind+" "+d.Class+d.Attribute)
		}
		if want := []string{"defects_over_limit major", "requirement_not_inspected CPSIA compliant"}; !slices.Equal(got, want) {
			t.Fatalf("discrepancies %q, want %q", got, want)
		}
		if rep.Verdict.ContractVersion != 1 || rep.Standard == nil || rep.Standard.Accept {
			t.Fatalf("verdict %+v standard %+v", rep.Verdict, rep.Standard)
		}
		evs := must(e.svc.Events(e.ctx, e.buyer, o.ID))
		i := slices.IndexFunc(evs, func(ev escrow.Event) bool { return ev.Type == "inspection.failed" })
		if i < 0 {
			t.Fatal("no inspection.failed event")
		}
		var notice struct {
			Verdict struct{ Discrepancies []quality.Discrepancy }
		}
		if err := json.Unmarshal(evs[i].Payload, &notice); err != nil || len(notice.Verdict.Discrepancies) != 2 ||
			notice.Verdict.Discrepancies[1].Explanation == "" {
			t.Fatalf("the notice lists %+v (%v)", notice.Verdict.Discrepancies, err)
		}

		// Within every limit and every requirement met: accepted, whatever the inspector said.
		c2 := contract(e.clock.Now(), 10_00)
		r = passingReport()
		r.Passed, r.Major, r.Minor = false, 5, 7
		if o := e.inspected(c2, true, r); o.State != trade.InspectionPassed || !o.Inspection.Reports[0].Passed {
			t.Fatalf("state %s", o.State)
		}

		// A stricter AQL booked: 1.0 accepts 2 major defects in 80 units.
		o = e.confirmed(10_00)
		o = e.do(e.buyer, o, trade.BookInspection{InspectorID: e.inspect.OrgID, AQL: trade.AQL{Critical: "0", Major: "1.0", Minor: "4.0"}})
		o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		e.clock.Advance(2 * time.Hour)
		e.timers()
		r = passingReport()
		r.SampleSize = 79
		_, err := e.svc.Do(e.ctx, e.inspect, e.key(), o.ID, trade.SubmitReport{Report: r})
		if fault.ReasonOf(err) != "sample_too_small" {
			t.Fatalf("a sample of 79: %v", err)
		}
		r.SampleSize, r.Major = 80, 3
		o = e.do(e.inspect, e.reload(o), trade.SubmitReport{Report: r, Verdict: &trade.Verdict{Accept: true}})
		if o.State != trade.InspectionFailed || discrepancies(t, o.Inspection.Reports[0].Verdict)[0].Class != quality.ClassMajor {
			t.Fatalf("state %s verdict %s", o.State, o.Inspection.Reports[0].Verdict.Discrepancies)
		}
		_, err = e.svc.Do(e.ctx, e.buyer, e.key(), o.ID, trade.BookInspection{InspectorID: e.inspect.OrgID,
			AQL: trade.AQL{Critical: "0", Major: "2.6", Minor: "4.0"}})
		if fe, ok := fault.As(err); !ok || fe.Reason != "unknown_aql" || fe.Field != "aql.major" {
			t.Fatalf("AQL 2.6: %v", err)
		}
	})
}

// TestDisputeClearRequirementRefunded ensures a report that fails a clear requirement ends in a
// refund: the verdict rejects the batch, the buyer disputes that requirement, no R19 ground
// applies, and the arbiter refunds in full without having to override anything. R13 R16 R18 R19
func TestDisputeClearRequirementRefunded(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		r := passingReport()
		r.Passed, r.Findings[0] = true, trade.Finding{Attribute: "Fabric weight", Measured: "168 g/m²", Pass: false}
		o := e.inspected(contract(e.clock.Now(), 10_00), true, r)
		if o.State != trade.InspectionFailed {
			t.Fatalf("state %s", o.State)
		}
		o, x := e.escalated(o, "Fabric weight")
		if g := o.Grounds(x); len(g) != 0 || o.Basis(x) != trade.BasisContract {
			t.Fatalf("grounds %v basis %s", g, o.Basis(x))
		}
		o, reason := e.decide(o, trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "168 g/m² against 200 ± 5%"})
		if reason != "" || o.State != trade.Refunded || o.Money.Refunded != 3_000_00 || o.Money.Held() != 0 {
			t.Fatalf("refusal %q state %s money %+v", reason, o.State, o.Money)
		}
		d := o.Disputes[0].Decision
		if len(d.Computed) != 0 || d.Basis != trade.BasisContract {
			t.Fatalf("decision %+v", d)
		}
		e.checkLedger()
	})
}

// TestDisputeUnclearRequirementIndustryStandard ensures a dispute whose only failure is on a
// requirement the linter found unenforceable is judged by the industry standard (ISO 2859-1
// level II, AQL 0/2.5/4.0 for the lot): goods that fail it are refunded without R19(a), goods
// that meet it are refused on R19(a) unless the arbiter overrides in writing. R5 R19
func TestDisputeUnclearRequirementIndustryStandard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		major   int
		grounds []trade.Refusal
	}{
		{"the goods fail the industry standard", 9, nil},
		{"the goods meet the industry standard", 3, []trade.Refusal{trade.RefusalUnclearSpec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			databases(t, func(t *testing.T, e *env) {
				c := vagueContract(e)
				r := passingReport()
				r.Major = tc.major // 5 accepted for 1000 units at 2.5, the contract's AQLs and the standard's
				r.Findings = append(r.Findings, trade.Finding{Attribute: "Stitching", Measured: "loose threads", Pass: false})
				o := e.inspected(c, true, r)
				if o.State != trade.InspectionFailed || !slices.Equal(o.Contract().Lint.Unclear, []string{"Stitching"}) {
					t.Fatalf("state %s lint %+v", o.State, o.Contract().Lint)
				}
				o, x := e.escalated(o, "Stitching")
				if got := o.Grounds(x); !slices.Equal(got, tc.grounds) || o.Basis(x) != trade.BasisIndustryStandard {
					t.Fatalf("grounds %v basis %s, want %v", got, o.Basis(x), tc.grounds)
				}
				refund := trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "loose threads on 9% of the sample"}
				if tc.grounds == nil {
					if o, reason := e.decide(o, refund); reason != "" || o.State != trade.Refunded {
						t.Fatalf("refund: %q, state %s", reason, o.State)
					}
					return
				}
				if _, reason := e.decide(o, refund); reason != "refusal_applies" {
					t.Fatalf("refund without override: %q", reason)
				}
				o, reason := e.decide(o, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "no clear stitching requirement; the goods meet the industry standard",
					Refusals: tc.grounds})
				if reason != "" || o.State != trade.InspectionPassed || o.Disputes[0].Decision.Basis != trade.BasisIndustryStandard {
					t.Fatalf("refusal %q state %s", reason, o.State)
				}
			})
		})
	}
}

// TestR19aUnclearSpecification ensures a quality refund is refused on R19(a) when the contract
// has no specification for what is disputed and the goods meet the industry standard, and that
// the decision says so. R19
func TestR19aUnclearSpecification(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		r := passingReport()
		r.Major, r.Findings[0] = 2, trade.Finding{Attribute: "Fabric weight", Measured: "188 g/m²", Pass: false}
		o := e.inspected(contract(e.clock.Now(), 10_00), true, r)
		o, x := e.escalated(o, "Packaging")
		a := []trade.Refusal{trade.RefusalUnclearSpec}
		if got := o.Grounds(x); !slices.Equal(got, a) {
			t.Fatalf("grounds %v", got)
		}
		o, reason := e.decide(o, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "the contract says nothing about packaging", Refusals: a})
		if d := o.Disputes[0].Decision; reason != "" || !slices.Equal(d.Refusals, a) || !slices.Equal(d.Computed, a) {
			t.Fatalf("refusal %q decision %+v", reason, o.Disputes[0].Decision)
		}
	})
}

// TestR19bNoInspectionAtPlacement ensures a quality refund is refused on R19(b) when the
// inspection was booked only once production had started; an override with a written reason
// still refunds. R19
func TestR19bNoInspectionAtPlacement(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		r := passingReport()
		r.Findings[0] = trade.Finding{Attribute: "Fabric weight", Measured: "168 g/m²", Pass: false}
		o := e.inspected(contract(e.clock.Now(), 10_00), false, r)
		o, x := e.escalated(o, "Fabric weight")
		b := []trade.Refusal{trade.RefusalNoInspection}
		if got := o.Grounds(x); !slices.Equal(got, b) {
			t.Fatalf("grounds %v", got)
		}
		refund := trade.Decide{Outcome: trade.OutcomeFullRefund, Reasons: "168 g/m²"}
		if _, reason := e.decide(o, refund); reason != "refusal_applies" {
			t.Fatalf("refund without override: %q", reason)
		}
		if _, reason := e.decide(o, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "x", Refusals: []trade.Refusal{trade.RefusalAfterArrival}}); reason != "refusal_not_applicable" {
			t.Fatalf("a ground that does not apply: %q", reason)
		}
		refund.Override = "the buyer booked on the day production started; the report is conclusive"
		o, reason := e.decide(o, refund)
		if d := o.Disputes[0].Decision; reason != "" || o.State != trade.Refunded || !slices.Equal(d.Computed, b) || d.Override == "" {
			t.Fatalf("refusal %q state %s decision %+v", reason, o.State, d)
		}
	})
}

// TestR19cFoundAfterArrival ensures a quality refund is refused on R19(c) when the issue is
// raised only after the goods were released to the buyer's country. R19
func TestR19cFoundAfterArrival(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.shipped()
		e.timers()
		o = e.reload(o)
		if o.State != trade.Released {
			t.Fatalf("state %s", o.State)
		}
		o, x := e.escalated(o, "Fabric weight")
		c := []trade.Refusal{trade.RefusalAfterArrival}
		if got := o.Grounds(x); !slices.Equal(got, c) || !x.FoundAfterArrival {
			t.Fatalf("grounds %v dispute %+v", got, x)
		}
		o, reason := e.decide(o, trade.Decide{Outcome: trade.OutcomeNoRefund, Reasons: "found by the buyer's lab after arrival", Refusals: c})
		if d := o.Disputes[0].Decision; reason != "" || o.State != trade.Released || !slices.Equal(d.Refusals, c) {
			t.Fatalf("refusal %q state %s decision %+v", reason, o.State, d)
		}
	})
}
