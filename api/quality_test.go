package api_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// vagueContract is the fixture contract for children's apparel sold in the US, with a stitching
// requirement nobody can measure.
func (w *world) vagueContract() map[string]any {
	c := w.contract()
	c["quality_requirements"] = append(c["quality_requirements"].([]any),
		map[string]any{"attribute": "Stitching", "requirement": "good quality"})
	c["category"], c["markets"] = "childrens_apparel", []any{map[string]any{"country": "US"}}
	return c
}

// placed places an order without a contract and books the inspection.
func (w *world) placed() order {
	w.t.Helper()
	var o order
	w.ok(w.call("buyer", "POST", "/v1/orders", map[string]any{"supplier_id": w.ids["supplier"], "currency": "USD",
		"ship_by": w.contract()["ship_by"], "compliance_confirmed": true}, &o), 201)
	w.do("buyer", o.ID, "book-inspection", map[string]any{"inspector_id": w.ids["inspector"]})
	return o
}

func hasFinding(fs []quality.Finding, code, attribute string) bool {
	return slices.ContainsFunc(fs, func(f quality.Finding) bool { return f.Code == code && f.Attribute == attribute })
}

// TestSpecCheckThroughHTTP ensures the linter's result on a drafted contract is shown before
// confirmation — the unclear requirements and each finding with its explanation and rewrite —
// and is frozen with the confirmed version, readable per version, by the order's parties only. R4 R5
func TestSpecCheckThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		o := w.placed()
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/spec-check", nil, nil), 404, "contract_not_found")
		o = w.do("supplier", o.ID, "propose-contract", w.vagueContract())
		var sc struct {
			Source, Hash string
			Version      int
			Frozen       bool
			Clear        bool
			Unclear      []string
			Findings     []quality.Finding
		}
		w.ok(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/spec-check", nil, &sc), 200)
		if sc.Source != "proposal" || sc.Hash != o.Proposal.Hash || !sc.Frozen || sc.Clear || !slices.Equal(sc.Unclear, []string{"Stitching"}) ||
			!hasFinding(sc.Findings, quality.CodeVagueRequirement, "Stitching") || !hasFinding(sc.Findings, quality.CodeComplianceMissing, "CPSIA") {
			t.Fatalf("proposal's check %+v", sc)
		}
		for _, f := range sc.Findings {
			if f.Explanation == "" || f.Suggestion == "" {
				t.Errorf("finding without explanation or rewrite: %+v", f)
			}
		}
		var full struct {
			Proposal struct{ Lint trade.SpecCheck }
		}
		w.ok(w.call("supplier", "GET", "/v1/orders/"+o.ID, nil, &full), 200)
		if !slices.Equal(full.Proposal.Lint.Unclear, []string{"Stitching"}) {
			t.Fatalf("the order shows %+v", full.Proposal.Lint)
		}

		w.do("buyer", o.ID, "confirm-contract", map[string]any{"hash": o.Proposal.Hash})
		for _, path := range []string{"/spec-check", "/spec-check?version=1"} {
			w.ok(w.call("arbiter", "GET", "/v1/orders/"+o.ID+path, nil, &sc), 200)
			if sc.Source != "version" || sc.Version != 1 || sc.Hash != o.Proposal.Hash || !sc.Frozen || !slices.Equal(sc.Unclear, []string{"Stitching"}) {
				t.Fatalf("%s: %+v", path, sc)
			}
		}
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/spec-check?version=2", nil, nil), 404, "contract_version_not_found")
		w.refused(w.call("buyer2", "GET", "/v1/orders/"+o.ID+"/spec-check", nil, nil), 404, "order_not_found")
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/spec-check?version=-1", nil, nil), 422, "validation_failed")
	})
}

// TestDisputeComparisonThroughHTTP ensures the arbiter and the parties see each requirement
// beside its inspection result, the computed verdict, the industry standard's verdict and the
// computed R19 grounds; here the only failure disputed is on the unclear stitching requirement
// and the goods fail the industry standard, so no ground applies and the arbiter refunds. An
// inspection company and other buyers see no dispute. R5 R16 R18 R19
func TestDisputeComparisonThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		o := w.placed()
		o = w.do("supplier", o.ID, "propose-contract", w.vagueContract())
		w.do("buyer", o.ID, "confirm-contract", map[string]any{"hash": o.Proposal.Hash})
		w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "tt_wire"})
		w.tick(2 * time.Hour)
		o = w.do("inspector", o.ID, "inspection-report", map[string]any{"passed": true, "sample_size": 80, "major": 9,
			"findings": []any{
				map[string]any{"attribute": "Fabric weight", "measured": "201 g/m²", "pass": true},
				map[string]any{"attribute": "Stitching", "measured": "loose threads on 9 of 80", "pass": false},
			}})
		if o.State != "inspection_failed" {
			t.Fatalf("state %s: the verdict did not reject 9 major defects", o.State)
		}
		o = w.do("buyer", o.ID, "file-dispute", map[string]any{"reason": "loose threads", "requirements": []string{"Stitching"}})
		path := "/v1/orders/" + o.ID + "/disputes/" + o.Disputes[0].ID + "/comparison"
		var cmp quality.Comparison
		for _, who := range []string{"arbiter", "buyer", "supplier"} {
			w.ok(w.call(who, "GET", path, nil, &cmp), 200)
		}
		if cmp.Basis != trade.BasisIndustryStandard || len(cmp.Grounds) != 0 || !slices.Equal(cmp.Unclear, []string{"Stitching"}) ||
			cmp.Verdict == nil || cmp.Verdict.Accept || cmp.IndustryStandard == nil || cmp.IndustryStandard.Accept || cmp.Computed ||
			cmp.Report == nil || cmp.Report.InspectorPassed == nil || !*cmp.Report.InspectorPassed || cmp.ContractVersion != 1 {
			t.Fatalf("comparison %+v", cmp)
		}
		if len(cmp.Requirements) != 2 {
			t.Fatalf("requirements %+v", cmp.Requirements)
		}
		fw, st := cmp.Requirements[0], cmp.Requirements[1]
		if fw.Attribute != "Fabric weight" || fw.Requirement != "200 g/m² ± 5%" || fw.Measured != "201 g/m²" || !fw.Pass || !fw.Clear ||
			st.Attribute != "Stitching" || st.Pass || st.Clear || !st.Disputed || st.Measured != "loose threads on 9 of 80" || len(st.Lint) == 0 {
			t.Fatalf("requirements %+v", cmp.Requirements)
		}
		if len(cmp.IndustryStandard.Discrepancies) != 1 || cmp.IndustryStandard.Discrepancies[0].Class != quality.ClassMajor {
			t.Fatalf("industry standard %+v", cmp.IndustryStandard)
		}
		w.refused(w.call("inspector", "GET", path, nil, nil), 404, "dispute_not_found")
		w.refused(w.call("buyer2", "GET", path, nil, nil), 404, "order_not_found")
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/disputes/dsp_nope/comparison", nil, nil), 404, "dispute_not_found")

		w.do("supplier", o.ID, "escalate", map[string]any{"note": "the contract says nothing measurable about stitching"})
		o = w.do("arbiter", o.ID, "decide", map[string]any{"outcome": "refund_full",
			"reasons": "9 major defects in 80 units: the goods fail the industry standard (AQL 2.5 accepts 5)"})
		if o.State != "refunded" {
			t.Fatalf("state %s", o.State)
		}
		w.ok(w.call("buyer", "GET", path, nil, &cmp), 200)
		if cmp.Decision == nil || cmp.Decision.Basis != trade.BasisIndustryStandard || cmp.Decision.Outcome != trade.OutcomeFullRefund {
			t.Fatalf("decision %+v", cmp.Decision)
		}
	})
}

// TestContractPDFThroughHTTP ensures each confirmed version of a contract is served as a PDF to
// whoever may see the order, the same bytes every time, with the version hash as its ETag, and
// to the inspection company a copy without prices; versions that do not exist, and orders of
// others, are 404. R3 R4
func TestContractPDFThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		o := w.placed()
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/contract.pdf", nil, nil), 404, "contract_not_found")
		o = w.do("supplier", o.ID, "propose-contract", w.vagueContract())
		hash := o.Proposal.Hash
		w.do("buyer", o.ID, "confirm-contract", map[string]any{"hash": hash})
		first := w.ok(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/contract.pdf", nil, nil), 200)
		if ct := first.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(first.body, []byte("%PDF-")) ||
			first.header.Get("ETag") != `"`+hash+`"` || !strings.Contains(first.header.Get("Content-Disposition"), "-v1.pdf") {
			t.Fatalf("%s %q %s", ct, first.header.Get("ETag"), first.body[:min(16, len(first.body))])
		}
		for _, who := range []string{"supplier", "arbiter", "admin"} {
			r := w.ok(w.call(who, "GET", "/v1/orders/"+o.ID+"/contract.pdf?version=1", nil, nil), 200)
			if !bytes.Equal(r.body, first.body) {
				t.Fatalf("%s got other bytes for the same version", who)
			}
		}
		// The inspection company's copy leaves the money out: another representation, another ETag.
		insp := w.ok(w.call("inspector", "GET", "/v1/orders/"+o.ID+"/contract.pdf?version=1", nil, nil), 200)
		if bytes.Equal(insp.body, first.body) || !bytes.HasPrefix(insp.body, []byte("%PDF-")) || insp.header.Get("ETag") != `"`+hash+`-goods"` {
			t.Fatalf("the inspection company got the priced copy or a wrong ETag %q", insp.header.Get("ETag"))
		}
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/contract.pdf?version=2", nil, nil), 404, "contract_version_not_found")
		w.refused(w.call("buyer2", "GET", "/v1/orders/"+o.ID+"/contract.pdf", nil, nil), 404, "order_not_found")

		amended := w.vagueContract()
		amended["notes"] = "Cartons of 24."
		o = w.do("buyer", o.ID, "propose-amendment", amended)
		w.do("supplier", o.ID, "confirm-amendment", map[string]any{"hash": o.Proposal.Hash})
		v2 := w.ok(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/contract.pdf", nil, nil), 200)
		v1 := w.ok(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/contract.pdf?version=1", nil, nil), 200)
		if bytes.Equal(v2.body, first.body) || !bytes.Equal(v1.body, first.body) || v2.header.Get("ETag") != `"`+o.Proposal.Hash+`"` {
			t.Fatal("the versions' PDFs are mixed up")
		}
	})
}
