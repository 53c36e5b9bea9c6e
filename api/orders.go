package api

import (
	"context"
	"encoding/json"
	"fmt"

	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// OrderView is an order as the API shows it, with the figures a client would otherwise compute.
type OrderView struct {
	*trade.Order
	Total       int64 `json:"total" doc:"Agreed value after price reductions, in minor units."`
	Outstanding int64 `json:"outstanding" doc:"What the buyer still owes, in minor units."`
	EscrowHeld  int64 `json:"escrow_held" doc:"What escrow holds for this order now, in minor units."`
}

// view shows o to a: an inspection company sees the goods, not the money.
func view(o *trade.Order, a trade.Actor) OrderView {
	v := OrderView{Order: o, Total: o.Total(), Outstanding: o.Outstanding(), EscrowHeld: o.Money.Held()}
	if a.Role == trade.RoleInspector {
		c := *o
		c.Payments, c.Money, c.Disputes, c.Coverage = nil, trade.Tally{}, nil, 0
		v = OrderView{Order: &c}
	}
	return v
}

func etag(o *trade.Order) string { return `"v` + strconv.FormatInt(o.Version, 10) + `"` }

// ifMatch parses an If-Match header into an order version (0: none given).
func ifMatch(h string) (int64, error) {
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h, "W/"), `"v`), `"`), 10, 64)
	if err != nil || v <= 0 {
		return 0, errorf(http.StatusBadRequest, "invalid_if_match", `If-Match takes an ETag from a previous response, e.g. "v3"`)
	}
	return v, nil
}

type orderOut struct {
	ETag string `header:"ETag"`
	Body OrderView
}

func (s *Server) orderOut(ctx context.Context, o *trade.Order, err error) (*orderOut, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &orderOut{ETag: etag(o), Body: view(o, actor(ctx))}, nil
}

// cmdIn is the input of every order command.
type cmdIn[B any] struct {
	ID             string `path:"id" maxLength:"64" doc:"The order ID."`
	IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255" doc:"Unique per intended action; a retry with the same key returns the first response."`
	IfMatch        string `header:"If-Match" maxLength:"32" doc:"An ETag from a previous read: the command applies only if the order is still at that version."`
	Body           B
}

// command registers POST /v1/orders/{id}/<verb> for one lifecycle command.
func command[B any](a huma.API, s *Server, verb, summary, who string, toCmd func(*B) (trade.Command, error)) {
	huma.Register(a, huma.Operation{
		OperationID: strings.ReplaceAll(verb, "-", "_"), Method: http.MethodPost,
		Path: "/v1/orders/{id}/" + verb, Summary: summary, Description: summary + " Allowed: " + who + ".",
		Tags: []string{"Order lifecycle"}, Security: bearerAuth, DefaultStatus: http.StatusOK,
	}, func(ctx context.Context, in *cmdIn[B]) (*orderOut, error) {
		version, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		cmd, err := toCmd(&in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		o, err := s.svc.DoIfVersion(ctx, actor(ctx), in.IdempotencyKey, in.ID, version, cmd)
		return s.orderOut(ctx, o, err)
	})
}

// reportBody is what an inspector sends; who and when are the server's to record.
type reportBody struct {
	Passed     bool               `json:"passed" doc:"The inspector's recommendation: the platform's verdict decides (R16), see docs/quality.md."`
	SampleSize int                `json:"sample_size" minimum:"0"`
	Critical   int                `json:"critical,omitempty" minimum:"0"`
	Major      int                `json:"major,omitempty" minimum:"0"`
	Minor      int                `json:"minor,omitempty" minimum:"0"`
	Findings   []trade.Finding    `json:"findings,omitempty" maxItems:"200"`
	Photos     []trade.Attachment `json:"photos,omitempty" maxItems:"50"`
	Summary    string             `json:"summary,omitempty" maxLength:"2000"`
}

type noteBody struct {
	Note string `json:"note,omitempty" maxLength:"2000"`
}
type hashBody struct {
	Hash string `json:"hash" doc:"The proposal hash you reviewed (from proposal.hash)."`
}

func (s *Server) registerOrders(a huma.API) {
	huma.Register(a, huma.Operation{OperationID: "place_order", Method: http.MethodPost, Path: "/v1/orders",
		Summary: "Place an order at checkout (buyer)", Tags: []string{"Orders"}, Security: bearerAuth,
		DefaultStatus: http.StatusCreated, Description: "Records the shipping date and the buyer's confirmation " +
			"that the goods must comply with the contract's quality requirements (R2). The supplier must be eligible (R1)."},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				SupplierID          string          `json:"supplier_id" maxLength:"64"`
				Currency            string          `json:"currency" pattern:"^[A-Z]{3}$"`
				ShipBy              time.Time       `json:"ship_by" doc:"The last day to ship, as midnight UTC: 2026-05-01T00:00:00Z."`
				ComplianceConfirmed bool            `json:"compliance_confirmed"`
				Contract            *trade.Contract `json:"contract,omitempty" doc:"The buyer's proposed purchase contract, if ready."`
			}
		}) (*orderOut, error) {
			b := in.Body
			o, err := s.svc.Place(ctx, actor(ctx), in.IdempotencyKey, trade.Place{SupplierID: b.SupplierID,
				Currency: money.Currency(b.Currency), ShipBy: b.ShipBy, ComplianceConfirmed: b.ComplianceConfirmed, Contract: b.Contract})
			return s.orderOut(ctx, o, err)
		})

	huma.Register(a, huma.Operation{OperationID: "get_order", Method: http.MethodGet, Path: "/v1/orders/{id}",
		Summary: "Read an order", Tags: []string{"Orders"}, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*orderOut, error) {
			o, err := s.svc.Order(ctx, actor(ctx), in.ID)
			return s.orderOut(ctx, o, err)
		})

	huma.Register(a, huma.Operation{OperationID: "list_orders", Method: http.MethodGet, Path: "/v1/orders",
		Summary: "List the orders you may see, by ID (oldest first)", Tags: []string{"Orders"}, Security: bearerAuth,
		Description: "Filters narrow what you may see and never widen it: a buyer, supplier or inspection company " +
			"sees only its own orders whatever it asks, so naming another organization in its own role's filter " +
			"gives an empty page. Platform staff may filter by any party."},
		s.listOrders)

	s.registerCommands(a)
	s.registerThread(a)
}

type orderPage struct {
	Items      []OrderView `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

func validState(s string) bool {
	for _, x := range trade.States {
		if string(x) == s {
			return true
		}
	}
	return false
}

func (s *Server) registerCommands(a huma.API) {
	command(a, s, "propose-contract", "Propose (or counter) the purchase contract", "buyer, supplier",
		func(b *trade.Contract) (trade.Command, error) { return trade.ProposeContract{Contract: *b}, nil })
	command(a, s, "confirm-contract", "Confirm the other party's proposal; it is frozen and hashed (R4)", "the other party",
		func(b *hashBody) (trade.Command, error) { return trade.ConfirmContract{Hash: b.Hash}, nil })
	command(a, s, "propose-amendment", "Propose a change to the confirmed contract (R4)", "buyer, supplier",
		func(b *trade.Contract) (trade.Command, error) { return trade.ProposeAmendment{Contract: *b}, nil })
	command(a, s, "confirm-amendment", "Confirm the other party's amendment", "the other party",
		func(b *hashBody) (trade.Command, error) { return trade.ConfirmAmendment{Hash: b.Hash}, nil })
	command(a, s, "book-inspection", "Book a pre-shipment inspection (R15)", "buyer",
		func(b *bookInspectionBody) (trade.Command, error) {
			return trade.BookInspection{InspectorID: b.InspectorID, AQL: b.AQL}, nil
		})
	command(a, s, "pay", "Send the initial payment or pay the balance: issues payment instructions (R6)", "buyer",
		func(b *payBody) (trade.Command, error) {
			return trade.Pay{Installment: trade.Installment(b.Installment), Method: payment.Method(b.Method)}, nil
		})
	command(a, s, "inspection-report", "Submit the inspection report: pass or reject the batch (R16)", "the booked inspector",
		func(b *reportBody) (trade.Command, error) {
			return trade.SubmitReport{Report: trade.Report{Passed: b.Passed, SampleSize: b.SampleSize, Critical: b.Critical,
				Major: b.Major, Minor: b.Minor, Findings: b.Findings, Photos: b.Photos, Summary: b.Summary}}, nil
		})
	command(a, s, "accept-goods", "Accept a rejected batch as it is, without a refund", "buyer",
		func(b *noteBody) (trade.Command, error) { return trade.AcceptGoods{Note: b.Note}, nil })
	command(a, s, "file-dispute", "File a dispute (R17)", "buyer",
		func(b *fileDisputeBody) (trade.Command, error) {
			return trade.FileDispute{Reason: b.Reason, Requirements: b.Requirements, FoundAfterArrival: b.FoundAfterArrival}, nil
		})
	command(a, s, "propose-resolution", "Offer a settlement: full or partial refund, or rework (R17)", "supplier",
		func(b *proposeResolutionBody) (trade.Command, error) {
			return trade.ProposeResolution{Kind: trade.ResolutionKind(b.Kind), Amount: b.Amount, Note: b.Note}, nil
		})
	command(a, s, "accept-resolution", "Accept the supplier's open offer", "buyer",
		func(b *acceptResolutionBody) (trade.Command, error) {
			return trade.AcceptResolution{ProposalID: b.ProposalID}, nil
		})
	command(a, s, "reject-resolution", "Reject the supplier's open offer", "buyer",
		func(b *rejectResolutionBody) (trade.Command, error) {
			return trade.RejectResolution{ProposalID: b.ProposalID, Note: b.Note}, nil
		})
	command(a, s, "escalate", "Hand the dispute to the platform's arbiter", "buyer, supplier",
		func(b *noteBody) (trade.Command, error) { return trade.Escalate{Note: b.Note}, nil })
	command(a, s, "decide", "Decide an escalated dispute with written reasons (R18, R19)", "arbiter",
		func(b *decideBody) (trade.Command, error) {
			rs := make([]trade.Refusal, len(b.Refusals))
			for i, r := range b.Refusals {
				rs[i] = trade.Refusal(r)
			}
			return trade.Decide{Outcome: trade.Outcome(b.Outcome), Amount: b.Amount, Reasons: b.Reasons, Refusals: rs, Override: b.Override}, nil
		})
	command(a, s, "ship", "Record the shipment (on or before the shipping date)", "supplier",
		func(b *shipBody) (trade.Command, error) {
			return trade.Ship{ShippedOn: b.ShippedOn, Carrier: b.Carrier, Tracking: b.Tracking, BillOfLading: b.BillOfLading}, nil
		})
	command(a, s, "release", "Release escrow to the supplier now instead of waiting for the timer (R12)", "admin",
		func(*struct{}) (trade.Command, error) { return trade.Release{}, nil })
	command(a, s, "complete", "Confirm receipt and close the order", "buyer",
		func(*struct{}) (trade.Command, error) { return trade.Complete{}, nil })
	command(a, s, "refund", "Take a full refund of a late order (R13)", "buyer",
		func(*struct{}) (trade.Command, error) { return trade.Refund{}, nil })
	command(a, s, "cancel", "Cancel an order before any money arrived", "buyer, supplier",
		func(b *cancelBody) (trade.Command, error) {
			return trade.Cancel{Reason: b.Reason}, nil
		})
}

// bookInspectionBody is the body of book-inspection.
type bookInspectionBody struct {
	InspectorID string    `json:"inspector_id" maxLength:"64"`
	AQL         trade.AQL `json:"aql,omitempty" doc:"Default: 0 critical, 2.5 major, 4.0 minor (R5)."`
}

// payBody is the body of pay.
type payBody struct {
	Installment string `json:"installment" enum:"initial,balance"`
	Method      string `json:"method" enum:"tt_wire,tt_local,card,western_union,pay_later,online_bank,boleto"`
}

// fileDisputeBody is the body of file-dispute.
type fileDisputeBody struct {
	Reason            string   `json:"reason" maxLength:"2000"`
	Requirements      []string `json:"requirements,omitempty" maxItems:"200" doc:"The contract attributes disputed."`
	FoundAfterArrival bool     `json:"found_after_arrival,omitempty"`
}

// proposeResolutionBody is the body of propose-resolution.
type proposeResolutionBody struct {
	Kind   string `json:"kind" enum:"full_refund,partial_refund,rework"`
	Amount int64  `json:"amount,omitempty" minimum:"0" doc:"For a partial refund, in minor units."`
	Note   string `json:"note,omitempty" maxLength:"2000"`
}

// acceptResolutionBody is the body of accept-resolution.
type acceptResolutionBody struct {
	ProposalID string `json:"proposal_id" maxLength:"100"`
}

// rejectResolutionBody is the body of reject-resolution.
type rejectResolutionBody struct {
	ProposalID string `json:"proposal_id" maxLength:"100"`
	Note       string `json:"note,omitempty" maxLength:"2000"`
}

// decideBody is the body of decide.
type decideBody struct {
	Outcome  string   `json:"outcome" enum:"refund_full,refund_partial,no_refund"`
	Amount   int64    `json:"amount,omitempty" minimum:"0"`
	Reasons  string   `json:"reasons" maxLength:"2000"`
	Refusals []string `json:"refusals,omitempty" maxItems:"4" doc:"unclear_specification, no_inspection_at_placement, found_after_arrival, goods_compliant"`
	Override string   `json:"override,omitempty" maxLength:"2000"`
}

// shipBody is the body of ship.
type shipBody struct {
	ShippedOn    time.Time `json:"shipped_on" doc:"The ship date, as midnight UTC."`
	Carrier      string    `json:"carrier" maxLength:"2000"`
	Tracking     string    `json:"tracking_number" maxLength:"2000"`
	BillOfLading string    `json:"bill_of_lading,omitempty" maxLength:"2000"`
}

// cancelBody is the body of cancel.
type cancelBody struct {
	Reason string `json:"reason,omitempty" maxLength:"2000"`
}

// EventView is one audit entry.
type EventView struct {
	Seq      int64           `json:"seq"`
	Type     string          `json:"type"`
	Actor    trade.Actor     `json:"actor"`
	At       time.Time       `json:"at"`
	Payload  json.RawMessage `json:"payload"`
	Hash     string          `json:"hash"`
	PrevHash string          `json:"prev_hash"`
}

func (s *Server) registerThread(a huma.API) {
	huma.Register(a, huma.Operation{OperationID: "list_order_events", Method: http.MethodGet, Path: "/v1/orders/{id}/events",
		Summary: "The order's hash-chained audit log, a page at a time", Tags: []string{"Orders"}, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID    string `path:"id" maxLength:"64"`
			After int64  `query:"after" minimum:"0" default:"0" doc:"The next_cursor of the previous page (a seq); 0 for the start."`
			Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Events per page (at most 100)."`
		}) (*struct{ Body eventPage }, error) {
			evs, next, err := s.svc.OrderEventsPage(ctx, actor(ctx), in.ID, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := eventPage{Items: make([]EventView, len(evs)), NextCursor: next}
			for i, e := range evs {
				page.Items[i] = EventView{Seq: e.Seq, Type: e.Type, Actor: e.Actor, At: e.At, Payload: e.Payload, Hash: e.Hash, PrevHash: e.PrevHash}
			}
			return &struct{ Body eventPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_messages", Method: http.MethodGet, Path: "/v1/orders/{id}/messages",
		Summary: "The order's message thread (R23), oldest first, a page at a time", Tags: []string{"Orders"}, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID    string `path:"id" maxLength:"64"`
			After string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body messagePage }, error) {
			ms, next, err := s.svc.MessagesPage(ctx, actor(ctx), in.ID, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body messagePage }{messagePage{Items: ms, NextCursor: next}}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "post_message", Method: http.MethodPost, Path: "/v1/orders/{id}/messages",
		Summary: "Post to the order's thread; attachments refer to uploaded files (R23)", Tags: []string{"Orders"},
		Security: bearerAuth, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				Body        string             `json:"body" maxLength:"10000"`
				Attachments []trade.Attachment `json:"attachments,omitempty" maxItems:"10"`
			}
		}) (*struct{ Body trade.Message }, error) {
			m, err := s.svc.PostMessage(ctx, actor(ctx), in.IdempotencyKey, in.ID, in.Body.Body, in.Body.Attachments)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body trade.Message }{m}, nil
		})
}

// listOrdersIn is the query of list_orders.
type listOrdersIn struct {
	State        string    `query:"state" doc:"Only orders in this state."`
	BuyerID      string    `query:"buyer_id" maxLength:"64" doc:"Only this buyer's orders."`
	SupplierID   string    `query:"supplier_id" maxLength:"64" doc:"Only this supplier's orders."`
	InspectorID  string    `query:"inspector_id" maxLength:"64" doc:"Only orders whose inspection this company is booked for."`
	PlacedFrom   time.Time `query:"placed_from" doc:"Only orders placed at or after this time (RFC 3339)."`
	PlacedBefore time.Time `query:"placed_before" doc:"Only orders placed before this time (RFC 3339)."`
	After        string    `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
	Limit        int       `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Orders per page (at most 100)."`
}

func (s *Server) listOrders(ctx context.Context, in *listOrdersIn) (*struct{ Body orderPage }, error) {
	if in.State != "" && !validState(in.State) {
		return nil, newProblem(http.StatusUnprocessableEntity, "invalid_state", fmt.Sprintf("unknown state %q", in.State),
			&huma.ErrorDetail{Location: "query.state", Message: "not an order state", Value: in.State})
	}
	if !in.PlacedFrom.IsZero() && !in.PlacedBefore.IsZero() && !in.PlacedFrom.Before(in.PlacedBefore) {
		return nil, newProblem(http.StatusUnprocessableEntity, "invalid_range", "placed_from must be before placed_before",
			&huma.ErrorDetail{Location: "query.placed_before", Message: "must be after placed_from", Value: in.PlacedBefore})
	}
	a := actor(ctx)
	page := orderPage{Items: []OrderView{}}
	// A party's own role's filter is its own organization: naming another selects nothing.
	own := map[trade.Role]string{trade.RoleBuyer: in.BuyerID, trade.RoleSupplier: in.SupplierID, trade.RoleInspector: in.InspectorID}
	if id, party := own[a.Role]; party && id != "" && id != a.OrgID {
		return &struct{ Body orderPage }{page}, nil
	}
	os, err := s.svc.Orders(ctx, a, escrow.OrderFilter{State: trade.State(in.State), BuyerID: in.BuyerID,
		SupplierID: in.SupplierID, InspectorID: in.InspectorID, PlacedFrom: in.PlacedFrom, PlacedBefore: in.PlacedBefore,
		After: in.After, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	for _, o := range os {
		page.Items = append(page.Items, view(o, a))
	}
	if len(os) == in.Limit {
		page.NextCursor = os[len(os)-1].ID
	}
	return &struct{ Body orderPage }{page}, nil
}
