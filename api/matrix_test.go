package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

// The outcome classes of one cell of the authorization matrix.
const (
	allowed      = 'A' // 2xx, or a refusal about the state or the input (409, 412, 422): authorization passed
	forbidden    = 'F' // 403 role_not_allowed
	notFound     = 'N' // 404 *_not_found: another tenant's resource looks like no resource
	unauthorized = 'U' // 401 invalid_credentials: every operation, without a key
	skip         = '-' // no such resource exists for this role (the row says why)
)

// matrixRoles is the order of the letters in a row's own and foreign columns.
var matrixRoles = []string{"buyer", "supplier", "inspector", "arbiter", "admin"}

// matrixRow is one operation of the API. own and foreign give the outcome per role, in the order
// of matrixRoles: own is the caller's own resource (the order it is a party to, its organization,
// its key, endpoint or delivery; platform staff use tenant A's order), foreign is another
// tenant's (tenant B's order, buyer B's organization, key, endpoint or delivery). foreign is empty
// when the operation names no tenant's resource. For lifecycle commands event is set and the
// expectations are derived from trade.RolesFor instead.
//
// Placeholders in path and query: {order} {org} {supplier} {key} {endpoint} {delivery} {suspense}
// {notification} {attachment}, and the owned resources of matrix_owned_test.go: {disputed} (an
// order with a dispute) {dispute} {payout} {loan} {debit} {application}.
type matrixRow struct {
	op, method, path string
	body             func(t *target) any
	own, foreign     string
	event            trade.Event
	mutates          bool // an allowed call changes its resource: run it on a fresh one
}

func cmdRow(verb string, ev trade.Event, body func(t *target) any) matrixRow {
	return matrixRow{op: strings.ReplaceAll(verb, "-", "_"), method: "POST", path: "/v1/orders/{order}/" + verb,
		body: body, event: ev, mutates: true}
}

func static(v any) func(*target) any { return func(*target) any { return v } }

// matrix is every operation of the API with who may call it.
//
//	letters: buyer supplier inspector arbiter admin
var matrix = []matrixRow{
	{op: "place_order", method: "POST", path: "/v1/orders", own: "AFFFF", body: func(t *target) any {
		return map[string]any{"supplier_id": t.f.w.ids["supplier"], "currency": "USD", "ship_by": t.f.w.contract()["ship_by"], "compliance_confirmed": true}
	}},
	{op: "list_orders", method: "GET", path: "/v1/orders", own: "AAAAA"},
	{op: "get_order", method: "GET", path: "/v1/orders/{order}", own: "AAAAA", foreign: "NNNAA"},
	{op: "list_order_events", method: "GET", path: "/v1/orders/{order}/events", own: "AAAAA", foreign: "NNNAA"},
	{op: "list_messages", method: "GET", path: "/v1/orders/{order}/messages", own: "AAAAA", foreign: "NNNAA"},
	{op: "post_message", method: "POST", path: "/v1/orders/{order}/messages", own: "AAAAA", foreign: "NNNAA",
		body: static(map[string]any{"body": "hello"})},

	cmdRow("propose-contract", trade.EvProposeContract, func(t *target) any { return t.f.w.contract() }),
	cmdRow("confirm-contract", trade.EvConfirmContract, static(map[string]any{"hash": "h"})),
	cmdRow("propose-amendment", trade.EvProposeAmendment, func(t *target) any { return t.f.w.contract() }),
	cmdRow("confirm-amendment", trade.EvConfirmAmendment, static(map[string]any{"hash": "h"})),
	cmdRow("book-inspection", trade.EvBookInspection, func(t *target) any { return map[string]any{"inspector_id": t.inspector()} }),
	cmdRow("pay", trade.EvPay, static(map[string]any{"installment": "initial", "method": "tt_wire"})),
	cmdRow("inspection-report", trade.EvPassInspection, static(map[string]any{"passed": true, "sample_size": 80})),
	cmdRow("accept-goods", trade.EvAcceptGoods, static(map[string]any{"note": "as is"})),
	cmdRow("file-dispute", trade.EvFileDispute, static(map[string]any{"reason": "too light"})),
	cmdRow("propose-resolution", trade.EvProposeResolution, static(map[string]any{"kind": "full_refund"})),
	cmdRow("accept-resolution", trade.EvAcceptResolution, static(map[string]any{"proposal_id": "p"})),
	cmdRow("reject-resolution", trade.EvRejectResolution, static(map[string]any{"proposal_id": "p"})),
	cmdRow("escalate", trade.EvEscalate, static(map[string]any{"note": "n"})),
	cmdRow("decide", trade.EvDecide, static(map[string]any{"outcome": "no_refund", "reasons": "r"})),
	cmdRow("ship", trade.EvShip, func(t *target) any {
		return map[string]any{"shipped_on": t.f.w.clock.Now().Truncate(24 * time.Hour).Format(time.RFC3339), "carrier": "C", "tracking_number": "T"}
	}),
	cmdRow("release", trade.EvRelease, static(map[string]any{})),
	cmdRow("complete", trade.EvComplete, static(map[string]any{})),
	cmdRow("refund", trade.EvRefund, static(map[string]any{})),
	cmdRow("cancel", trade.EvCancel, static(map[string]any{"reason": "r"})),

	{op: "get_sampling_plan", method: "GET", path: "/v1/sampling-plans?lot=500", own: "AAAAA"},
	{op: "get_spec_check", method: "GET", path: "/v1/orders/{order}/spec-check", own: "AAAAA", foreign: "NNNAA"},
	{op: "get_contract_pdf", method: "GET", path: "/v1/orders/{order}/contract.pdf", own: "AAAAA", foreign: "NNNAA"},
	// The parties and platform staff see a dispute's comparison; the inspection company is told
	// there is no dispute, another tenant that there is no order.
	{op: "get_dispute_comparison", method: "GET", path: "/v1/orders/{disputed}/disputes/{dispute}/comparison", own: "AANAA", foreign: "NNNAA"},
	{op: "list_suppliers", method: "GET", path: "/v1/suppliers", own: "AAAAA"}, // a public directory
	{op: "create_org", method: "POST", path: "/v1/orgs", own: "FFFFA",
		body: static(map[string]any{"kind": "buyer", "name": "New Co", "country": "FR"})},
	// The platform's own organization is not stored, so staff have no own organization to read.
	{op: "get_org", method: "GET", path: "/v1/orgs/{org}", own: "AAA--", foreign: "NNNNA"},
	{op: "set_eligibility", method: "POST", path: "/v1/orgs/{supplier}/eligibility", own: "FFFFA", foreign: "FFFFA",
		body: static(map[string]any{"eligible": true, "reason": "Gold Supplier"})},
	{op: "set_coverage_limit", method: "POST", path: "/v1/orgs/{supplier}/coverage-limit", own: "FFFFA", foreign: "FFFFA",
		body: static(map[string]any{"limit": map[string]any{"minor": 2_000_000, "currency": "USD"}})},
	// Issuing a key for another organization is refused as 403 before the organization is looked
	// up: the same answer whether it exists or not, so it reveals nothing.
	{op: "create_api_key", method: "POST", path: "/v1/orgs/{org}/api-keys", own: "AAAAA", foreign: "FFFFA",
		body: func(t *target) any { return map[string]any{"role": t.orgRole(), "name": "matrix"} }},
	{op: "list_api_keys", method: "GET", path: "/v1/orgs/{org}/api-keys", own: "AAAAA", foreign: "NNNNA"},
	{op: "revoke_api_key", method: "DELETE", path: "/v1/api-keys/{key}", own: "AAAAA", foreign: "NNNNA"},

	{op: "quote_payment", method: "GET", path: "/v1/quotes?method=card&amount=1000&currency=USD", own: "AAAAA"},
	{op: "receive_funds", method: "POST", path: "/v1/rails/tt_wire/credits", own: "FFFFA", body: func(t *target) any {
		return map[string]any{"id": t.f.unique("credit"), "amount": map[string]any{"minor": 100, "currency": "USD"}, "reference": "unknown"}
	}},
	{op: "list_suspense", method: "GET", path: "/v1/suspense", own: "FFFFA"},
	{op: "allocate_suspense", method: "POST", path: "/v1/suspense/{suspense}/allocate", own: "FFFFA", mutates: true,
		body: func(t *target) any { return map[string]any{"order_id": t.order(), "payment_id": t.payment} }},
	{op: "check_ledger", method: "GET", path: "/v1/ledger/check", own: "FFFFA"},
	{op: "list_balances", method: "GET", path: "/v1/ledger/balances?kind=escrow", own: "FFFFA"},

	{op: "list_events", method: "GET", path: "/v1/events", own: "AAAAA"},
	{op: "create_webhook_endpoint", method: "POST", path: "/v1/webhook-endpoints", own: "AAAAA",
		body: static(map[string]any{"url": "http://127.0.0.1:9/hooks"})},
	{op: "list_webhook_endpoints", method: "GET", path: "/v1/webhook-endpoints?org_id={org}", own: "AAAAA", foreign: "NNNNA"},
	{op: "delete_webhook_endpoint", method: "DELETE", path: "/v1/webhook-endpoints/{endpoint}", own: "AAAAA", foreign: "NNNNA", mutates: true},
	{op: "list_webhook_deliveries", method: "GET", path: "/v1/webhook-deliveries?endpoint_id={endpoint}", own: "AAAAA", foreign: "NNNNA"},
	// An inspection company sees no order's events, so its endpoint never gets a delivery.
	{op: "redeliver_webhook", method: "POST", path: "/v1/webhook-deliveries/{delivery}/redeliver", own: "AA-AA", foreign: "NNNNA"},

	// An API key reads its own organization's notifications; staff's keys belong to the platform,
	// which is told of no confirmed order, and a supplier of a confirmed order has nothing to do.
	{op: "list_notifications", method: "GET", path: "/v1/notifications", own: "AAAAA"},
	{op: "read_notification", method: "POST", path: "/v1/notifications/{notification}/read", own: "A-A--", foreign: "NNNNN"},
}

// expect returns the outcome row r expects of role who, on its own resource or a foreign one.
// Lifecycle commands take theirs from the lifecycle table: a role that may issue the event in
// some state passes authorization (the state may still refuse: 409), any other gets 403; a
// tenant never learns that another tenant's order exists.
func (r matrixRow) expect(who string, own bool) byte {
	i := slices.Index(matrixRoles, who)
	if r.event != "" {
		staff := who == "arbiter" || who == "admin"
		if !own && !staff {
			return notFound
		}
		if slices.Contains(trade.RolesFor(r.event), trade.Role(who)) {
			return allowed
		}
		return forbidden
	}
	if own {
		return r.own[i]
	}
	return r.foreign[i]
}

// classify names the outcome class of a response ('?' for anything else). A refusal about the
// state or the input (409, 412, 422) passed authorization, so it counts as allowed, unless its
// reason is about who may see or do it: a refusal must be exactly 403 role_not_allowed or 404
// *_not_found, so an authorization refusal dressed as a conflict or invalid input can never
// pass a cell that must be refused, nor one that must be allowed.
func classify(r resp) byte {
	switch {
	case r.status == http.StatusUnauthorized && r.problem.Reason == "invalid_credentials":
		return unauthorized
	case r.status == http.StatusForbidden && r.problem.Reason == "role_not_allowed":
		return forbidden
	case r.status == http.StatusNotFound && strings.HasSuffix(r.problem.Reason, "_not_found"):
		return notFound
	case r.status < 300:
		return allowed
	case r.status == http.StatusConflict, r.status == http.StatusPreconditionFailed, r.status == http.StatusUnprocessableEntity:
		if authorizationReason(r.problem.Reason) {
			return '?'
		}
		return allowed
	}
	return '?'
}

// authorizationReason reports whether a refusal's reason is about the caller's right to the
// resource rather than its state or the input.
func authorizationReason(reason string) bool {
	switch reason {
	case "role_not_allowed", "not_a_party", "forbidden", "invalid_credentials", "order_not_found", "organization_not_found":
		return true
	}
	return false
}

// TestAuthorizationMatrix ensures every operation of /openapi.json answers every role, on its own
// and on another tenant's resource, as the matrix says: allowed, 403, 404 (never another tenant's
// data in the body) or, without a key, 401. An operation without a row fails the test. Both
// databases run every row with the same fixtures.
func TestAuthorizationMatrix(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ta.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			f := newFixture(t, url(t))
			checkCoverage(t, f)
			runMatrix(t, f, matrix)
			t.Logf("%s: fixture and matrix in %s", name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// checkCoverage fails for an operation of the served document without a row, for a row without
// an operation, and for a row whose path does not reach its operation.
func checkCoverage(t *testing.T, f *fixture) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	f.w.ok(f.w.call("", "GET", "/openapi.json", nil, &doc), 200)
	rows := map[string]matrixRow{}
	for _, r := range matrix {
		if _, dup := rows[r.op]; dup {
			t.Errorf("%s: two rows", r.op)
		}
		rows[r.op] = r
	}
	seen := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue // path-level parameters
			}
			seen[op.OperationID] = true
			r, ok := rows[op.OperationID]
			switch {
			case !ok:
				t.Errorf("%s %s (%s): no row in the authorization matrix", strings.ToUpper(method), path, op.OperationID)
			case !strings.EqualFold(r.method, method) || !pathMatches(path, strings.Split(r.path, "?")[0]):
				t.Errorf("%s: row %s %s does not reach %s %s", op.OperationID, r.method, r.path, strings.ToUpper(method), path)
			}
		}
	}
	for _, r := range matrix {
		if !seen[r.op] {
			t.Errorf("%s: a row for an operation the API does not serve", r.op)
		}
	}
}

// pathMatches reports whether a row's path has the shape of the document's: a {parameter}
// segment of either matches anything.
func pathMatches(doc, row string) bool {
	a, b := strings.Split(doc, "/"), strings.Split(row, "/")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !strings.HasPrefix(a[i], "{") && !strings.HasPrefix(b[i], "{") {
			return false
		}
	}
	return true
}

// runMatrix calls every cell of rows and reports each one that differs from the table.
func runMatrix(t *testing.T, f *fixture, rows []matrixRow) {
	cells := 0
	for _, r := range rows {
		// Without a key: 401, whatever the resource.
		tg := &target{f: f, who: "buyer", own: true}
		if got := classify(f.send(r, tg, "")); got != unauthorized {
			t.Errorf("%-24s anonymous: got %c, want U", r.op, got)
		}
		cells++
		for _, who := range matrixRoles {
			for _, own := range []bool{true, false} {
				if !own && r.foreign == "" && r.event == "" {
					continue // no tenant's resource to name
				}
				want := r.expect(who, own)
				if want == skip {
					continue
				}
				tg := &target{f: f, who: who, own: own, fresh: r.mutates && want == allowed}
				res := f.send(r, tg, who)
				cells++
				side := map[bool]string{true: "own", false: "foreign"}[own]
				if got := classify(res); got != want {
					t.Errorf("%-24s %-9s %-7s: got %c (%d %s), want %c", r.op, who, side, got, res.status, res.problem.Reason, want)
				}
				if leak := f.leak(r, who, res.body); leak != "" {
					t.Errorf("%-24s %-9s %-7s: the body shows another tenant's %s", r.op, who, side, leak)
				}
			}
		}
	}
	t.Logf("%d operations, %d cells", len(rows), cells)
}

// fixture is two tenants on one API: tenant A (buyer, supplier, inspector) and tenant B
// (buyer2, supplier2, inspector2), each with a confirmed order, and webhook endpoints registered
// before the orders so that they have deliveries.
type fixture struct {
	w          *hookWorld
	orderA     string
	orderB     string
	endpoints  map[string]string // organization name → its endpoint
	deliveries map[string]int64  // organization name → a delivery to its endpoint
	suspense   string
	owned      map[bool]*owned // tenant A's (true) and tenant B's dispute, payout, loan and bank debit
	n          int
}

func newFixture(t *testing.T, dbURL string) *fixture {
	w := newMatrixWorld(t, dbURL)
	f := &fixture{w: w, endpoints: map[string]string{}, deliveries: map[string]int64{}}
	for _, org := range []string{"buyer", "supplier", "inspector", "platform", "buyer2"} {
		f.endpoints[org] = f.newEndpoint(org)
	}
	for _, org := range []string{"buyer", "supplier", "inspector", "buyer2"} { // people to notify
		_, err := w.acc.CreateUser(context.Background(), trade.System, w.ids[org], org+"@matrix.test", org,
			trade.Role(strings.TrimSuffix(org, "2")), "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
	}
	f.buildOwned()
	f.orderA = f.confirmed(true).ID
	f.orderB = f.confirmed(false).ID
	for range 10 {
		if n, err := w.notes.RunOnce(context.Background(), "matrix"); err != nil || n == 0 {
			break
		}
	}
	for _, org := range []string{"buyer", "supplier", "platform", "buyer2"} {
		var page struct{ Items []struct{ ID int64 } }
		w.ok(w.call("admin", "GET", "/v1/webhook-deliveries?endpoint_id="+f.endpoints[org], nil, &page), 200)
		if len(page.Items) == 0 {
			t.Fatalf("no delivery to %s's endpoint", org)
		}
		f.deliveries[org] = page.Items[0].ID
	}
	f.suspense, _ = f.newSuspense(0)
	return f
}

// newMatrixWorld is a world without rate limits (the matrix sends hundreds of requests a
// second) and with a second tenant of every kind.
func newMatrixWorld(t *testing.T, dbURL string) *hookWorld {
	w := buildWorld(t, dbURL, api.Options{Version: "test", RateLimit: api.RateLimit{Disabled: true}}, []orgSpec{
		{"buyer", "buyer", "US"}, {"supplier", "supplier", "CN"}, {"inspector", "inspector", "HK"},
		{"buyer2", "buyer", "US"}, {"supplier2", "supplier", "VN"}, {"inspector2", "inspector", "SG"},
	}, 20_000_000)
	w.ids["platform"] = access.PlatformOrg
	return w
}

// keyOf names the key that acts for an organization of the fixture.
func keyOf(org string) string {
	if org == "platform" {
		return "admin"
	}
	return org
}

func (f *fixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", prefix, f.n)
}

func (f *fixture) newEndpoint(org string) string {
	var e struct{ ID string }
	f.w.ok(f.w.call(keyOf(org), "POST", "/v1/webhook-endpoints", map[string]any{"url": "http://127.0.0.1:9/" + org}, &e), 201)
	return e.ID
}

// confirmed is a confirmed order of tenant A (or B), with its inspection booked.
func (f *fixture) confirmed(tenantA bool) order {
	b, s, i := "buyer", "supplier", "inspector"
	if !tenantA {
		b, s, i = "buyer2", "supplier2", "inspector2"
	}
	w := f.w
	c := w.contract()
	var o order
	w.ok(w.call(b, "POST", "/v1/orders", map[string]any{"supplier_id": w.ids[s], "currency": "USD",
		"ship_by": c["ship_by"], "compliance_confirmed": true}, &o), 201)
	w.do(b, o.ID, "book-inspection", map[string]any{"inspector_id": w.ids[i]})
	o = w.do(s, o.ID, "propose-contract", c)
	return w.do(b, o.ID, "confirm-contract", map[string]any{"hash": o.Proposal.Hash})
}

// newSuspense puts money in suspense: for a fresh order's payment when amount is 0 (returning
// the order), or an unmatched credit otherwise.
func (f *fixture) newSuspense(amount int64) (id string, o order) {
	w := f.w
	if amount == 0 {
		o = f.confirmed(true)
		o = w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "tt_wire"})
		var full struct {
			Payments []struct{ Total int64 }
		}
		w.ok(w.call("buyer", "GET", "/v1/orders/"+o.ID, nil, &full), 200)
		amount = full.Payments[0].Total
	}
	var al escrow.Allocation
	credit := f.unique("credit")
	w.ok(w.call("admin", "POST", "/v1/rails/tt_wire/credits", map[string]any{"id": credit,
		"amount": map[string]any{"minor": amount, "currency": "USD"}, "reference": "no such reference"}, &al,
		"Idempotency-Key", credit), 200)
	if al.SuspenseID == "" {
		w.t.Fatalf("credit not in suspense: %+v", al)
	}
	return al.SuspenseID, o
}

// send calls r's operation as who (no key if empty) on tg's resources.
func (f *fixture) send(r matrixRow, tg *target, who string) resp {
	path := r.path
	for _, p := range []struct {
		name string
		val  func() string
	}{
		{"{order}", tg.order}, {"{org}", tg.org}, {"{supplier}", tg.supplier}, {"{key}", tg.key},
		{"{endpoint}", tg.endpoint}, {"{delivery}", tg.delivery}, {"{suspense}", tg.suspenseItem},
		{"{notification}", tg.notification}, {"{attachment}", tg.attachment},
		{"{disputed}", tg.disputedOrder}, {"{dispute}", tg.dispute}, {"{payout}", tg.payout}, {"{loan}", tg.loan},
		{"{debit}", tg.debit}, {"{application}", tg.application},
	} {
		if strings.Contains(path, p.name) {
			path = strings.ReplaceAll(path, p.name, url.PathEscape(p.val()))
		}
	}
	var body any
	if r.body != nil {
		body = r.body(tg)
	} else if r.method == "POST" {
		body = map[string]any{}
	}
	if m, ok := body.(map[string]any); ok && r.op == "receive_funds" {
		return f.w.call(who, r.method, path, body, nil, "Idempotency-Key", m["id"].(string)) // the credit's id
	}
	return f.w.call(who, r.method, path, body, nil)
}

// leak names an identifier of tenant B that a response to a tenant A role shows, if any.
func (f *fixture) leak(r matrixRow, who string, body []byte) string {
	if who == "arbiter" || who == "admin" {
		return ""
	}
	ids := map[string]string{"order": f.orderB, "buyer": f.w.ids["buyer2"], "inspector": f.w.ids["inspector2"],
		"endpoint": f.endpoints["buyer2"]}
	if r.op != "list_suppliers" { // the supplier directory is public
		ids["supplier"] = f.w.ids["supplier2"]
	}
	for what, id := range ids {
		if strings.Contains(string(body), id) {
			return what + " " + id
		}
	}
	return ""
}

// target resolves the resources of one cell: the caller's own, or tenant B's; fresh ones when
// the call will change them.
type target struct {
	f          *fixture
	who        string
	own, fresh bool
	orderID    string
	payment    string
}

// orgName is the organization a cell names: the caller's own (platform for staff), or buyer B.
func (t *target) orgName() string {
	if !t.own {
		return "buyer2"
	}
	switch t.who {
	case "arbiter", "admin":
		return "platform"
	}
	return t.who
}

// orgRole is a role the cell's organization may hold a key for.
func (t *target) orgRole() string {
	switch n := t.orgName(); n {
	case "platform":
		return t.who
	case "buyer2":
		return "buyer"
	default:
		return n
	}
}

func (t *target) org() string { return t.f.w.ids[t.orgName()] }

func (t *target) supplier() string {
	if t.own {
		return t.f.w.ids["supplier"]
	}
	return t.f.w.ids["supplier2"]
}

func (t *target) inspector() string {
	if t.own {
		return t.f.w.ids["inspector"]
	}
	return t.f.w.ids["inspector2"]
}

func (t *target) order() string {
	switch {
	case t.orderID != "":
	case t.fresh:
		t.orderID = t.f.confirmed(t.own).ID
	case t.own:
		t.orderID = t.f.orderA
	default:
		t.orderID = t.f.orderB
	}
	return t.orderID
}

// key is a spare key of the cell's organization, issued by an admin.
func (t *target) key() string {
	var out struct{ Key struct{ ID string } }
	t.f.w.ok(t.f.w.call("admin", "POST", "/v1/orgs/"+t.org()+"/api-keys", map[string]any{"role": t.orgRole(), "name": "spare"}, &out), 201)
	return out.Key.ID
}

func (t *target) endpoint() string {
	if t.fresh {
		return t.f.newEndpoint(t.orgName())
	}
	return t.f.endpoints[t.orgName()]
}

// notification is the newest notification of one of the cell's organization's people.
func (t *target) notification() string {
	ns, err := t.f.w.notes.List(context.Background(), notify.OrgScope(t.org()), "", notify.AnyState, 0, 1)
	if err != nil || len(ns) == 0 {
		t.f.w.t.Fatalf("%s has no notification (%v): mark the cell '-'", t.orgName(), err)
	}
	return fmt.Sprint(ns[0].ID)
}

func (t *target) delivery() string {
	id, ok := t.f.deliveries[t.orgName()]
	if !ok {
		t.f.w.t.Fatalf("%s has no delivery: mark the cell '-'", t.orgName())
	}
	return fmt.Sprint(id)
}

// suspenseItem is money in suspense; a fresh one comes with an order and the payment it pays.
func (t *target) suspenseItem() string {
	if !t.fresh {
		t.orderID, t.payment = t.f.orderA, "pay_none"
		return t.f.suspense
	}
	id, o := t.f.newSuspense(0)
	t.orderID = o.ID
	if len(o.Payments) > 0 {
		t.payment = o.Payments[0].ID
	}
	return id
}

// TestInspectorSeesNoMoney ensures an inspection company sees an order's goods and not its money
// (docs/portal.md): not in the order, and not in the order's audit log.
func TestInspectorSeesNoMoney(t *testing.T) {
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))
	w := f.w
	w.do("buyer", f.orderA, "pay", map[string]any{"installment": "initial", "method": "card"})
	w.tick(2 * time.Hour) // the sandbox rail delivers
	var o struct {
		Payments []any
		Money    map[string]int64
	}
	w.ok(w.call("inspector", "GET", "/v1/orders/"+f.orderA, nil, &o), 200)
	if len(o.Payments) != 0 || o.Money["paid"] != 0 {
		t.Fatalf("the inspector's order shows money: %+v", o)
	}
	var page struct{ Items []struct{ Type string } }
	w.ok(w.call("inspector", "GET", "/v1/orders/"+f.orderA+"/events", nil, &page), 200)
	evs := page.Items
	for _, e := range evs {
		if !trade.EventVisible(e.Type, trade.RoleInspector) {
			t.Fatalf("the inspector reads %s, a money event", e.Type)
		}
	}
	if len(evs) == 0 {
		t.Fatal("the inspector sees no event at all; it should see the inspection")
	}
}
