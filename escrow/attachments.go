package escrow

import (
	"context"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// resolve checks that every attachment refers to content in the blob store, and takes its size
// and media type from the store rather than from the caller. Content is addressed by its hash
// and never deleted, so checking before the transaction cannot go stale. Whether the actor may
// attach the file (attachRule) depends on the order, and is checked inside the transaction.
func (s *Service) resolve(ctx context.Context, field string, atts []trade.Attachment) ([]trade.Attachment, error) {
	if len(atts) == 0 {
		return atts, nil
	}
	if s.blobs == nil {
		return nil, fault.FieldErr(field, "attachments_unavailable", "this server stores no attachments")
	}
	out := make([]trade.Attachment, len(atts))
	for i, a := range atts {
		f := fmt.Sprintf("%s[%d].ref", field, i)
		ref, err := blob.ParseRef(a.Ref)
		if err != nil {
			return nil, fault.FieldErr(f, "invalid_attachment", "an attachment refers to uploaded content (sha256:…)")
		}
		meta, err := s.blobs.Stat(ctx, ref)
		switch {
		case errors.Is(err, blob.ErrNotFound):
			return nil, notAttachable(f, a.Ref)
		case err != nil:
			return nil, fmt.Errorf("stat attachment %s: %w", a.Ref, err)
		}
		a.Size, a.MediaType = meta.Size, meta.MediaType
		out[i] = a
	}
	return out, nil
}

// resolveCommand resolves the attachments a command carries, and lints a drafted contract once
// its attachments are known (R5): the platform's check replaces whatever the caller sent.
func (s *Service) resolveCommand(ctx context.Context, cmd trade.Command) (trade.Command, error) {
	var err error
	switch c := cmd.(type) {
	case trade.ProposeContract:
		c.Contract.Attachments, err = s.resolve(ctx, "attachments", c.Contract.Attachments)
		c.Lint = specCheck(c.Contract)
		return c, err
	case trade.ProposeAmendment:
		c.Contract.Attachments, err = s.resolve(ctx, "attachments", c.Contract.Attachments)
		c.Lint = specCheck(c.Contract)
		return c, err
	case trade.SubmitReport:
		c.Report.Photos, err = s.resolve(ctx, "report.photos", c.Report.Photos)
		return c, err
	case trade.BookInspection:
		return c, checkAQL(c.AQL)
	}
	return cmd, nil
}
