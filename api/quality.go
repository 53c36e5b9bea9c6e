package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// SpecCheckView is the specification linter's result on a contract (R5).
type SpecCheckView struct {
	Source   string                `json:"source" enum:"proposal,version" doc:"The open proposal, or a confirmed version."`
	Version  int                   `json:"version,omitempty" doc:"The confirmed version; absent for a proposal."`
	Hash     string                `json:"hash" doc:"The hash of the contract checked."`
	Frozen   bool                  `json:"frozen" doc:"Computed when the contract was proposed and kept with it; false when computed now for a contract proposed before the linter ran."`
	Unclear  []string              `json:"unclear" doc:"Attributes too unclear to judge a dispute on: a dispute about one is judged by the industry standard (R5, R19a)."`
	Clear    bool                  `json:"clear" doc:"No requirement is unclear."`
	Findings []quality.LintFinding `json:"findings"`
}

func (s *Server) registerQuality(a huma.API) {
	s.registerContractPDF(a)
	tags := []string{"Quality"}
	huma.Register(a, huma.Operation{OperationID: "get_spec_check", Method: http.MethodGet, Path: "/v1/orders/{id}/spec-check",
		Summary: "The specification linter's result on the proposal or a confirmed version (R5)", Tags: tags, Security: bearerAuth,
		Description: "Without version: the open proposal's check, shown before confirmation, or else the latest " +
			"confirmed version's, frozen with it. Each finding explains the problem and suggests a rewrite."},
		func(ctx context.Context, in *struct {
			ID      string `path:"id" maxLength:"64"`
			Version int    `query:"version" minimum:"0" doc:"A confirmed version (1, 2, …); 0 or absent: the proposal, else the latest."`
		}) (*struct{ Body SpecCheckView }, error) {
			o, err := s.svc.Order(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			v, err := specCheckOf(o, in.Version)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body SpecCheckView }{v}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "get_dispute_comparison", Method: http.MethodGet,
		Path:    "/v1/orders/{id}/disputes/{dispute_id}/comparison",
		Summary: "The contract's requirements beside the inspection's results, the verdicts and the R19 grounds (R5, R18, R19)",
		Tags:    tags, Security: bearerAuth,
		Description: "For the arbiter and the parties. The grounds are what a decision is checked against: a refund " +
			"on a ground that applies needs a written override."},
		func(ctx context.Context, in *struct {
			ID        string `path:"id" maxLength:"64"`
			DisputeID string `path:"dispute_id" maxLength:"100"`
		}) (*struct{ Body quality.Comparison }, error) {
			o, err := s.svc.Order(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			x := findDispute(o, in.DisputeID)
			if x == nil || actor(ctx).Role == trade.RoleInspector { // an inspection company sees the goods, not disputes
				return nil, s.fail(ctx, fault.New(fault.NotFound, "dispute_not_found", "no such dispute on this order"))
			}
			cmp, err := quality.Compare(o, x)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body quality.Comparison }{cmp}, nil
		})
}

// contractPDFOut is a purchase contract as a PDF.
type contractPDFOut struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	ETag               string `header:"ETag"`
	Body               []byte
}

func (s *Server) registerContractPDF(a huma.API) {
	huma.Register(a, huma.Operation{OperationID: "get_contract_pdf", Method: http.MethodGet, Path: "/v1/orders/{id}/contract.pdf",
		Summary: "A confirmed purchase contract as a PDF (R3, R4)", Tags: []string{"Quality"}, Security: bearerAuth,
		Description: "The parties, line items, quality and compliance requirements, payment terms, shipping date, the " +
			"attachments with their SHA-256 references and the version hash. The same version always gives the same bytes; " +
			"the ETag is the version hash. The booked inspection company's copy leaves out prices, totals and payment " +
			"terms (it never sees the money); its ETag is the version hash with the suffix -goods.",
		Responses: map[string]*huma.Response{"200": {Description: "The contract",
			Content: map[string]*huma.MediaType{"application/pdf": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}},
		func(ctx context.Context, in *struct {
			ID      string `path:"id" maxLength:"64"`
			Version int    `query:"version" minimum:"0" doc:"A confirmed version (1, 2, …); 0 or absent: the one in force."`
		}) (*contractPDFOut, error) {
			pdf, v, err := s.svc.ContractPDF(ctx, actor(ctx), in.ID, in.Version)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			etag := v.Hash
			if actor(ctx).Role == trade.RoleInspector {
				etag += "-goods" // another representation of the same version
			}
			return &contractPDFOut{ContentType: "application/pdf", ETag: `"` + etag + `"`, Body: pdf,
				ContentDisposition: fmt.Sprintf(`inline; filename="contract-%s-v%d.pdf"`, in.ID, v.Version)}, nil
		})
}

// specCheckOf picks the check of the proposal or a version; a contract proposed before the
// linter ran is linted now.
func specCheckOf(o *trade.Order, version int) (SpecCheckView, error) {
	var v SpecCheckView
	var c trade.Contract
	var lint *trade.SpecCheck
	switch {
	case version > len(o.Contracts):
		return v, fault.New(fault.NotFound, "contract_version_not_found", "the order has %d confirmed versions", len(o.Contracts))
	case version > 0:
		cv := o.Contracts[version-1]
		v = SpecCheckView{Source: "version", Version: cv.Version, Hash: cv.Hash}
		c, lint = cv.Contract, cv.Lint
	case o.Proposal != nil:
		v = SpecCheckView{Source: "proposal", Hash: o.Proposal.Hash}
		c, lint = o.Proposal.Contract, o.Proposal.Lint
	case len(o.Contracts) > 0:
		cv := o.Contract()
		v = SpecCheckView{Source: "version", Version: cv.Version, Hash: cv.Hash}
		c, lint = cv.Contract, cv.Lint
	default:
		return v, fault.New(fault.NotFound, "contract_not_found", "no contract has been proposed yet")
	}
	v.Frozen = lint != nil
	if lint == nil {
		lint = quality.SpecCheck(c)
	}
	fs, err := quality.Findings(lint)
	if err != nil {
		return v, err
	}
	v.Unclear, v.Clear = lint.Unclear, len(lint.Unclear) == 0
	v.Findings = make([]quality.LintFinding, len(fs))
	for i, f := range fs {
		v.Findings[i] = quality.LintFinding(f)
	}
	if v.Unclear == nil {
		v.Unclear = []string{}
	}
	return v, nil
}

func findDispute(o *trade.Order, id string) *trade.Dispute {
	for i := range o.Disputes {
		if o.Disputes[i].ID == id {
			return &o.Disputes[i]
		}
	}
	return nil
}
