package store

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/escrow"
)

// Uploads: who uploaded which file (migrations 00010), so that attachment resolution lets an
// organization attach only its own files or the order's.

var (
	_ escrow.UploadReader = reader{}
	_ escrow.UploadTx     = (*tx)(nil)
)

// InsertUpload records an upload; the same organization and file again keeps the first row.
func (t *tx) InsertUpload(ctx context.Context, u escrow.Upload) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO uploads (org_id, ref, name, media_type, size, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, ref) DO NOTHING`,
		u.OrgID, u.Ref, u.Name, u.MediaType, u.Size, micros(u.UploadedAt))
	if err != nil {
		return t.fail(fmt.Errorf("insert upload %s of %q: %w", u.Ref, u.OrgID, err))
	}
	return nil
}

// Uploaded reports whether the organization uploaded the file ref.
func (r reader) Uploaded(ctx context.Context, orgID, ref string) (bool, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM uploads WHERE org_id = $1 AND ref = $2`, orgID, ref).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("select upload %s of %q: %w", ref, orgID, err)
	}
	return n > 0, nil
}
