// Package client is a small Go client for the tradeassure JSON API: orders and every lifecycle
// command, files to attach, the events feed and webhook endpoints. Errors come back as *Problem
// with the API's stable reason; every command carries an idempotency key (generated when not
// given), and requests that are safe to repeat are retried, with the same key, after a 5xx or a
// 429.
//
//	c := client.New("https://api.tradeassure.dev", os.Getenv("TRADEASSURE_KEY"), nil)
//	o, err := c.Order(ctx, "ord_…")
//	var p *client.Problem
//	if errors.As(err, &p) && p.Reason == "order_not_found" { … }
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on what the client does.
const (
	AttemptsMax  = 4                      // tries of one request, the first included
	BackoffBase  = 250 * time.Millisecond // the wait before the first retry; doubled for each next one
	BackoffMax   = 10 * time.Second       // the longest wait; a longer Retry-After is returned, not waited
	ResponseMax  = 16 << 20               // bytes of a response body read
	Timeout      = 30 * time.Second       // of each attempt, with the default *http.Client
	PageSizeMax  = 100                    // items per page the API serves
	userAgent    = "tradeassure-go-client/1"
	problemsBase = "https://tradeassure.dev/problems/"
)

// Client calls the API with one API key. It is safe for concurrent use.
type Client struct {
	base  string
	key   string
	hc    *http.Client
	sleep func(context.Context, time.Duration) error // between attempts; tests replace it
	page  int                                        // items per page the iterators ask for; 0 is PageSizeMax (tests make it small)
}

// New returns a client of the API at baseURL (scheme and host, e.g. https://api.example.com)
// acting with apiKey (ta_key_….secret). A nil hc means a client with a Timeout per attempt.
func New(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: Timeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, hc: hc, sleep: sleepCtx}
}

// Problem is an RFC 9457 problem document the API answered with. Branch on Reason.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"` // on a 500: urn:request:<id>, to quote to support
	Reason   string       `json:"reason"`             // stable snake_case: order_not_found, transition_not_allowed, …
	Errors   []FieldError `json:"errors,omitempty"`   // for invalid input: each field at fault
	// RetryAfter is the server's Retry-After on a 429 or 503 (0 if none).
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one field at fault in an invalid request.
type FieldError struct {
	Message  string `json:"message"`
	Location string `json:"location,omitempty"` // body.supplier_id, header.Idempotency-Key, query.limit, …
	Value    any    `json:"value,omitempty"`
}

func (p *Problem) Error() string {
	s := fmt.Sprintf("tradeassure: %d %s", p.Status, p.Reason)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	for _, e := range p.Errors {
		s += "; " + e.Location + ": " + e.Message
	}
	return s
}

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         any
	contentType  string // the media type of a body of bytes, sent as they are (a file); "" for JSON
	idemKey      string // sent as Idempotency-Key when set
	ifMatch      string // sent as If-Match when set
	// safe means a repeat cannot do the work twice (a read, a delete, or a POST with an
	// idempotency key), so it is retried after a 5xx or a lost connection too; anything else
	// only after a 429, which the server answers before doing anything.
	safe bool
}

// NewIdempotencyKey returns a random key for a command (128 random bits). Keep it to retry the
// command later, after a crash say: the server then answers with the first result.
func NewIdempotencyKey() string { return "idem_" + rand.Text() }

// keyOr is key, or a new one when empty.
func keyOr(key string) string {
	if key == "" {
		return NewIdempotencyKey()
	}
	return key
}

// do sends r, retrying as r allows, and decodes a 2xx answer into out (if not nil). It returns
// the response headers of the last attempt.
func (c *Client) do(ctx context.Context, r request, out any) (http.Header, error) {
	var payload []byte
	if b, ok := r.body.([]byte); ok && r.contentType != "" {
		payload = b
	} else if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", r.method, r.path, err)
		}
	}
	for attempt := 1; ; attempt++ {
		h, status, body, err := c.once(ctx, r, payload)
		if err == nil && status < 300 {
			if out != nil && len(body) > 0 {
				if err := json.Unmarshal(body, out); err != nil {
					return h, fmt.Errorf("decode %s %s: %w", r.method, r.path, err)
				}
			}
			return h, nil
		}
		if err == nil {
			err = problemOf(status, h, body)
		}
		wait, retry := c.backoff(ctx, r, attempt, err)
		if !retry {
			return h, err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return h, err
		}
	}
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, r request, payload []byte) (http.Header, int, []byte, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	switch {
	case r.contentType != "":
		req.Header.Set("Content-Type", r.contentType)
	case payload != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if r.idemKey != "" {
		req.Header.Set("Idempotency-Key", r.idemKey)
	}
	if r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, ResponseMax))
	if err != nil {
		return res.Header, 0, nil, fmt.Errorf("%s %s: read: %w", r.method, r.path, err)
	}
	return res.Header, res.StatusCode, body, nil
}

// backoff decides whether to try r again after err, and how long to wait first: the server's
// Retry-After if it gave one, otherwise BackoffBase doubled per attempt, with jitter, at most
// BackoffMax.
func (c *Client) backoff(ctx context.Context, r request, attempt int, err error) (time.Duration, bool) {
	if attempt >= AttemptsMax || ctx.Err() != nil {
		return 0, false
	}
	var p *Problem
	switch {
	case errors.As(err, &p) && p.Status == http.StatusTooManyRequests:
	case errors.As(err, &p) && p.Status >= 500 && r.safe:
	case p == nil && r.safe: // no answer: the connection failed
	default:
		return 0, false
	}
	if p != nil && p.RetryAfter > 0 {
		return p.RetryAfter, p.RetryAfter <= BackoffMax
	}
	d := min(BackoffMax, BackoffBase<<(attempt-1))
	return d/2 + mrand.N(d/2+1), true
}

// problemOf decodes an error answer; one that is not a problem document (a proxy's page) becomes
// a problem with reason unexpected_response.
func problemOf(status int, h http.Header, body []byte) *Problem {
	p := &Problem{}
	if json.Unmarshal(body, p) != nil || p.Reason == "" {
		text := strings.TrimSpace(string(body[:min(len(body), 200)]))
		p = &Problem{Type: problemsBase + "unexpected_response", Title: http.StatusText(status),
			Reason: "unexpected_response", Detail: text}
	}
	p.Status = status
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		p.RetryAfter = time.Duration(s) * time.Second
	}
	return p
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
