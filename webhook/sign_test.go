package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tradeassure/tradeassure/webhook"
)

func headers(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

// TestSignMatchesReference ensures our signatures verify with the Standard Webhooks reference
// library (and that its signatures verify with ours), and that a changed body, secret, ID or
// timestamp, or a stale timestamp, fails verification on both sides.
func TestSignMatchesReference(t *testing.T) {
	secret := webhook.NewSecret()
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q lacks the whsec_ prefix", secret)
	}
	key, err := webhook.ParseSecret(secret)
	if err != nil || len(key) != webhook.SecretBytes {
		t.Fatalf("ParseSecret: %d bytes, %v", len(key), err)
	}
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now() // the reference checks the timestamp against the wall clock
	body := []byte(`{"type":"order.placed","timestamp":"2026-03-02T09:00:00Z","data":{"seq":1}}`)
	id := "evt_42"

	sig := webhook.Sign(key, id, now, body)
	if err := ref.Verify(body, headers(id, now, sig)); err != nil {
		t.Fatalf("reference rejects our signature: %v", err)
	}
	refSig, err := ref.Sign(id, now, body)
	if err != nil || refSig != sig {
		t.Fatalf("reference signs %q, we sign %q (%v)", refSig, sig, err)
	}
	if err := webhook.Verify(key, headers(id, now, sig), body, now); err != nil {
		t.Fatalf("we reject our own signature: %v", err)
	}
	// Several signatures in one header (a secret being rotated): any match is enough.
	if err := webhook.Verify(key, headers(id, now, "v1,bm9wZQ== v2,x "+sig), body, now); err != nil {
		t.Fatalf("second of several signatures: %v", err)
	}

	other, _ := webhook.ParseSecret(webhook.NewSecret())
	tampered := []struct {
		name   string
		key    []byte
		id     string
		ts     time.Time
		body   []byte
		verify time.Time
		want   error
	}{
		{"body", key, id, now, []byte(strings.Replace(string(body), `"seq":1`, `"seq":2`, 1)), now, webhook.ErrSignature},
		{"secret", other, id, now, body, now, webhook.ErrSignature},
		{"id", key, "evt_43", now, body, now, webhook.ErrSignature},
		{"timestamp", key, id, now.Add(time.Second), body, now, webhook.ErrSignature},
		{"stale", key, id, now.Add(-10 * time.Minute), body, now, webhook.ErrTimestamp},
		{"future", key, id, now.Add(10 * time.Minute), body, now, webhook.ErrTimestamp},
	}
	for _, tc := range tampered {
		t.Run(tc.name, func(t *testing.T) {
			// sig was made over (id, now, body) with key; the receiver sees tc's values.
			h := headers(tc.id, tc.ts, sig)
			ours := webhook.Verify(tc.key, h, tc.body, tc.verify)
			if !errors.Is(ours, tc.want) {
				t.Errorf("Verify = %v, want %v", ours, tc.want)
			}
			theirs, _ := standardwebhooks.NewWebhookRaw(tc.key)
			if err := theirs.Verify(tc.body, h); err == nil {
				t.Errorf("reference accepts a tampered %s", tc.name)
			}
		})
	}
	if err := webhook.Verify(key, http.Header{}, body, now); !errors.Is(err, webhook.ErrMissingHeaders) {
		t.Errorf("no headers: %v", err)
	}
	if _, err := webhook.ParseSecret("whsec_not base64!"); err == nil {
		t.Error("ParseSecret accepts a bad secret")
	}
	if base64.StdEncoding.EncodeToString(key) != strings.TrimPrefix(secret, "whsec_") {
		t.Error("ParseSecret does not return the secret's bytes")
	}
}
