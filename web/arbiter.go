package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// casePage is the arbiter's case file. It is parsed with order.html, whose "action" and
// "thread" blocks it reuses, so it lives outside the templates/*.html glob of parsePages.
const casePage = "arbiter/case.html"

// arbiterRoutes registers the arbiter's case page and the contract PDF, and the case page's
// template.
func (s *Server) arbiterRoutes(app *http.ServeMux) {
	s.pages[casePage] = template.Must(template.New(casePage).Funcs(funcs).ParseFS(assets,
		"templates/layout.html", "templates/partials.html", "templates/order.html", "templates/"+casePage))
	app.Handle("GET /orders/{id}/case", s.auth(s.casePage))
	app.Handle("GET /orders/{id}/contract.pdf", s.auth(s.contractPDF))
}

// caseData is the arbiter's case file on one dispute (R18): the contract's requirements beside
// the inspection's findings, the sampling plan and the verdicts, the dispute, the R19 grounds
// the platform computed, the thread, and the decide form.
type caseData struct {
	O           *trade.Order
	Buyer       string
	Supplier    string
	Inspector   string
	Total       int64
	Dispute     *trade.Dispute
	Cmp         quality.Comparison
	Basis       string
	Rows        []caseRow
	Grounds     []string // the R19 grounds that apply, in words
	Offers      []offerRow
	Escalated   escalation
	Plan        []planRow
	Lot         int64
	Verdict     *quality.VerdictResult // the verdict against the contract, for its discrepancies
	Recommended string                 // what the inspector recommended: passing or rejecting the batch
	Decide      *action                // nil when the dispute is not the arbiter's to decide now
	Error       string                 // a refused decision whose form is no longer on the page
	Thread      threadData
}

// caseRow is one requirement of the contract beside the inspector's finding.
type caseRow struct {
	quality.ComparedRequirement
	Compliance bool
}

// offerRow is a settlement offer with the buyer's note when they rejected it.
type offerRow struct {
	trade.Resolution
	Rejection string
}

// escalation is who asked the platform to decide, and why.
type escalation struct {
	By   string
	Note string
}

// groundText says each R19/R20 ground in the words of the rule.
var groundText = map[trade.Refusal]string{
	trade.RefusalUnclearSpec:    "R19(a): the contract has no clear specification for what is disputed",
	trade.RefusalNoInspection:   "R19(b): no inspection was booked when the order was placed",
	trade.RefusalAfterArrival:   "R19(c): the issue was found only after the goods arrived",
	trade.RefusalGoodsCompliant: "R20: the goods comply; the buyer is merely dissatisfied",
}

// basisText says what a dispute is judged against (R5).
var basisText = map[trade.Basis]string{
	trade.BasisContract:         "the contract",
	trade.BasisIndustryStandard: "the industry standard (ISO 2859-1 level II)",
	trade.BasisNothing:          "nothing: no requirement is disputed",
}

// planRow is one defect class of the sampling plan (ISO 2859-1), with what the latest report
// found when there is one.
type planRow struct {
	Class      string
	AQL        string
	CodeLetter string
	SampleSize int64
	Accept     int
	Reject     int
	Found      int
	Judged     bool // a report was judged by this plan: Found and Pass mean something
	Pass       bool
}

// errCaseForbidden is what a party gets for the case page: the case file is the platform's.
var errCaseForbidden = fault.New(fault.Forbidden, "case_staff_only", "The case file is for the platform's arbiters and admins; the order page shows the dispute.")

// errNoDispute is what the case page of an order that was never disputed gets.
var errNoDispute = fault.New(fault.NotFound, "dispute_not_found", "This order has no dispute.")

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) {
	s.showCase(w, r, http.StatusOK, nil)
}

// showCase renders the case page; failed, when set, is a refused decide form, shown again with
// what was typed and the errors next to their fields (as showOrder does for the order page).
func (s *Server) showCase(w http.ResponseWriter, r *http.Request, status int, failed *action) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleArbiter && a.Role != trade.RoleAdmin {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: errCaseForbidden.Message})
		return
	}
	o, err := s.svc.Order(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.caseData(ctx, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case failed != nil && d.Decide != nil:
		failed.fill(d.Decide)
		d.Decide = failed
	case failed != nil: // the form is gone (decided meanwhile): say why at the top
		d.Error = failed.Form.Error
		for _, msg := range failed.Form.Errors {
			d.Error = msg
		}
	}
	s.render(w, r, status, casePage, "Case: order "+shortID(o.ID), d)
}

func (s *Server) caseData(ctx context.Context, o *trade.Order) (*caseData, error) {
	n := len(o.Disputes)
	if n == 0 {
		return nil, errNoDispute
	}
	x := &o.Disputes[n-1]
	cmp, err := quality.Compare(o, x) // the same comparison the API serves (R18, R19)
	if err != nil {
		return nil, err
	}
	d := &caseData{O: o, Buyer: s.orgName(ctx, o.BuyerID), Supplier: s.orgName(ctx, o.SupplierID),
		Total: orderTotal(o), Dispute: x, Cmp: cmp}
	if o.Inspection != nil {
		d.Inspector = s.orgName(ctx, o.Inspection.InspectorID)
	}
	d.Basis = basisText[cmp.Basis]
	if d.Basis == "" {
		d.Basis = string(cmp.Basis)
	}
	for _, r := range cmp.Requirements {
		d.Rows = append(d.Rows, caseRow{ComparedRequirement: r, Compliance: strings.HasPrefix(r.Field, "compliance_requirements")})
	}
	for _, g := range cmp.Grounds {
		d.Grounds = append(d.Grounds, groundText[g])
	}
	if err := s.disputeNotes(ctx, o, d); err != nil {
		return nil, err
	}
	d.Verdict = cmp.Verdict
	if r := cmp.Report; r != nil && r.InspectorPassed != nil {
		d.Recommended = "rejecting"
		if *r.InspectorPassed {
			d.Recommended = "passing"
		}
	}
	j, err := quality.JudgeLatest(o)
	if err != nil {
		return nil, err
	}
	d.Plan, d.Lot = planRows(j)
	acts, err := s.actions(ctx, o, viewerFrom(ctx).Actor)
	if err != nil {
		return nil, err
	}
	for _, x := range acts {
		if x.Key == "decide" {
			d.Decide = x
		}
	}
	d.Thread, err = s.thread(ctx, o, nil)
	return d, err
}

// disputeNotes reads from the order's events what the dispute itself does not keep: the
// buyer's note on each rejected offer, and who escalated and why.
func (s *Server) disputeNotes(ctx context.Context, o *trade.Order, d *caseData) error {
	evs, err := s.svc.Events(ctx, viewerFrom(ctx).Actor, o.ID)
	if err != nil {
		return err
	}
	rejected := map[string]string{}
	for _, e := range evs {
		var p struct {
			DisputeID  string `json:"dispute_id"`
			ProposalID string `json:"proposal_id"`
			Note       string `json:"note"`
		}
		switch e.Type {
		case "dispute.resolution_rejected":
			if json.Unmarshal(e.Payload, &p) == nil {
				rejected[p.ProposalID] = p.Note
			}
		case "dispute.escalated":
			if json.Unmarshal(e.Payload, &p) == nil && p.DisputeID == d.Dispute.ID {
				d.Escalated = escalation{By: roleLabel(e.Actor), Note: p.Note}
			}
		}
	}
	for _, r := range d.Dispute.Proposals {
		d.Offers = append(d.Offers, offerRow{Resolution: r, Rejection: rejected[r.ID]})
	}
	return nil
}

// planRows lists a judgement's plan per defect class, with the latest report's counts beside
// the acceptance numbers when a report was judged.
func planRows(j *quality.Judgement) ([]planRow, int64) {
	if j == nil {
		return nil, 0
	}
	var out []planRow
	for _, c := range []struct {
		class string
		p     quality.Plan
	}{{quality.ClassCritical, j.Plans.Critical}, {quality.ClassMajor, j.Plans.Major}, {quality.ClassMinor, j.Plans.Minor}} {
		row := planRow{Class: c.class, AQL: c.p.AQL.String(), CodeLetter: c.p.CodeLetter, SampleSize: c.p.SampleSize,
			Accept: c.p.Accept, Reject: c.p.Reject}
		if j.Verdict != nil {
			for _, cr := range j.Verdict.Classes {
				if cr.Class == c.class {
					row.Found, row.Pass, row.Judged = cr.Found, cr.Pass, true
				}
			}
		}
		out = append(out, row)
	}
	return out, j.Lot
}

// specCheck is the specification check frozen with the confirmed contract (R5): which
// requirements are too vague to judge a dispute on, and why.
type specCheck struct {
	Version  int
	Frozen   bool // false: the contract predates the linter, so it was checked now
	Unclear  []string
	Findings []quality.Finding
}

// addQuality adds to the order page what the platform judges quality by: the specification
// check of the confirmed contract (R5), the sampling plan and the verdict on the latest
// inspection report with its discrepancies (R16), and whether a case file exists.
func (d *orderData) addQuality(o *trade.Order) error {
	v := o.Contract()
	if v == nil {
		return nil
	}
	lint := v.Lint
	sc := &specCheck{Version: v.Version, Frozen: lint != nil}
	if lint == nil {
		lint = quality.SpecCheck(v.Contract)
	}
	fs, err := quality.Findings(lint)
	if err != nil {
		return err
	}
	sc.Unclear, sc.Findings = lint.Unclear, fs
	d.SpecCheck = sc
	j, err := quality.JudgeLatest(o)
	if err != nil {
		return err
	}
	d.Judgement = j
	d.Plan, d.Lot = planRows(j)
	d.CaseFile = len(o.Disputes) > 0 && (d.Viewer.Role == trade.RoleArbiter || d.Viewer.Role == trade.RoleAdmin)
	return nil
}

// contractPDF serves the purchase contract in force, or ?version=N, as the API does: the same
// generator and the same visibility as the order (R3, R4).
func (s *Server) contractPDF(w http.ResponseWriter, r *http.Request) {
	version := 0
	if q := r.URL.Query().Get("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			s.fail(w, r, fault.New(fault.NotFound, "contract_version_not_found", "There is no such version of the contract."))
			return
		}
		version = n
	}
	pdf, v, err := s.svc.ContractPDF(r.Context(), actorOf(r), r.PathValue("id"), version)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="contract-%s-v%d.pdf"`, r.PathValue("id"), v.Version))
	h.Set("ETag", `"`+v.Hash+`"`)
	w.Write(pdf)
}
