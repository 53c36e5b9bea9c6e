package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEveryPOSTTakesIdempotencyKey walks the served OpenAPI document and fails if any POST
// operation lacks a required Idempotency-Key header, so that the rule of issue 3 cannot regress
// by adding an operation.
func TestEveryPOSTTakesIdempotencyKey(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		res, err := http.Get(w.srv.URL + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `json:"operationId"`
				Parameters  []struct {
					Name     string
					In       string
					Required bool
					Ref      string `json:"$ref"`
				}
			}
		}
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		posts := 0
		for path, ops := range doc.Paths {
			op, ok := ops["post"]
			if !ok {
				continue
			}
			posts++
			found := false
			for _, p := range op.Parameters {
				if p.Ref != "" {
					t.Errorf("%s (POST %s): parameter by $ref %s; resolve it here", op.OperationID, path, p.Ref)
				}
				if p.In == "header" && strings.EqualFold(p.Name, "Idempotency-Key") {
					found = true
					if !p.Required {
						t.Errorf("%s (POST %s): Idempotency-Key is optional", op.OperationID, path)
					}
				}
			}
			if !found {
				t.Errorf("%s (POST %s) takes no Idempotency-Key header", op.OperationID, path)
			}
		}
		if posts < 30 {
			t.Fatalf("only %d POST operations in the document: is it the served one?", posts)
		}
	})
}

// missingKey sends a POST without an Idempotency-Key and wants a 400 idempotency_key_missing
// problem naming the header (draft-ietf-httpapi-idempotency-key-header §2.7).
func (w *world) missingKey(who, path string, body any) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest("POST", w.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.keys[who])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var p struct {
		Reason string
		Errors []struct{ Location string }
	}
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &p)
	if res.StatusCode != 400 || p.Reason != "idempotency_key_missing" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") ||
		len(p.Errors) != 1 || p.Errors[0].Location != "header.Idempotency-Key" {
		w.t.Fatalf("POST %s without a key: %d %s", path, res.StatusCode, raw)
	}
}

// TestCreateAPIKeyIdempotent ensures issue 3's rule for issuing an API key: a retry with the
// same key issues nothing and answers 200 with the first key's metadata, replayed, without the
// token (never stored); another name under the key is 422; no key is a 400 naming the header.
func TestCreateAPIKeyIdempotent(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		path := "/v1/orgs/" + w.ids["buyer"] + "/api-keys"
		count := func() int {
			var page struct{ Items []struct{ ID string } }
			w.ok(w.call("admin", "GET", path, nil, &page), 200)
			return len(page.Items)
		}
		before := count()
		type keyOut struct {
			Token    string
			Key      struct{ ID string }
			Replayed bool
		}
		var first, again keyOut
		body := map[string]any{"role": "buyer", "name": "ERP sync"}
		w.ok(w.call("admin", "POST", path, body, &first, "Idempotency-Key", "ak-1"), 201)
		if !strings.HasPrefix(first.Token, "ta_key_") || first.Replayed {
			t.Fatalf("first: %+v", first)
		}
		r := w.ok(w.call("admin", "POST", path, body, &again, "Idempotency-Key", "ak-1"), 200)
		if again.Key.ID != first.Key.ID || again.Token != "" || !again.Replayed || bytes.Contains(r.body, []byte("ta_key_")) {
			t.Fatalf("retry: %s", r.body)
		}
		if got := count(); got != before+1 {
			t.Fatalf("%d keys after a create and its retry, want %d", got, before+1)
		}
		w.refused(w.call("admin", "POST", path, map[string]any{"role": "buyer", "name": "Another"}, nil,
			"Idempotency-Key", "ak-1"), 422, "idempotency_key_reused")
		w.missingKey("admin", path, body)
		if got := count(); got != before+1 {
			t.Fatalf("%d keys after refusals, want %d", got, before+1)
		}
	})
}

// TestCreateWebhookEndpointIdempotent ensures a retry of registering an endpoint returns the
// same endpoint, secret included, and registers no second one (so no event is delivered
// twice); another URL under the key is 422; no key is a 400 naming the header.
func TestCreateWebhookEndpointIdempotent(t *testing.T) {
	hookDatabases(t, func(t *testing.T, w *hookWorld) {
		body := map[string]any{"url": "https://hooks.example.com/a", "description": "orders"}
		var first, again endpointOut
		w.ok(w.call("buyer", "POST", "/v1/webhook-endpoints", body, &first, "Idempotency-Key", "ep-1"), 201)
		w.ok(w.call("buyer", "POST", "/v1/webhook-endpoints", body, &again, "Idempotency-Key", "ep-1"), 201)
		if first.ID == "" || again.ID != first.ID || again.Secret != first.Secret || !strings.HasPrefix(first.Secret, "whsec_") {
			t.Fatalf("first %+v, retry %+v", first, again)
		}
		w.refused(w.call("buyer", "POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/b"}, nil,
			"Idempotency-Key", "ep-1"), 422, "idempotency_key_reused")
		w.refused(w.call("buyer", "POST", "/v1/webhook-endpoints", map[string]any{"url": body["url"], "description": "other"}, nil,
			"Idempotency-Key", "ep-1"), 422, "idempotency_key_reused")
		// Keys are the organization's: another organization's same key is its own request.
		var other endpointOut
		w.ok(w.call("buyer2", "POST", "/v1/webhook-endpoints", body, &other, "Idempotency-Key", "ep-1"), 201)
		if other.ID == first.ID {
			t.Fatal("two organizations share an endpoint")
		}
		// An escrow command's key is in the same scope: reusing it here is another request.
		o := w.confirmed()
		w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/messages", map[string]any{"body": "hi"}, nil, "Idempotency-Key", "shared-1"), 201)
		w.refused(w.call("buyer", "POST", "/v1/webhook-endpoints", body, nil, "Idempotency-Key", "shared-1"), 422, "idempotency_key_reused")
		w.missingKey("buyer", "/v1/webhook-endpoints", body)
		var page struct{ Items []endpointOut }
		w.ok(w.call("buyer", "GET", "/v1/webhook-endpoints", nil, &page), 200)
		if list := page.Items; len(list) != 1 || list[0].ID != first.ID {
			t.Fatalf("endpoints after retries and refusals: %+v", list)
		}
	})
}

// TestRedeliverIdempotent ensures a retry of a redelivery, before or after it went out, sends
// nothing again and answers the delivery as it is now; the key used for another delivery is
// 422; no key is a 400 naming the header.
func TestRedeliverIdempotent(t *testing.T) {
	hookDatabases(t, func(t *testing.T, w *hookWorld) {
		rcv := newReceiver(t, 0)
		ep := w.endpoint("buyer", rcv)
		w.confirmed()
		w.deliver("buyer", ep)
		log := w.deliveries("buyer", ep)
		if len(log) < 2 {
			t.Fatalf("%d deliveries", len(log))
		}
		path := fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", log[0].ID)
		var d deliveryOut
		w.ok(w.call("buyer", "POST", path, nil, &d, "Idempotency-Key", "rd-1"), 200)
		if d.State != "pending" || d.Attempts != 0 {
			t.Fatalf("redelivered: %+v", d)
		}
		// The retry while it is pending: the same answer, not webhook_delivery_pending.
		w.ok(w.call("buyer", "POST", path, nil, &d, "Idempotency-Key", "rd-1"), 200)
		if d.State != "pending" {
			t.Fatalf("retry while pending: %+v", d)
		}
		n := len(rcv.hits)
		w.deliver("buyer", ep)
		// The retry after it went out: its current state, and nothing is sent again.
		w.ok(w.call("buyer", "POST", path, nil, &d, "Idempotency-Key", "rd-1"), 200)
		if d.State != "delivered" {
			t.Fatalf("retry after delivery: %+v", d)
		}
		w.deliver("buyer", ep)
		if got := rcv.hits[n:]; len(got) != 1 || got[0].id != log[0].EventID {
			t.Fatalf("after a redelivery and two retries the receiver got %+v, want %s once", got, log[0].EventID)
		}
		w.refused(w.call("buyer", "POST", fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", log[1].ID), nil, nil,
			"Idempotency-Key", "rd-1"), 422, "idempotency_key_reused")
		w.missingKey("buyer", path, nil)
		if got := len(rcv.hits); got != n+1 {
			t.Fatalf("%d hits after refusals, want %d", got, n+1)
		}
	})
}

// TestReceiveFundsIdempotencyKey ensures the rail credit's Idempotency-Key is its id: a retry
// books nothing new and answers the first allocation; the id with another amount is 422
// idempotency_key_reused; a key that is not the id is 422 naming the header; none is 400.
func TestReceiveFundsIdempotencyKey(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		suspense := func() int {
			var page struct{ Items []struct{ ID string } }
			w.ok(w.call("admin", "GET", "/v1/suspense", nil, &page), 200)
			return len(page.Items)
		}
		before := suspense()
		path := "/v1/rails/tt_wire/credits"
		body := map[string]any{"id": "stmt-1", "amount": map[string]any{"minor": 500, "currency": "USD"}, "reference": "unknown"}
		first := w.ok(w.call("admin", "POST", path, body, nil, "Idempotency-Key", "stmt-1"), 200)
		again := w.ok(w.call("admin", "POST", path, body, nil, "Idempotency-Key", "stmt-1"), 200)
		if !bytes.Equal(first.body, again.body) || !bytes.Contains(first.body, []byte("suspense_id")) {
			t.Fatalf("first %s, retry %s", first.body, again.body)
		}
		if got := suspense(); got != before+1 {
			t.Fatalf("%d suspense items after a credit and its retry, want %d", got, before+1)
		}
		other := map[string]any{"id": "stmt-1", "amount": map[string]any{"minor": 600, "currency": "USD"}, "reference": "unknown"}
		w.refused(w.call("admin", "POST", path, other, nil, "Idempotency-Key", "stmt-1"), 422, "idempotency_key_reused")
		r := w.call("admin", "POST", path, body, nil, "Idempotency-Key", "stmt-2")
		w.refused(r, 422, "idempotency_key_mismatch")
		if !bytes.Contains(r.body, []byte("header.Idempotency-Key")) {
			t.Fatalf("mismatch does not name the header: %s", r.body)
		}
		w.missingKey("admin", path, body)
		if got := suspense(); got != before+1 {
			t.Fatalf("%d suspense items after refusals, want %d", got, before+1)
		}
	})
}

// TestNaturallyIdempotentPOSTsTakeKey ensures marking a notification read and setting the
// sandbox bank require an Idempotency-Key like every POST, and that a retry under the same key
// is answered from the current state.
func TestNaturallyIdempotentPOSTsTakeKey(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		body := map[string]any{"buyer_id": w.ids["buyer"], "fail": true}
		first := w.ok(w.call("admin", "POST", "/v1/credit/sandbox-bank", body, nil, "Idempotency-Key", "sb-1"), 200)
		again := w.ok(w.call("admin", "POST", "/v1/credit/sandbox-bank", body, nil, "Idempotency-Key", "sb-1"), 200)
		if !bytes.Equal(first.body, again.body) {
			t.Fatalf("first %s, retry %s", first.body, again.body)
		}
		w.missingKey("admin", "/v1/credit/sandbox-bank", body)
		w.missingKey("buyer", "/v1/notifications/1/read", nil)
		r := w.call("buyer", "POST", "/v1/notifications/1/read", nil, nil, "Idempotency-Key", strings.Repeat("k", 256))
		if r.status != 400 || r.problem.Reason != "idempotency_key_invalid" || !bytes.Contains(r.body, []byte("header.Idempotency-Key")) {
			t.Fatalf("a key of 256 characters: %d %s", r.status, r.body)
		}
	})
}
