// Package blob stores attachments — design drafts, labels, dimension sheets,
// inspection photos — by the SHA-256 of their content, so the message thread
// and the purchase contracts of an order refer to immutable, deduplicated bytes.
//
// Limits (size, media type) are checked while the content streams in and
// before anything becomes visible in the store; a declared media type must be
// allowed by the Policy and agree with what the content actually is.
package blob

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// Limits on what may be stored.
const (
	// SizeMaxDefault is the default largest attachment, in bytes.
	SizeMaxDefault = 25 << 20
	// SniffSizeMax is how many leading bytes are inspected to recognise the
	// media type (the amount net/http.DetectContentType considers).
	SniffSizeMax = 512
)

// Sentinel errors; callers test for them with errors.Is.
var (
	// ErrTooLarge means the content is longer than Policy.SizeMax.
	ErrTooLarge = errors.New("blob: content too large")
	// ErrTypeNotAllowed means the declared media type is not in the Policy.
	ErrTypeNotAllowed = errors.New("blob: media type not allowed")
	// ErrTypeMismatch means the content is not of the declared media type.
	ErrTypeMismatch = errors.New("blob: content does not match declared media type")
	// ErrEmpty means the content has no bytes.
	ErrEmpty = errors.New("blob: empty content")
	// ErrNotFound means no content is stored under the ref.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidRef means the ref is not of the form "sha256:<64 lower-case hex>".
	ErrInvalidRef = errors.New("blob: invalid ref")
	// ErrCorrupt means the stored content no longer hashes to its ref, or its
	// metadata is missing or inconsistent.
	ErrCorrupt = errors.New("blob: corrupt content")
)

// Media types of DefaultPolicy, named because the sniffer gives some of them
// special treatment.
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeWebP = "image/webp"
	TypeGIF  = "image/gif"
	TypeText = "text/plain"
	TypeCSV  = "text/csv"
	TypeZip  = "application/zip"
	TypeDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

const refPrefix = "sha256:"

// Ref identifies stored content: "sha256:" followed by the 64 lower-case hex
// digits of the SHA-256 of the content. Being derived from the content, it
// names the same bytes forever.
type Ref string

// ParseRef returns s as a Ref if it has the canonical form, and ErrInvalidRef
// otherwise. Only the canonical form is accepted so that one content has
// exactly one Ref, and so that a Ref can never name a path.
func ParseRef(s string) (Ref, error) {
	digest, ok := strings.CutPrefix(s, refPrefix)
	if !ok || len(digest) != 2*32 {
		return "", fmt.Errorf("parse ref %q: %w", s, ErrInvalidRef)
	}
	for i := 0; i < len(digest); i++ {
		c := digest[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("parse ref %q: %w", s, ErrInvalidRef)
		}
	}
	return Ref(s), nil
}

// refOf returns the Ref of a SHA-256 sum.
func refOf(sum []byte) Ref {
	return Ref(refPrefix + hex.EncodeToString(sum))
}

// digest returns the hex part of a Ref already validated by ParseRef.
func (r Ref) digest() string {
	return strings.TrimPrefix(string(r), refPrefix)
}

// Meta describes a stored blob.
type Meta struct {
	Ref  Ref
	Size int64
	// MediaType is the declared type recorded when the content was first
	// stored, with the charset detected for text types
	// (e.g. "text/plain; charset=utf-8").
	MediaType string
}

// Policy says what may be stored.
type Policy struct {
	// SizeMax is the largest content accepted, in bytes.
	SizeMax int64
	// MediaTypes lists the allowed media types, without parameters. A type
	// outside DefaultPolicy is only accepted when net/http.DetectContentType
	// recognises the content as exactly that type.
	MediaTypes []string
}

// DefaultPolicy allows the attachments a trade needs — documents, pictures,
// spreadsheets and archives — up to SizeMaxDefault bytes each.
func DefaultPolicy() Policy {
	return Policy{
		SizeMax: SizeMaxDefault,
		MediaTypes: []string{
			TypePDF, TypePNG, TypeJPEG, TypeWebP, TypeGIF,
			TypeText, TypeCSV, TypeZip, TypeDocx, TypeXlsx,
		},
	}
}

// policy is a validated Policy with its types normalised into a set.
type policy struct {
	sizeMax int64
	allowed map[string]bool
}

func (p Policy) compile() (policy, error) {
	if p.SizeMax <= 0 {
		return policy{}, fmt.Errorf("policy: size max %d is not positive", p.SizeMax)
	}
	if len(p.MediaTypes) == 0 {
		return policy{}, errors.New("policy: no media types allowed")
	}
	c := policy{sizeMax: p.SizeMax, allowed: make(map[string]bool, len(p.MediaTypes))}
	for _, t := range p.MediaTypes {
		essence, err := essenceOf(t)
		if err != nil {
			return policy{}, fmt.Errorf("policy: %w", err)
		}
		c.allowed[essence] = true
	}
	return c, nil
}

// essenceOf returns the media type without parameters, lower case.
func essenceOf(t string) (string, error) {
	essence, _, err := mime.ParseMediaType(t)
	if err != nil {
		return "", fmt.Errorf("media type %q: %w", t, err)
	}
	return essence, nil
}

// Store is what the rest of the system uses to keep attachments; Dir
// implements it on a local directory, and an object-store adapter can too.
type Store interface {
	// Put stores the content of r, declared to be of declaredType, and
	// returns its Meta. Storing content already present changes nothing and
	// returns the Meta recorded the first time.
	Put(ctx context.Context, r io.Reader, declaredType string) (Meta, error)
	// Open returns the content stored under ref. Reading it to the end
	// returns ErrCorrupt if it no longer matches ref.
	Open(ctx context.Context, ref Ref) (io.ReadCloser, Meta, error)
	// Stat returns the Meta of the content stored under ref.
	Stat(ctx context.Context, ref Ref) (Meta, error)
}
