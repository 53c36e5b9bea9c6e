package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

// served is one `tradeassure serve` running for a test, on a manual clock.
type served struct {
	t       *testing.T
	base    string
	log     *startLog
	clock   *escrow.ManualClock
	keys    map[trade.Role]string // API keys of the buyer and the admin
	orderID string                // a confirmed order, waiting for its initial payment
}

// serveWith seeds a database with the demo's organizations and one confirmed order, then starts
// serve on it with args and the injected clock; serve stops when the test ends.
func serveWith(t *testing.T, url string, args ...string) *served {
	t.Helper()
	ctx := context.Background()
	s := &served{t: t, clock: escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), keys: map[trade.Role]string{}}
	blobs := filepath.Join(t.TempDir(), "blobs")
	func() { // the seeding process ends before serve starts
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		files, err := blob.OpenDir(blobs, blob.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		defer files.Close()
		svc := escrow.New(db, escrow.Options{Clock: s.clock, Config: trade.DefaultConfig(), Blobs: files})
		d, err := newDemo(ctx, svc, files, s.clock, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		o, err := d.confirmed(d.supplier, true)
		if err != nil {
			t.Fatal(err)
		}
		s.orderID = o.ID
		acc := access.New(db.Access(), svc, s.clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
		for _, a := range []trade.Actor{d.buyer, d.admin} {
			tok, _, err := acc.CreateAPIKey(ctx, d.admin, a.OrgID, a.Role, "test")
			if err != nil {
				t.Fatal(err)
			}
			s.keys[a.Role] = tok
		}
	}()

	prev := serveClock
	serveClock = s.clock
	ctx, stop := context.WithCancel(ctx)
	s.log = &startLog{addr: make(chan string, 1)}
	done, exited := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(exited)
		done <- run(ctx, append([]string{"serve", "--db", url, "--blobs", blobs, "--addr", "127.0.0.1:0",
			"--worker-interval", "10ms"}, args...), io.Discard, s.log)
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-exited:
			select {
			case err := <-done: // not taken yet: serve ran and stopped as asked
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			default:
			}
		case <-time.After(time.Minute):
			t.Error("serve did not stop")
		}
		serveClock = prev
	})
	select {
	case addr := <-s.log.addr:
		s.base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve stopped before serving: %v\n%s", err, s.log)
	case <-time.After(time.Minute):
		t.Fatalf("serve did not start:\n%s", s.log)
	}
	return s
}

// call sends a request to the server as role (no key for ""), and decodes a JSON answer into out.
func (s *served) call(role trade.Role, method, path string, body any, out any) *http.Response {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	if k := s.keys[role]; k != "" {
		req.Header.Set("Authorization", "Bearer "+k)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k-"+path+"-"+time.Now().Format(time.RFC3339Nano))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res
}

// orderView is the part of an order the tests read.
type orderView struct {
	State    string
	Payments []struct {
		ID, Reference, Status, Method string
		Total                         int64
		Sandbox                       *bool
		PayTo                         *struct {
			Beneficiary, BIC string
			Number           string `json:"account_number"`
			Sandbox          bool
		} `json:"pay_to"`
	}
}

func (s *served) order() orderView {
	s.t.Helper()
	var o orderView
	if res := s.call(trade.RoleBuyer, "GET", "/v1/orders/"+s.orderID, nil, &o); res.StatusCode != http.StatusOK {
		s.t.Fatalf("read order: %d", res.StatusCode)
	}
	return o
}

// pay sends the initial payment by method through the API.
func (s *served) pay(method string) orderView {
	s.t.Helper()
	var o orderView
	res := s.call(trade.RoleBuyer, "POST", "/v1/orders/"+s.orderID+"/pay", map[string]string{"installment": "initial", "method": method}, &o)
	if res.StatusCode != http.StatusOK || len(o.Payments) != 1 {
		b, _ := io.ReadAll(res.Body)
		s.t.Fatalf("pay: %d %s", res.StatusCode, b)
	}
	return o
}

// idle waits until the worker has fired every timer due at the clock's time: /metrics shows
// none due. It waits for the worker's round, never for a deadline to pass.
func (s *served) idle() {
	s.t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(s.base + "/metrics")
		if err != nil {
			s.t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), "\ntradeassure_timers_due 0\n") {
			return
		}
	}
	s.t.Fatal("timers stay due")
}

// TestServeWithoutSandbox ensures plain `serve` runs no sandbox: it says so at startup (no payout
// rail answers payouts either: an operator records the bank's answers), the
// API's payment instructions name the configured collection account and are not marked
// sandbox, no response carries the sandbox header, the portal shows no banner, and the order
// stays unpaid — however long past the sandbox's delay — until the money is posted through the
// incoming-funds endpoint, on each database. R8
func TestServeWithoutSandbox(t *testing.T) {
	for name, url := range map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "serve.db"),
		"postgres": pgtest.NewDatabase(t),
	} {
		t.Run(name, func(t *testing.T) {
			accounts := filepath.Join(t.TempDir(), "accounts.json")
			b, _ := json.Marshal(railtest.Accounts())
			if err := os.WriteFile(accounts, b, 0o600); err != nil {
				t.Fatal(err)
			}
			s := serveWith(t, url, "-collection-accounts", accounts)
			if !strings.Contains(s.log.String(), `"sandbox":false`) || strings.Contains(s.log.String(), "SANDBOX") ||
				!strings.Contains(s.log.String(), "payout rail: none on this machine") {
				t.Errorf("startup log:\n%s", s.log)
			}
			o := s.pay("tt_wire")
			p := o.Payments[0]
			want, _ := railtest.Accounts().For("tt_wire", "USD")
			if p.Sandbox == nil || *p.Sandbox || p.PayTo == nil || p.PayTo.Sandbox || p.PayTo.BIC != want.BIC ||
				p.PayTo.Number != want.Number || p.PayTo.Beneficiary != want.Beneficiary {
				t.Fatalf("instructions: sandbox %v, pay to %+v", p.Sandbox, p.PayTo)
			}
			s.clock.Advance(2 * time.Hour) // past the sandbox's default delay of a minute
			s.idle()
			if o = s.order(); o.State != "confirmed" || o.Payments[0].Status != "pending" {
				t.Fatalf("unpaid order became %s / %s with no money posted", o.State, o.Payments[0].Status)
			}
			var al escrow.Allocation
			res := s.credit("MT940-1", p.Total, p.Reference, &al)
			if res.StatusCode != http.StatusOK || al.PaymentID != p.ID {
				t.Fatalf("credit: %d %+v", res.StatusCode, al)
			}
			if o = s.order(); o.State != "in_production" || o.Payments[0].Status != "received" {
				t.Fatalf("after the credit: %s / %s", o.State, o.Payments[0].Status)
			}
			if h := res.Header.Get(api.SandboxHeader); h != "" {
				t.Errorf("%s: %q without the sandbox", api.SandboxHeader, h)
			}
			if _, body := get(t, s.base+"/login"); strings.Contains(body, "payments are simulated") {
				t.Error("the portal shows the sandbox banner without the sandbox")
			}
		})
	}
}

// credit posts money a rail received, as a bank-statement import would.
func (s *served) credit(id string, total int64, reference string, out *escrow.Allocation) *http.Response {
	s.t.Helper()
	body := map[string]any{"id": id, "amount": map[string]any{"minor": total, "currency": "USD"}, "reference": reference}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.base+"/v1/rails/tt_wire/credits", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+s.keys[trade.RoleAdmin])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(rb, out); err != nil {
		s.t.Fatalf("credit: %d %s", res.StatusCode, rb)
	}
	return res
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestServeSandbox ensures `serve --sandbox` says so everywhere: a startup warning (the payout
// rail is the sandbox's too), the banner
// on the portal, the sandbox header on API responses (refusals too), and payment instructions
// marked sandbox that name the sandbox's own account; and that the sandbox then delivers the
// payment once its delay has passed on the injected clock. R8
func TestServeSandbox(t *testing.T) {
	for name, url := range map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "serve.db"),
		"postgres": pgtest.NewDatabase(t),
	} {
		t.Run(name, func(t *testing.T) {
			s := serveWith(t, url, "--sandbox", "-sandbox-delay", "5m")
			if !strings.Contains(s.log.String(), `"msg":"SANDBOX: payments are simulated, no real money moves`) ||
				!strings.Contains(s.log.String(), "payout rail: the sandbox (simulated answers, no money moves)") {
				t.Errorf("no sandbox warning at startup:\n%s", s.log)
			}
			if _, body := get(t, s.base+"/login"); !strings.Contains(body, "payments are simulated, no real money moves") {
				t.Error("the portal's login page lacks the sandbox banner")
			}
			if res, _ := get(t, s.base+"/v1/orders"); res.StatusCode != http.StatusUnauthorized || res.Header.Get(api.SandboxHeader) != "true" {
				t.Errorf("unauthenticated call: %d, %s %q", res.StatusCode, api.SandboxHeader, res.Header.Get(api.SandboxHeader))
			}
			o := s.pay("card")
			p := o.Payments[0]
			if p.Sandbox == nil || !*p.Sandbox || p.PayTo == nil || !p.PayTo.Sandbox {
				t.Fatalf("instructions not marked sandbox: %v %+v", p.Sandbox, p.PayTo)
			}
			s.clock.Advance(5*time.Minute - time.Second)
			s.idle()
			if o = s.order(); o.State != "confirmed" {
				t.Fatalf("delivered before the sandbox delay: %s", o.State)
			}
			s.clock.Advance(time.Second)
			s.idle()
			if o = s.order(); o.State != "in_production" || o.Payments[0].Status != "received" {
				t.Fatalf("after the sandbox delay: %s / %s", o.State, o.Payments[0].Status)
			}
		})
	}
}

// TestServeSandboxFlags ensures flags that contradict the sandbox setting, and collection
// accounts a buyer could not pay into, are refused before anything starts.
func TestServeSandboxFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `[{"method":"tt_wire","currency":"USD","beneficiary":"TA","bank":"Citi","bic":"CITIUS33","account_number":"1"}]`)
	for name, args := range map[string][]string{
		"delay without sandbox":    {"-sandbox-delay", "1m"},
		"negative delay":           {"--sandbox", "-sandbox-delay", "-1s"},
		"sandbox and accounts":     {"--sandbox", "-collection-accounts", good},
		"demo and accounts":        {"--demo", "-collection-accounts", good},
		"no accounts file":         {"-collection-accounts", filepath.Join(dir, "missing.json")},
		"not an array":             {"-collection-accounts", write("object.json", `{"method":"tt_wire"}`)},
		"unknown field":            {"-collection-accounts", write("field.json", `[{"method":"tt_wire","currency":"USD","iban":"x"}]`)},
		"incomplete wire":          {"-collection-accounts", write("wire.json", `[{"method":"tt_wire","currency":"USD","beneficiary":"TA"}]`)},
		"trailing data":            {"-collection-accounts", write("trail.json", `[] []`)},
		"pay later has no account": {"-collection-accounts", write("pl.json", `[{"method":"pay_later","currency":"USD","beneficiary":"TA"}]`)},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--db", "sqlite:" + filepath.Join(dir, "x.db")}, args...), &out, &errOut)
		if ee, ok := err.(exitError); !ok || ee.code != 2 || errOut.Len() == 0 {
			t.Errorf("%s: got %v (%s), want exit 2 with a message", name, err, errOut.String())
		}
	}
}

// TestServeHelp ensures serve -h explains how money arrives with and without the sandbox.
func TestServeHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"serve", "-h"}, &out, &errOut)
	for _, want := range []string{"-sandbox", "-sandbox-delay", "-collection-accounts", "POST /v1/rails/{method}/credits",
		"payments are simulated"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("serve -h lacks %q:\n%s", want, errOut.String())
		}
	}
}
