package notify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const baseURL = "https://trade.example.test"

// env is the escrow service, access and the notifier on one database, one manual clock and an
// SMTP sink, with people in every role: two buyer users, a supplier, an inspector, an arbiter
// and an admin, and a buyer of another organization who must never hear of these orders.
type env struct {
	t        *testing.T
	ctx      context.Context
	db       *store.DB
	svc      *escrow.Service
	acc      *access.Service
	clock    *escrow.ManualClock
	sink     *sink
	outcomes *prometheus.CounterVec // email attempts by outcome, of every notifier of e
	notes    *notify.Service
	n        int
	admin    trade.Actor
	actors   map[string]trade.Actor // buyer, buyer_b, supplier, inspector, arbiter, admin, other
}

func databases(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))) })
	t.Run("postgres", func(t *testing.T) { f(t, newEnv(t, pgtest.NewDatabase(t))) })
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, ctx: ctx, db: db, clock: escrow.NewManualClock(t0), sink: newSink(t), actors: map[string]trade.Actor{},
		outcomes: notify.NewOutcomeCounter(nil)}
	e.svc = escrow.New(db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Accounts: railtest.Accounts()})
	e.acc = access.New(db.Access(), e.svc, e.clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	e.notes = e.notifier()
	e.admin = trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "test-admin"}
	b := must(e.svc.CreateOrg(ctx, e.admin, e.key(), trade.KindBuyer, "Maple Kids Apparel Inc.", "US"))
	b2 := must(e.svc.CreateOrg(ctx, e.admin, e.key(), trade.KindBuyer, "Other Buyer LLC", "US"))
	s := must(e.svc.CreateOrg(ctx, e.admin, e.key(), trade.KindSupplier, "Ningbo Sunrise Garments Co.", "CN"))
	in := must(e.svc.CreateOrg(ctx, e.admin, e.key(), trade.KindInspector, "Asia Quality Inspections Ltd.", "HK"))
	must(e.svc.SetEligibility(ctx, e.admin, e.key(), s.ID, true, "Gold Supplier"))
	must(e.svc.SetCoverageLimit(ctx, e.admin, e.key(), s.ID, money.New(50_000_00, "USD")))
	for _, u := range []struct {
		name string
		role trade.Role
		org  string
	}{{"buyer", trade.RoleBuyer, b.ID}, {"buyer_b", trade.RoleBuyer, b.ID}, {"supplier", trade.RoleSupplier, s.ID},
		{"inspector", trade.RoleInspector, in.ID}, {"arbiter", trade.RoleArbiter, access.PlatformOrg},
		{"admin", trade.RoleAdmin, access.PlatformOrg}, {"other", trade.RoleBuyer, b2.ID}} {
		user := must(e.acc.CreateUser(ctx, trade.System, u.org, u.name+"@people.test", "Test "+u.name, u.role, "correct horse battery"))
		e.actors[u.name] = trade.Actor{Role: u.role, OrgID: u.org, UserID: user.ID}
	}
	return e
}

// notifier is a notifier on e's database sending to e's sink: a new one is a restarted worker.
func (e *env) notifier() *notify.Service {
	e.t.Helper()
	mailer, err := notify.NewSMTP(notify.SMTPConfig{Addr: e.sink.addr, From: "notifications@tradeassure.test", TLS: notify.NoTLS})
	if err != nil {
		e.t.Fatal(err)
	}
	payoutRail, _ := e.svc.PayoutRail()
	return notify.New(e.db.Notifications(), notify.Options{Clock: e.clock, Mailer: mailer, BaseURL: baseURL, Outcomes: e.outcomes,
		ManualBank: e.svc.Bank() == nil, ManualPayouts: payoutRail == nil}) // as serve builds it
}

// counted is how many email attempts ended with outcome.
func (e *env) counted(outcome string) float64 {
	var m dto.Metric
	if err := e.outcomes.WithLabelValues(outcome).Write(&m); err != nil {
		e.t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (e *env) key() string { e.n++; return fmt.Sprintf("k%d", e.n) }

// run runs the notifier until it has nothing left to do now.
func (e *env) run(n *notify.Service, owner string) {
	e.t.Helper()
	for range 100 {
		did, err := n.RunOnce(e.ctx, owner)
		if err != nil {
			e.t.Fatal(err)
		}
		if did == 0 {
			return
		}
	}
	e.t.Fatal("notifier does not settle")
}

func contract(shipBy time.Time) trade.Contract {
	return trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: shipBy, Terms: trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{{Description: "Children's zip hoodie, organic cotton, 2T–5T", Quantity: 1200, Unit: "pcs", UnitPrice: 6_50}},
		Quality:   []trade.Requirement{{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"}},
	}
}

// do issues a command and runs the notifier, as serve does within a second.
func (e *env) do(who string, o *trade.Order, cmd trade.Command) *trade.Order {
	e.t.Helper()
	o, err := e.svc.Do(e.ctx, e.actors[who], e.key(), o.ID, cmd)
	if err != nil {
		e.t.Fatalf("%s %s: %v", who, cmd.Event(), err)
	}
	e.run(e.notes, "w1")
	return o
}

// deliver is the payment rail: the money of the order's pending payment arrives.
func (e *env) deliver(o *trade.Order) *trade.Order {
	e.t.Helper()
	o = must(e.svc.Order(e.ctx, e.admin, o.ID))
	for _, p := range o.Payments {
		if p.Status == trade.PaymentPending {
			must(e.svc.ReceiveFunds(e.ctx, "stmt-"+p.ID, escrow.Incoming{Method: p.Method,
				Amount: money.New(p.Total, o.Currency), Reference: p.Reference, Payer: "Maple Kids"}))
		}
	}
	e.run(e.notes, "w1")
	return must(e.svc.Order(e.ctx, e.admin, o.ID))
}

// inProduction places an order with an inspection booked and drives it to in_production.
func (e *env) inProduction() *trade.Order {
	e.t.Helper()
	c := contract(trade.Day(e.clock.Now()).AddDate(0, 0, 60))
	o := must(e.svc.Place(e.ctx, e.actors["buyer"], e.key(), trade.Place{SupplierID: e.actors["supplier"].OrgID,
		Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true}))
	o = e.do("buyer", o, trade.BookInspection{InspectorID: e.actors["inspector"].OrgID})
	o = e.do("supplier", o, trade.ProposeContract{Contract: c})
	o = e.do("buyer", o, trade.ConfirmContract{Hash: o.Proposal.Hash})
	o = e.do("buyer", o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
	return e.deliver(o)
}

// inbox lists "who:kind" of every notification, by who and kind.
func (e *env) inbox() []string {
	e.t.Helper()
	var out []string
	for who, a := range e.actors {
		for _, n := range must(e.notes.List(e.ctx, notify.UserScope(a.UserID), "", notify.AnyState, 0, notify.PageSizeMax)) {
			out = append(out, who+":"+string(n.Kind))
		}
	}
	slices.Sort(out)
	return out
}

func (e *env) expect(want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.inbox(); !slices.Equal(got, want) {
		e.t.Fatalf("notifications:\n got %q\nwant %q", got, want)
	}
}

// TestLifecycleNotifiesThePeopleWhoMustAct drives an order from proposal to an escalated
// dispute and checks after each step exactly who was told what: the other party confirms the
// contract (R4), the buyer pays (R6), the inspection company inspects (R15), buyer and supplier
// hear of the failed inspection (R16), the supplier answers the dispute (R17), an arbiter
// decides (R18) — and no one else, the buyer of another organization and the admin included.
// Every notification goes out by email once, with a link to the order.
func TestLifecycleNotifiesThePeopleWhoMustAct(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		c := contract(trade.Day(t0).AddDate(0, 0, 60))
		o := must(e.svc.Place(e.ctx, e.actors["buyer"], e.key(), trade.Place{SupplierID: e.actors["supplier"].OrgID,
			Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true}))
		o = e.do("buyer", o, trade.BookInspection{InspectorID: e.actors["inspector"].OrgID})
		e.expect("inspector:inspection_booked") // R15
		o = e.do("supplier", o, trade.ProposeContract{Contract: c})
		e.expect("inspector:inspection_booked", "buyer:contract_to_confirm", "buyer_b:contract_to_confirm") // R4
		o = e.do("buyer", o, trade.ConfirmContract{Hash: o.Proposal.Hash})
		e.expect("inspector:inspection_booked", "buyer:contract_to_confirm", "buyer_b:contract_to_confirm",
			"buyer:payment_due", "buyer_b:payment_due") // R6
		o = e.do("buyer", o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		o = e.deliver(o)
		base := []string{"inspector:inspection_booked", "buyer:contract_to_confirm", "buyer_b:contract_to_confirm",
			"buyer:payment_due", "buyer_b:payment_due"}
		e.expect(base...)
		o = e.do("inspector", o, trade.SubmitReport{Report: trade.Report{Passed: false, SampleSize: 125, Major: 9,
			Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "168 g/m²", Pass: false}}}})
		base = append(base, "buyer:inspection_failed", "buyer_b:inspection_failed", "supplier:inspection_failed") // R16
		e.expect(base...)
		o = e.do("buyer", o, trade.FileDispute{Reason: "Fabric weight 168 g/m² against 200 ± 5%", Requirements: []string{"Fabric weight"}})
		base = append(base, "supplier:dispute_filed") // R17
		e.expect(base...)
		o = e.do("supplier", o, trade.ProposeResolution{Kind: trade.PartialRefund, Amount: 500_00, Note: "10% off"})
		base = append(base, "buyer:resolution_proposed", "buyer_b:resolution_proposed")
		e.expect(base...)
		e.do("buyer", o, trade.Escalate{Note: "not enough"})
		base = append(base, "arbiter:dispute_escalated") // R18
		e.expect(base...)

		// Every notification went out by email exactly once, to its person, with the order's link.
		got := e.sink.messages()
		if len(got) != len(base) {
			t.Fatalf("%d emails for %d notifications", len(got), len(base))
		}
		ids := map[string]bool{}
		for _, m := range got {
			if ids[m.MessageID] {
				t.Fatalf("message %s sent twice", m.MessageID)
			}
			ids[m.MessageID] = true
			if !strings.HasSuffix(m.To, "@people.test") || strings.HasPrefix(m.To, "other@") || strings.HasPrefix(m.To, "admin@") {
				t.Fatalf("email to %s", m.To)
			}
			if !strings.Contains(m.Body, baseURL+"/orders/"+o.ID) || m.From != "notifications@tradeassure.test" {
				t.Fatalf("email %q from %s lacks the order link:\n%s", m.Subject, m.From, m.Body)
			}
		}
		failed := find(got, "supplier@people.test", "Inspection failed for order "+notify.ShortRef(o.ID))
		if failed == nil {
			t.Fatalf("no inspection-failed email to the supplier in %+v", got)
		}
		// An inspection company never reads money (trade.EventVisible): its one email names none.
		insp := find(got, "inspector@people.test", "Inspection booked for order "+notify.ShortRef(o.ID))
		if insp == nil || strings.Contains(insp.Body, "USD") {
			t.Fatalf("inspector email: %+v", insp)
		}
	})
}

func find(ms []received, to, subject string) *received {
	for i := range ms {
		if ms[i].To == to && ms[i].Subject == subject {
			return &ms[i]
		}
	}
	return nil
}

// TestRestartedWorkerSendsNothingTwice runs a fresh notifier (a restarted process) on the same
// database after everything was handled: it finds no event, reminder or email left to do.
func TestRestartedWorkerSendsNothingTwice(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.inProduction()
		before, sent := e.inbox(), len(e.sink.messages())
		if sent == 0 {
			t.Fatal("nothing sent")
		}
		restarted := e.notifier()
		if n := must(restarted.RunOnce(e.ctx, "w2")); n != 0 {
			t.Fatalf("restarted worker did %d things", n)
		}
		e.clock.Advance(notify.Lease * 2) // leases long over: still nothing to resend
		e.run(restarted, "w2")
		if got := e.inbox(); !slices.Equal(got, before) || len(e.sink.messages()) != sent {
			t.Fatalf("after restart: %q, %d emails; before %q, %d", got, len(e.sink.messages()), before, sent)
		}
	})
}

// TestTwoWorkersSendEachEmailOnce races two notifiers on one database over many orders' events:
// every notification is created once and every email arrives once.
func TestTwoWorkersSendEachEmailOnce(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		const orders = 6
		for range orders {
			c := contract(trade.Day(t0).AddDate(0, 0, 60))
			o := must(e.svc.Place(e.ctx, e.actors["buyer"], e.key(), trade.Place{SupplierID: e.actors["supplier"].OrgID,
				Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true}))
			must(e.svc.Do(e.ctx, e.actors["buyer"], e.key(), o.ID, trade.BookInspection{InspectorID: e.actors["inspector"].OrgID}))
			must(e.svc.Do(e.ctx, e.actors["supplier"], e.key(), o.ID, trade.ProposeContract{Contract: c}))
		}
		a, b := e.notifier(), e.notifier()
		var wg sync.WaitGroup
		for i, w := range []*notify.Service{a, b} {
			wg.Go(func() {
				for range 50 {
					if n, err := w.RunOnce(e.ctx, fmt.Sprintf("w%d", i)); err != nil {
						t.Error(err)
						return
					} else if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		e.run(a, "w0")     // whatever a worker that stopped early left
		want := orders * 3 // the inspector, and both buyer users for the contract
		if got := len(e.inbox()); got != want {
			t.Fatalf("%d notifications, want %d", got, want)
		}
		got := e.sink.messages()
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m.MessageID] {
				t.Fatalf("email %s sent twice", m.MessageID)
			}
			seen[m.MessageID] = true
		}
		if len(got) != want {
			t.Fatalf("%d emails, want %d", len(got), want)
		}
	})
}

// TestEmailRetriedAfterTemporaryFailure has the SMTP server refuse the first attempt: the email
// stays pending with the error and a backoff, is not retried early, and is sent once after.
func TestEmailRetriedAfterTemporaryFailure(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.sink.refuseNext(1)
		c := contract(trade.Day(t0).AddDate(0, 0, 60))
		o := must(e.svc.Place(e.ctx, e.actors["buyer"], e.key(), trade.Place{SupplierID: e.actors["supplier"].OrgID,
			Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true}))
		e.do("buyer", o, trade.BookInspection{InspectorID: e.actors["inspector"].OrgID})
		ns := must(e.notes.List(e.ctx, notify.UserScope(e.actors["inspector"].UserID), "", notify.AnyState, 0, 10))
		if len(ns) != 1 || len(e.sink.messages()) != 0 {
			t.Fatalf("%d notifications, %d emails", len(ns), len(e.sink.messages()))
		}
		em := must(e.db.Notifications().Email(e.ctx, ns[0].ID))
		if em.State != notify.EmailPending || em.Attempts != 1 || !strings.Contains(em.LastError, "451") ||
			!em.NextAttemptAt.Equal(t0.Add(notify.Backoff(ns[0].ID, 1))) {
			t.Fatalf("after a refusal: %+v", em)
		}
		e.clock.Set(em.NextAttemptAt.Add(-time.Second))
		e.run(e.notes, "w1")
		if len(e.sink.messages()) != 0 {
			t.Fatal("retried before its backoff")
		}
		e.clock.Set(em.NextAttemptAt)
		e.run(e.notes, "w1")
		got := e.sink.messages()
		if len(got) != 1 || got[0].To != "inspector@people.test" || e.sink.tries != 2 {
			t.Fatalf("after the retry: %+v (%d tries)", got, e.sink.tries)
		}
		if em := must(e.db.Notifications().Email(e.ctx, ns[0].ID)); em.State != notify.EmailSent || em.SentAt == nil {
			t.Fatalf("not recorded as sent: %+v", em)
		}
		if r, s := e.counted("retry"), e.counted("sent"); r != 1 || s != 1 {
			t.Fatalf("counted %v retries, %v sent", r, s)
		}
	})
}

// TestShipByReminderFiresOnce moves the clock toward the shipping date: the supplier is told
// once when ReminderLead is left, not before, and neither a later round nor a restarted worker
// tells it again.
func TestShipByReminderFiresOnce(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.inProduction()
		due := o.Deadline().Add(-notify.ReminderLead)
		count := func() int {
			n := 0
			for _, s := range e.inbox() {
				if s == "supplier:ship_by_near" {
					n++
				}
			}
			return n
		}
		e.clock.Set(due.Add(-time.Minute))
		e.run(e.notes, "w1")
		if count() != 0 {
			t.Fatal("reminded early")
		}
		e.clock.Set(due)
		e.run(e.notes, "w1")
		if count() != 1 {
			t.Fatalf("%d reminders at the due time", count())
		}
		e.clock.Advance(time.Hour)
		e.run(e.notes, "w1")
		e.run(e.notifier(), "w2")
		if count() != 1 || len(find2(e.sink.messages(), "supplier@people.test", "Ship order")) != 1 {
			t.Fatalf("%d reminders after restart", count())
		}
	})
}

// TestDisputeWindowReminder reminds the supplier once before its time to settle ends (R17), and
// not at all once the dispute was escalated.
func TestDisputeWindowReminder(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o := e.inProduction()
		o = e.do("inspector", o, trade.SubmitReport{Report: trade.Report{Passed: false, SampleSize: 125, Major: 9,
			Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "168 g/m²", Pass: false}}}})
		o = e.do("buyer", o, trade.FileDispute{Reason: "too light", Requirements: []string{"Fabric weight"}})
		x := o.OpenDispute()
		e.clock.Set(x.WindowEndsAt.Add(-notify.ReminderLead))
		e.run(e.notes, "w1")
		e.clock.Advance(time.Hour)
		e.run(e.notes, "w1")
		if n := len(find2(e.sink.messages(), "supplier@people.test", "Settle the dispute")); n != 1 {
			t.Fatalf("%d dispute reminders", n)
		}

		// A second order whose dispute is escalated before its reminder is due: no reminder.
		o2 := e.inProduction()
		o2 = e.do("inspector", o2, trade.SubmitReport{Report: trade.Report{Passed: false, SampleSize: 125, Major: 9}})
		o2 = e.do("buyer", o2, trade.FileDispute{Reason: "too light", Requirements: []string{"Fabric weight"}})
		e.do("buyer", o2, trade.Escalate{Note: "now"})
		e.clock.Set(o2.OpenDispute().WindowEndsAt.Add(-notify.ReminderLead))
		e.run(e.notes, "w1")
		for _, m := range e.sink.messages() {
			if strings.Contains(m.Subject, "Settle the dispute on order "+notify.ShortRef(o2.ID)) {
				t.Fatal("reminded of an escalated dispute")
			}
		}
	})
}

func find2(ms []received, to, subjectPrefix string) []received {
	var out []received
	for _, m := range ms {
		if m.To == to && strings.HasPrefix(m.Subject, subjectPrefix) {
			out = append(out, m)
		}
	}
	return out
}

// TestWithoutEmailInAppOnly runs a notifier with no mailer: notifications are created, and no
// email is queued.
func TestWithoutEmailInAppOnly(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.notes = notify.New(e.db.Notifications(), notify.Options{Clock: e.clock})
		e.inProduction()
		ns := must(e.notes.List(e.ctx, notify.UserScope(e.actors["buyer"].UserID), "", notify.AnyState, 0, 10))
		if len(ns) == 0 {
			t.Fatal("no in-app notification")
		}
		if _, err := e.db.Notifications().Email(e.ctx, ns[0].ID); err == nil {
			t.Fatal("an email was queued without a mailer")
		}
		if len(e.sink.messages()) != 0 {
			t.Fatal("an email was sent without a mailer")
		}
	})
}

// TestDisabledUserGetsNoEmail disables a person after their email was queued: it is not sent,
// and is recorded dead with the reason.
func TestDisabledUserGetsNoEmail(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.sink.refuseNext(1) // the first attempt fails, so the email is still queued
		c := contract(trade.Day(t0).AddDate(0, 0, 60))
		o := must(e.svc.Place(e.ctx, e.actors["buyer"], e.key(), trade.Place{SupplierID: e.actors["supplier"].OrgID,
			Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true}))
		e.do("buyer", o, trade.BookInspection{InspectorID: e.actors["inspector"].OrgID})
		u := must(e.db.Access().User(e.ctx, e.actors["inspector"].UserID))
		u.DisabledAt = &t0
		if err := e.db.Access().UpdateUser(e.ctx, u); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(notify.BackoffMax * 2)
		e.run(e.notes, "w1")
		ns := must(e.notes.List(e.ctx, notify.UserScope(u.ID), "", notify.AnyState, 0, 10))
		em := must(e.db.Notifications().Email(e.ctx, ns[0].ID))
		if len(e.sink.messages()) != 0 || em.State != notify.EmailDead || !strings.Contains(em.LastError, "disabled") {
			t.Fatalf("email to a disabled user: %+v, %d sent", em, len(e.sink.messages()))
		}
	})
}
