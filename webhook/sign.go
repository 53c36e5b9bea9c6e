package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signing parameters.
const (
	SecretPrefix  = "whsec_"
	SecretBytes   = 32              // random bytes in a new secret (the standard asks 24 to 64)
	Tolerance     = 5 * time.Minute // how far a timestamp may be from the verifier's clock
	SignaturesMax = 8               // signatures Verify looks at in one header
)

// Verification failures.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("webhook: timestamp invalid or outside the tolerance")
	ErrSignature      = errors.New("webhook: no matching signature")
	ErrSecret         = errors.New("webhook: secret is not whsec_<base64>")
)

// NewSecret returns a fresh signing secret: whsec_ and SecretBytes random bytes in base64.
func NewSecret() string {
	b := make([]byte, SecretBytes)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret returns the key bytes of a whsec_ secret.
func ParseSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil || len(b) == 0 {
		return nil, ErrSecret
	}
	return b, nil
}

// Sign returns the webhook-signature header value for a message: "v1," and the base64
// HMAC-SHA256, under secret, of "msgID.unix-seconds.body".
func Sign(secret []byte, msgID string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(secret, msgID, ts.Unix(), body))
}

func mac(secret []byte, msgID string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, unix, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a received message as a receiver should: the three headers are present, the
// timestamp is within Tolerance of now (the caller's clock), and one of the space-separated v1
// signatures matches body under secret, compared in constant time.
func Verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := mac(secret, id, unix, body)
	for i, s := range strings.Fields(sigs) {
		if i == SignaturesMax {
			break
		}
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
