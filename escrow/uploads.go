package escrow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits of uploads, shared by every adapter that takes files (the API's POST /v1/files and the
// portal's forms) so that a file one accepts the other accepts too.
const (
	// UploadSizeMax is the largest file one upload takes, in bytes: the blob store's default
	// policy, which has the last word.
	UploadSizeMax = blob.SizeMaxDefault
	// FileNameMax is the longest file name, in bytes: what the domain takes as an attachment's
	// name.
	FileNameMax = 255
)

// Upload records that an organization stored a file, so that it may attach the file to its
// orders' contracts (R3), messages (R23) and inspection reports (R16). Knowing a file's hash is
// not enough to attach it: see MayAttach.
type Upload struct {
	OrgID      string    `json:"org_id"`
	Ref        string    `json:"ref"`
	Name       string    `json:"name"`
	MediaType  string    `json:"media_type"`
	Size       int64     `json:"size"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// UploadReader reads who uploaded what. The store's readers and transactions implement it beside
// Reader; the use cases reach it by a type assertion, like Pay Later and payouts.
type UploadReader interface {
	// Uploaded reports whether the organization uploaded the file ref.
	Uploaded(ctx context.Context, orgID, ref string) (bool, error)
}

// UploadTx records uploads in a transaction.
type UploadTx interface {
	UploadReader
	// InsertUpload records u; an organization uploading the same file again changes nothing
	// (the first name and time are kept) and is no error.
	InsertUpload(ctx context.Context, u Upload) error
}

// ValidFileName checks a file's name as an upload gives it: 1 to FileNameMax bytes of UTF-8,
// not blank, without control characters, slashes or backslashes (a name, never a path), and
// not "." or "..".
func ValidFileName(name string) error {
	bad := name == "" || len(name) > FileNameMax || !utf8.ValidString(name) || strings.TrimSpace(name) == "" ||
		name == "." || name == ".." || strings.ContainsAny(name, `/\`) ||
		strings.ContainsFunc(name, unicode.IsControl)
	if bad {
		return fault.FieldErr("name", "invalid_file_name",
			"name the file in 1 to %d bytes of UTF-8, without control characters, slashes or backslashes", FileNameMax)
	}
	return nil
}

// SafeFileName makes any name, as a browser or an attachment gives it, into one ValidFileName
// takes: the last element of a path, without control characters or invalid UTF-8, at most
// FileNameMax bytes cut on a rune; "attachment" when nothing is left. Downloads name their
// files with it, so a stored name never makes a path on the receiving side.
func SafeFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	name = strings.TrimSpace(path.Base(strings.ReplaceAll(name, `\`, "/")))
	for len(name) > FileNameMax {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if ValidFileName(name) != nil {
		return "attachment"
	}
	return name
}

// Upload stores a file of the declared media type in the blob store, under its policy (allowed
// types, UploadSizeMax, content that is what it is declared to be), and records that a's
// organization uploaded it. Idempotent by key like every command: a retry returns the first
// answer, and the same key with another file or name is refused. Storing the content comes
// first and outside the transaction: it is addressed by its hash, so a rolled-back record leaves
// only bytes nobody may attach.
func (s *Service) Upload(ctx context.Context, a trade.Actor, key, name, mediaType string, content io.Reader) (Upload, error) {
	if a.OrgID == "" || a.Role == trade.RoleSystem {
		return Upload{}, fault.New(fault.Forbidden, "role_not_allowed", "only an organization's people upload files")
	}
	if err := ValidFileName(name); err != nil {
		return Upload{}, err
	}
	if key == "" || len(key) > KeyMax {
		return Upload{}, fault.FieldErr("idempotency_key", "invalid_idempotency_key", "give an idempotency key of 1 to %d characters", KeyMax)
	}
	if s.blobs == nil {
		return Upload{}, fault.New(fault.Invalid, "attachments_unavailable", "this server stores no attachments")
	}
	m, err := s.blobs.Put(ctx, content, mediaType)
	if err != nil {
		return Upload{}, uploadErr(err, mediaType)
	}
	up := Upload{OrgID: a.OrgID, Ref: string(m.Ref), Name: name, MediaType: m.MediaType, Size: m.Size}
	return run(ctx, s, a, key, struct{ Op, Ref, Name string }{"upload", up.Ref, name}, func(u *unit) (Upload, error) {
		up.UploadedAt = u.now
		return up, insertUpload(ctx, u.tx, up)
	})
}

// RecordUpload records that a's organization uploaded the file ref, already stored, under name:
// for an adapter that streams files into the blob store itself (the portal's forms). Recording
// is idempotent by its nature (one row per organization and file), so it takes no key.
func (s *Service) RecordUpload(ctx context.Context, a trade.Actor, ref blob.Ref, name string) (Upload, error) {
	if a.OrgID == "" || a.Role == trade.RoleSystem {
		return Upload{}, fault.New(fault.Forbidden, "role_not_allowed", "only an organization's people upload files")
	}
	if err := ValidFileName(name); err != nil {
		return Upload{}, err
	}
	if s.blobs == nil {
		return Upload{}, fault.New(fault.Invalid, "attachments_unavailable", "this server stores no attachments")
	}
	m, err := s.blobs.Stat(ctx, ref)
	if err != nil {
		return Upload{}, fmt.Errorf("record upload %s: %w", ref, err)
	}
	up := Upload{OrgID: a.OrgID, Ref: string(m.Ref), Name: name, MediaType: m.MediaType, Size: m.Size, UploadedAt: s.clock.Now()}
	err = s.store.Write(ctx, func(tx Tx) error { return insertUpload(ctx, tx, up) })
	return up, err
}

func insertUpload(ctx context.Context, tx Tx, up Upload) error {
	ut, ok := tx.(UploadTx)
	if !ok {
		return fault.New(fault.Internal, "uploads_unavailable", "this store does not record uploads")
	}
	if err := ut.InsertUpload(ctx, up); err != nil {
		return fmt.Errorf("record upload %s: %w", up.Ref, err)
	}
	return nil
}

// uploadErr says what is wrong with a file the blob store refused. Other errors (the body could
// not be read, the disk failed) are returned wrapped: the adapter knows which are the sender's.
func uploadErr(err error, declared string) error {
	switch {
	case errors.Is(err, blob.ErrTooLarge):
		return fault.New(fault.Invalid, "file_too_large", "a file has at most %d bytes (%d MiB)", UploadSizeMax, UploadSizeMax>>20)
	case errors.Is(err, blob.ErrTypeNotAllowed):
		return fault.New(fault.Invalid, "media_type_not_allowed",
			"%q is not a type of file the platform takes: PDF, PNG, JPEG, WebP, GIF, plain text, CSV, ZIP, Word (.docx) or Excel (.xlsx)", declared)
	case errors.Is(err, blob.ErrTypeMismatch):
		return fault.New(fault.Invalid, "content_type_mismatch", "the content is not %s: declare the file's real media type", declared)
	case errors.Is(err, blob.ErrEmpty):
		return fault.New(fault.Invalid, "empty_file", "the file is empty")
	}
	return fmt.Errorf("store upload: %w", err)
}

// attachRule is the one rule of what an organization may attach to an order, applied by every
// adapter and, again, inside the command's transaction: a file it uploaded itself, or one the
// order already refers to (a contract version, the open proposal, an inspection report's photos,
// a message of the thread) — so a party may attach again what the other party sent. Knowing a
// file's hash is not enough.
type attachRule struct {
	r    Reader
	org  string
	o    *trade.Order // nil for an order being placed
	msgs []trade.Message
	read bool // msgs were read
}

// allows reports whether the rule lets ref be attached. The thread is read only when the order
// and the uploads do not settle it.
func (ar *attachRule) allows(ctx context.Context, ref string) (bool, error) {
	if ar.o != nil {
		if _, ok := findAttachment(ar.o, nil, ref); ok {
			return true, nil
		}
	}
	ur, ok := ar.r.(UploadReader)
	if !ok {
		return false, fault.New(fault.Internal, "uploads_unavailable", "this store does not record uploads")
	}
	mine, err := ur.Uploaded(ctx, ar.org, ref)
	if err != nil || mine || ar.o == nil {
		return mine, err
	}
	if !ar.read {
		if ar.msgs, err = ar.r.Messages(ctx, ar.o.ID); err != nil {
			return false, fmt.Errorf("read thread of %s: %w", ar.o.ID, err)
		}
		ar.read = true
	}
	_, ok = findAttachment(nil, ar.msgs, ref)
	return ok, nil
}

// notAttachable is the refusal of a file a may not attach. It is the same whether the file is
// stored or not, so that it tells nobody which hashes the platform holds.
func notAttachable(field, ref string) error {
	return fault.FieldErr(field, "attachment_not_found",
		"%s is not a file your organization uploaded (POST /v1/files) or one this order refers to", ref)
}

// checkAttachable applies attachRule to the attachments of a command, in its transaction.
func checkAttachable(ctx context.Context, u *unit, o *trade.Order, field string, atts []trade.Attachment) error {
	rule := attachRule{r: u.tx, org: u.actor.OrgID, o: o}
	for i, a := range atts {
		ok, err := rule.allows(ctx, a.Ref)
		if err != nil {
			return err
		}
		if !ok {
			return notAttachable(fmt.Sprintf("%s[%d].ref", field, i), a.Ref)
		}
	}
	return nil
}

// commandAttachments are the files a lifecycle command attaches, with the field that lists them.
func commandAttachments(cmd trade.Command) (string, []trade.Attachment) {
	switch c := cmd.(type) {
	case trade.ProposeContract:
		return "attachments", c.Contract.Attachments
	case trade.ProposeAmendment:
		return "attachments", c.Contract.Attachments
	case trade.SubmitReport:
		return "report.photos", c.Report.Photos
	}
	return "", nil
}

// MayAttach reports whether a may attach the file ref to order o (nil for an order not yet
// placed): the rule the use cases apply, for an adapter that checks a form before submitting it.
func (s *Service) MayAttach(ctx context.Context, a trade.Actor, o *trade.Order, ref string) (bool, error) {
	var ok bool
	err := s.store.Read(ctx, func(r Reader) error {
		rule := attachRule{r: r, org: a.OrgID, o: o}
		var err error
		ok, err = rule.allows(ctx, ref)
		return err
	})
	return ok, err
}

// findAttachment finds ref among the files an order refers to: every contract version, the open
// proposal, the inspection reports' photos, and the given messages of its thread.
func findAttachment(o *trade.Order, msgs []trade.Message, ref string) (trade.Attachment, bool) {
	var lists [][]trade.Attachment
	if o != nil {
		for _, v := range o.Contracts {
			lists = append(lists, v.Contract.Attachments)
		}
		if o.Proposal != nil {
			lists = append(lists, o.Proposal.Contract.Attachments)
		}
		if o.Inspection != nil {
			for _, rep := range o.Inspection.Reports {
				lists = append(lists, rep.Photos)
			}
		}
	}
	for _, m := range msgs {
		lists = append(lists, m.Attachments)
	}
	for _, l := range lists {
		for _, a := range l {
			if a.Ref == ref {
				return a, true
			}
		}
	}
	return trade.Attachment{}, false
}

// OrderAttachment returns the file ref of an order a may see, if the order refers to it (its
// contracts, proposal, reports or thread): whoever sees the order — the inspection company
// included — may download its files, and nobody may fetch a file by its hash alone.
func (s *Service) OrderAttachment(ctx context.Context, a trade.Actor, orderID, ref string) (trade.Attachment, error) {
	o, err := s.Order(ctx, a, orderID)
	if err != nil {
		return trade.Attachment{}, err
	}
	att, ok := findAttachment(o, nil, ref)
	if !ok {
		msgs, err := s.Messages(ctx, a, o.ID)
		if err != nil {
			return trade.Attachment{}, err
		}
		att, ok = findAttachment(nil, msgs, ref)
	}
	if !ok || s.blobs == nil {
		return trade.Attachment{}, fault.New(fault.NotFound, "attachment_not_found", "this order has no such attachment")
	}
	return att, nil
}

// OpenAttachment is OrderAttachment that also opens the file: its size and media type are the
// store's. The caller closes the reader.
func (s *Service) OpenAttachment(ctx context.Context, a trade.Actor, orderID, ref string) (trade.Attachment, io.ReadCloser, error) {
	att, err := s.OrderAttachment(ctx, a, orderID, ref)
	if err != nil {
		return att, nil, err
	}
	rc, m, err := s.blobs.Open(ctx, blob.Ref(ref))
	switch {
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrInvalidRef):
		return att, nil, fault.New(fault.NotFound, "attachment_not_found", "the file is no longer stored")
	case err != nil:
		return att, nil, fmt.Errorf("open attachment %s: %w", ref, err)
	}
	att.Size, att.MediaType = m.Size, m.MediaType
	return att, rc, nil
}
