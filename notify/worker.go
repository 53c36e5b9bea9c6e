package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/poll"
	"github.com/tradeassure/tradeassure/trade"
)

// Sender submits one composed email; *SMTP is the production one.
type Sender interface {
	Send(ctx context.Context, to string, msg []byte) error
	From() mail.Address
}

// Options configure a Service.
type Options struct {
	Clock  escrow.Clock
	Logger *slog.Logger
	// Mailer sends the emails; nil means in-app notifications only: no email is queued.
	Mailer Sender
	// BaseURL is the portal's address as people reach it (https://trade.example.com), for the
	// links in emails.
	BaseURL string
	// Outcomes, if set, counts email attempts by outcome: sent, retry, dead (label "outcome").
	Outcomes *prometheus.CounterVec
	// ManualBank says no bank adapter answers Pay Later debit requests (escrow.Service.Bank is
	// nil): the platform's admins are then told of each request, to record the bank's answer.
	ManualBank bool
	// ManualPayouts says no payout adapter answers supplier payouts (escrow.Service.PayoutRail
	// is nil): the platform's admins are then told of each payout, to record the bank's answer.
	ManualPayouts bool
}

// Service turns events into notifications and sends their emails; it also serves the inbox.
type Service struct {
	store    Store
	clock    escrow.Clock
	log      *slog.Logger
	mailer   Sender
	base     string
	outcomes *prometheus.CounterVec
	manual   bool
	payouts  bool // ManualPayouts
}

// New returns a Service over s.
func New(s Store, opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = escrow.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, clock: opt.Clock, log: opt.Logger, mailer: opt.Mailer, base: strings.TrimRight(opt.BaseURL, "/"),
		outcomes: opt.Outcomes, manual: opt.ManualBank, payouts: opt.ManualPayouts}
}

// NewOutcomeCounter returns the counter of email attempts by outcome, registered with reg when
// reg is not nil.
func NewOutcomeCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tradeassure_notification_emails_total",
		Help: "Notification email attempts by outcome: sent, retry, dead."}, []string{"outcome"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// Emailing reports whether emails are sent.
func (s *Service) Emailing() bool { return s.mailer != nil }

// RunOnce handles one batch of new events, the reminders due now and the emails due now; it
// returns how much it did.
func (s *Service) RunOnce(ctx context.Context, owner string) (int, error) {
	n1, err1 := s.HandleEvents(ctx)
	n2, err2 := s.HandleReminders(ctx)
	n3, err3 := s.SendEmails(ctx, owner)
	return n1 + n2 + n3, errors.Join(err1, err2, err3)
}

// Run works every interval until ctx ends, and again at once after a round that did something.
func (s *Service) Run(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "notifier", func(ctx context.Context) (int, error) { return s.RunOnce(ctx, owner) })
}

// HandleEvents turns the next batch of events into notifications (and emails and reminders),
// in one transaction with the cursor: each event is handled exactly once.
func (s *Service) HandleEvents(ctx context.Context) (int, error) {
	now := s.clock.Now()
	return s.store.HandleEvents(ctx, EventBatchMax, func(tx Tx, evs []escrow.Event) error {
		for _, ev := range evs {
			if err := s.handle(ctx, tx, ev, now); err != nil {
				return fmt.Errorf("event %d (%s): %w", ev.GlobalSeq, ev.Type, err)
			}
		}
		return nil
	})
}

func (s *Service) handle(ctx context.Context, tx Tx, ev escrow.Event, now time.Time) error {
	var plan Plan
	if _, ok := eventRules[ev.Type]; ok {
		o, err := tx.Order(ctx, ev.Stream)
		if errors.Is(err, escrow.ErrNotFound) {
			return nil // not an order's stream
		}
		if err != nil {
			return err
		}
		p, err := parties(ctx, tx, o.BuyerID, o.SupplierID)
		if err != nil {
			return err
		}
		plan = For(ev, o, p)
	} else if rule, ok := subjectRules[ev.Type]; ok {
		sub, err := s.subject(ctx, tx, ev, rule.needs)
		if err != nil {
			return err
		}
		plan = ForSubject(ev, sub)
	} else if rule, ok := payoutRules[ev.Type]; ok {
		sub, err := s.payoutSubject(ctx, tx, ev, rule.needFlag)
		if err != nil {
			return err
		}
		plan = ForPayout(ev, sub)
	} else {
		return nil // nothing to act on: read nothing
	}
	for _, r := range plan.Reminders {
		if err := tx.PutReminder(ctx, r); err != nil {
			return err
		}
	}
	return s.deliver(ctx, tx, plan.Notices, fmt.Sprintf("event/%d", ev.GlobalSeq), now)
}

// subject reads what an event outside an order is about: what needs asks for, as it is now. A
// missing one stays nil, and the rules then ask nothing.
func (s *Service) subject(ctx context.Context, tx Tx, ev escrow.Event, needs int) (Subject, error) {
	sub := Subject{ManualBank: s.manual}
	var ref subjectRefs
	if json.Unmarshal(ev.Payload, &ref) != nil {
		return sub, nil // not a payload the rules read
	}
	var err error
	if needs&needApplication != 0 && ref.ApplicationID != "" {
		sub.Application, err = found(tx.CreditApplication(ctx, ref.ApplicationID))
	}
	if err == nil && needs&needLoan != 0 {
		sub.Loan, err = found(tx.Loan(ctx, ev.Stream))
	}
	if err == nil && needs&needDebit != 0 && ref.DebitID != "" {
		sub.Debit, err = found(tx.BankDebit(ctx, ref.DebitID))
	}
	if err == nil && needs&needSuspense != 0 && ref.ID != "" {
		sub.Suspense, err = found(tx.Suspense(ctx, ref.ID))
	}
	if err == nil && needs&needLenderRequest != 0 && ref.RequestID != "" {
		sub.LenderRequest, err = found(tx.LenderRequest(ctx, ref.RequestID))
	}
	buyer := ""
	switch {
	case sub.Loan != nil && needs&needDebit != 0:
		buyer = sub.Loan.BuyerID
	case sub.LenderRequest != nil:
		buyer = sub.LenderRequest.BuyerID
	}
	if err == nil && buyer != "" {
		var b trade.Org
		if b, err = tx.Org(ctx, buyer); err == nil {
			sub.Buyer = b.Name
		}
	}
	if err != nil {
		return Subject{}, fmt.Errorf("read the subject of %s: %w", ev.Type, err)
	}
	return sub, nil
}

// found is v, or nil when it does not exist.
func found[T any](v T, err error) (*T, error) {
	if errors.Is(err, escrow.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// payoutSubject reads what a payout's event is about, as it is now: the payout its payload
// names, the supplier's name and, if needFlag, the supplier's open flag. A missing one stays
// nil, and the rules then ask nothing.
func (s *Service) payoutSubject(ctx context.Context, tx Tx, ev escrow.Event, needFlag bool) (PayoutSubject, error) {
	sub := PayoutSubject{ManualPayouts: s.payouts}
	var ref struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(ev.Payload, &ref) != nil || ref.ID == "" {
		return sub, nil // not a payload the rules read
	}
	p, err := found(tx.Payout(ctx, ref.ID))
	if err == nil && p != nil {
		sub.Payout = p
		var sup *trade.Org
		if sup, err = found(tx.Org(ctx, p.SupplierID)); err == nil && sup != nil {
			sub.Supplier = sup.Name
		}
	}
	if err == nil && p != nil && needFlag {
		sub.Flag, err = found(tx.OpenPayoutFlag(ctx, p.SupplierID))
	}
	if err != nil {
		return PayoutSubject{}, fmt.Errorf("read the payout of %s: %w", ev.Type, err)
	}
	return sub, nil
}

// HandleReminders sends the "deadline near" reminders due now, each exactly once.
func (s *Service) HandleReminders(ctx context.Context) (int, error) {
	now := s.clock.Now()
	return s.store.HandleReminders(ctx, now, ReminderBatchMax, func(tx Tx, rs []Reminder) error {
		for _, r := range rs {
			notices, outcome, err := s.judge(ctx, tx, r, now)
			if err != nil {
				return err
			}
			if err := s.deliver(ctx, tx, notices, "reminder/"+r.Key, now); err != nil {
				return err
			}
			if err := tx.FinishReminder(ctx, r.Key, outcome, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// judge reads what a due reminder is about, as it is now, and says what it asks for.
func (s *Service) judge(ctx context.Context, tx Tx, r Reminder, now time.Time) ([]Notice, string, error) {
	if r.Kind == InstallmentDueNear {
		var l *escrow.LoanRecord
		if loanID, _, ok := installmentRef(r.Ref); ok {
			var err error
			if l, err = found(tx.Loan(ctx, loanID)); err != nil {
				return nil, "", err
			}
		}
		notices, outcome := RemindInstallment(r, l, now)
		return notices, outcome, nil
	}
	o, err := tx.Order(ctx, r.OrderID)
	if err != nil && !errors.Is(err, escrow.ErrNotFound) {
		return nil, "", err
	}
	var p Parties
	if o != nil {
		if p, err = parties(ctx, tx, o.BuyerID, o.SupplierID); err != nil {
			return nil, "", err
		}
	}
	notices, outcome := Remind(r, o, p, now)
	return notices, outcome, nil
}

func parties(ctx context.Context, tx Tx, buyerID, supplierID string) (Parties, error) {
	b, err := tx.Org(ctx, buyerID)
	if err != nil {
		return Parties{}, fmt.Errorf("buyer %s: %w", buyerID, err)
	}
	su, err := tx.Org(ctx, supplierID)
	if err != nil {
		return Parties{}, fmt.Errorf("supplier %s: %w", supplierID, err)
	}
	return Parties{Buyer: b.Name, Supplier: su.Name}, nil
}

// deliver stores each notice for every user it reaches, and queues their emails.
func (s *Service) deliver(ctx context.Context, tx Tx, notices []Notice, source string, now time.Time) error {
	for _, n := range notices {
		users, err := tx.Users(ctx, n.To.OrgID, n.To.Roles, RecipientsMax)
		if err != nil {
			return err
		}
		for _, u := range users {
			id, err := tx.InsertNotification(ctx, Notification{UserID: u.ID, OrgID: u.OrgID, OrderID: n.OrderID,
				Kind: n.Kind, Title: n.Title, Body: n.Body, Link: n.Link, CreatedAt: now, Dedupe: source + "/" + string(n.Kind)})
			if err != nil {
				return err
			}
			if id != 0 && s.mailer != nil && u.Email != "" {
				if err := tx.EnqueueEmail(ctx, id, u.Email, u.Name, now); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// SendEmails claims the emails due now and attempts each; it returns how many it attempted.
// An email whose outcome cannot be recorded stays claimed until its lease runs out and is then
// attempted again: at least once, and the Message-ID stays the same.
func (s *Service) SendEmails(ctx context.Context, owner string) (int, error) {
	if s.mailer == nil {
		return 0, nil
	}
	jobs, err := s.store.ClaimEmails(ctx, s.clock.Now(), owner, Lease, EmailBatchMax)
	if err != nil {
		return 0, fmt.Errorf("claim emails: %w", err)
	}
	var errs []error
	for _, j := range jobs {
		errs = append(errs, s.attempt(ctx, owner, j))
	}
	return len(jobs), errors.Join(errs...)
}

func (s *Service) attempt(ctx context.Context, owner string, j Email) error {
	var o EmailOutcome
	switch {
	case j.Disabled:
		o = EmailOutcome{State: EmailDead, Error: "the recipient's user is disabled", At: s.clock.Now()}
	case j.Attempts > AttemptsMax:
		o = EmailOutcome{State: EmailDead, Error: "no outcome recorded after the last attempt", At: s.clock.Now()}
	default:
		err := s.mailer.Send(ctx, j.To, s.compose(j))
		if ctx.Err() != nil {
			return nil // shutting down: the lease lapses and it goes again
		}
		o = DecideEmail(j, err, s.clock.Now())
	}
	err := s.store.FinishEmail(ctx, j.NotificationID, owner, o)
	if errors.Is(err, escrow.ErrNotFound) {
		s.log.Warn("notification email taken over", "notification", j.NotificationID, "owner", owner)
		return nil
	}
	if err != nil {
		return fmt.Errorf("finish email %d: %w", j.NotificationID, err)
	}
	if s.outcomes != nil {
		label := string(o.State)
		if o.State == EmailPending {
			label = "retry"
		}
		s.outcomes.WithLabelValues(label).Inc()
	}
	if o.State != EmailSent {
		s.log.Info("notification email failed", "notification", j.NotificationID, "attempt", j.Attempts, "err", o.Error, "state", o.State)
	}
	return nil
}

func (s *Service) compose(j Email) []byte {
	n := j.Notification
	from := s.mailer.From()
	return Compose(Mail{From: from, To: mail.Address{Name: j.Name, Address: j.To}, Subject: n.Title, Text: n.Body,
		Link: s.base + n.Link, LinkText: linkText(n.Link), Inbox: s.base + "/notifications", Date: s.clock.Now(),
		MessageID: MessageID(n.ID, from.Address)})
}

// linkText says what a notification's link opens.
func linkText(link string) string {
	switch {
	case strings.HasPrefix(link, "/orders/"):
		return "Open the order"
	case strings.HasPrefix(link, "/credit/loans/"):
		return "Open the loan"
	case strings.HasPrefix(link, "/credit/applications/"):
		return "Open the application"
	case link == CreditLink:
		return "Open Pay Later"
	case link == SuspenseLink:
		return "Open the money held in suspense"
	case link == PayoutsLink:
		return "Open your payouts"
	case strings.HasPrefix(link, operationsPage+"#"):
		return "Open it on the Operations page"
	case strings.HasPrefix(link, "/admin/suppliers/"): // a notice sent before the Operations page
		return "Open the supplier's payouts"
	}
	return "Open it in the portal"
}

// DecideEmail is the outcome of an attempt at e (e.Attempts counts it): sent when the server
// accepted it; otherwise pending again after Backoff, or dead after AttemptsMax attempts.
func DecideEmail(e Email, sendErr error, now time.Time) EmailOutcome {
	if sendErr == nil {
		return EmailOutcome{State: EmailSent, At: now}
	}
	msg := clip(sendErr.Error(), ErrorTextMax)
	if e.Attempts >= AttemptsMax {
		return EmailOutcome{State: EmailDead, Error: msg, At: now}
	}
	return EmailOutcome{State: EmailPending, NextAttemptAt: now.Add(Backoff(e.NotificationID, e.Attempts)), Error: msg, At: now}
}

// Backoff is the wait after the n-th failed attempt (n from 1): BackoffBase doubled n−1 times,
// at most BackoffMax, plus up to a tenth more spread by the notification's ID (not random, so a
// test can predict it), so that emails that failed together do not all come back together.
func Backoff(id int64, n int) time.Duration {
	d := BackoffMax
	if n >= 1 && n < 32 && BackoffBase<<(n-1) < BackoffMax {
		d = BackoffBase << (n - 1)
	}
	h := uint64(id)*0x9E3779B97F4A7C15 ^ uint64(n)
	h ^= h >> 29
	return d + d/10*time.Duration(h%1001)/1000
}
