package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/poll"
)

// Message is the JSON body of a delivery, in the Standard Webhooks shape.
type Message struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp" doc:"When the event happened."`
	Data      MessageData `json:"data"`
}

// MessageData identifies the event and carries its payload.
type MessageData struct {
	EventID   string          `json:"event_id" doc:"Equals the webhook-id header."`
	Stream    string          `json:"stream" doc:"The order ID for an order's events; an organization's ID, or platform."`
	Seq       int64           `json:"seq" doc:"1, 2, … within the stream: deliveries of a stream arrive in this order."`
	GlobalSeq int64           `json:"global_seq" doc:"The position in the events feed (GET /v1/events?after=)."`
	Payload   json.RawMessage `json:"payload"`
}

// RunOnce claims the deliveries due now and attempts each, at most SendConcurrency at a time;
// it returns how many it attempted. A delivery whose outcome cannot be recorded stays claimed
// until its lease runs out, then it is attempted again: at least once.
func (s *Service) RunOnce(ctx context.Context, owner string) (int, error) {
	jobs, err := s.store.ClaimDeliveries(ctx, s.clock.Now(), owner, Lease, ClaimBatchMax)
	if err != nil {
		return 0, fmt.Errorf("claim deliveries: %w", err)
	}
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, SendConcurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.attempt(ctx, owner, j)
		})
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// Run attempts due deliveries every interval until ctx ends. After a round that attempted
// something it goes again at once, so an order's next event follows its predecessor without
// waiting for the tick.
func (s *Service) Run(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "webhook dispatcher", func(ctx context.Context) (int, error) { return s.RunOnce(ctx, owner) })
}

func (s *Service) attempt(ctx context.Context, owner string, j Job) error {
	var o Outcome
	if j.Attempts > AttemptsMax {
		// Claimed again and again without an outcome recorded (a crash mid-send): stop here.
		o = Outcome{State: Dead, Status: j.LastStatus, Error: "no outcome recorded after the last attempt", At: s.clock.Now()}
	} else {
		status, err := s.send(ctx, j)
		if ctx.Err() != nil {
			return nil // shutting down: not the receiver's failure; the lease lapses and it goes again
		}
		o = Decide(j.Delivery, status, err, s.clock.Now())
	}
	err := s.store.FinishDelivery(ctx, j.ID, owner, o)
	if errors.Is(err, escrow.ErrNotFound) {
		s.log.Warn("webhook delivery taken over", "delivery", j.ID, "owner", owner)
		return nil
	}
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", j.ID, err)
	}
	if s.outcomes != nil {
		label := string(o.State)
		if o.State == Pending {
			label = "retry"
		}
		s.outcomes.WithLabelValues(label).Inc()
	}
	if o.State != Delivered {
		s.log.Info("webhook attempt failed", "delivery", j.ID, "endpoint", j.EndpointID, "attempt", j.Attempts,
			"status", o.Status, "err", o.Error, "state", o.State)
	}
	return nil
}

// Body is the signed body of a job's message.
func Body(j Job) ([]byte, error) {
	return json.Marshal(Message{Type: j.Type, Timestamp: j.At, Data: MessageData{EventID: EventID(j.GlobalSeq),
		Stream: j.Stream, Seq: j.Seq, GlobalSeq: j.GlobalSeq, Payload: j.Payload}})
}

// send makes one attempt: it returns the status the endpoint answered, or why none came.
func (s *Service) send(ctx context.Context, j Job) (int, error) {
	key, err := ParseSecret(j.Secret)
	if err != nil {
		return 0, err
	}
	body, err := Body(j)
	if err != nil {
		return 0, fmt.Errorf("encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	id, now := EventID(j.GlobalSeq), s.clock.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tradeassure-webhooks/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, Sign(key, id, now, body))
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, ResponseMax)) // lets the connection be reused
	return res.StatusCode, nil
}

// Decide is the outcome of an attempt at d (d.Attempts counts it): delivered on a 2xx answer;
// otherwise pending again after Backoff, or dead once AttemptsMax attempts have failed.
func Decide(d Delivery, status int, sendErr error, now time.Time) Outcome {
	if sendErr == nil && status >= 200 && status <= 299 {
		return Outcome{State: Delivered, Status: status, At: now}
	}
	msg := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if sendErr != nil {
		msg = sendErr.Error()
	}
	if len(msg) > ErrorTextMax {
		msg = strings.ToValidUTF8(msg[:ErrorTextMax], "") // PostgreSQL text refuses a cut rune
	}
	if d.Attempts >= AttemptsMax {
		return Outcome{State: Dead, Status: status, Error: msg, At: now}
	}
	return Outcome{State: Pending, NextAttemptAt: now.Add(Backoff(d.ID, d.Attempts)), Status: status, Error: msg, At: now}
}

// Backoff is the wait after the n-th failed attempt (n from 1): BackoffBase doubled n−1 times,
// at most BackoffMax, plus up to a tenth more. The extra is spread by the delivery's ID so that
// deliveries that failed together do not all come back together; it is not random, so a test
// can predict it.
func Backoff(id int64, n int) time.Duration {
	d := BackoffMax
	if n >= 1 && n < 32 && BackoffBase<<(n-1) < BackoffMax {
		d = BackoffBase << (n - 1)
	}
	h := uint64(id)*0x9E3779B97F4A7C15 ^ uint64(n)
	h ^= h >> 29
	return d + d/10*time.Duration(h%1001)/1000
}

// newClient is an HTTP client with SendTimeout that follows no redirect (a 3xx is an answer the
// receiver should fix) and, unless allowPrivate, refuses to connect to loopback, private,
// link-local and unspecified addresses, whatever name resolved to them.
func newClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: SendTimeout}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
				ip.IsUnspecified() || ip.IsMulticast() {
				return fmt.Errorf("address %s is not a public address", host)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.Proxy = nil // a proxy would dial on our behalf and bypass the address check
	return &http.Client{Timeout: SendTimeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
