package store

import (
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
)

// TestUploadsSQLite and TestUploadsPostgres run the upload records on both databases: an upload
// is recorded once per organization and file (a second upload keeps the first row and is no
// error), is found for its organization only, and can be neither changed nor deleted. R23
func TestUploadsSQLite(t *testing.T) { testUploads(t, openSQLiteT(t)) }

func TestUploadsPostgres(t *testing.T) { testUploads(t, openPostgresT(t, "")) }

func testUploads(t *testing.T, db *DB) {
	ref := "sha256:" + strings.Repeat("ab", 32)
	up := escrow.Upload{OrgID: "org_a", Ref: ref, Name: "spec sheet.pdf", MediaType: "application/pdf", Size: 1234, UploadedAt: t0}
	for i, name := range []string{"spec sheet.pdf", "renamed.pdf"} {
		u := up
		u.Name, u.UploadedAt = name, t0.Add(time.Duration(i)*time.Hour)
		write(t, db, func(tx escrow.Tx) error { return tx.(escrow.UploadTx).InsertUpload(ctx, u) })
	}
	read(t, db, func(r escrow.Reader) error {
		ur := r.(escrow.UploadReader)
		for _, c := range []struct {
			org, ref string
			want     bool
		}{{"org_a", ref, true}, {"org_b", ref, false}, {"org_a", "sha256:" + strings.Repeat("cd", 32), false}} {
			got, err := ur.Uploaded(ctx, c.org, c.ref)
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("Uploaded(%s, %s…) = %v, want %v", c.org, c.ref[:12], got, c.want)
			}
		}
		return nil
	})
	var name string
	var at int64
	write(t, db, func(etx escrow.Tx) error {
		return etx.(*tx).q.QueryRowContext(ctx, `SELECT name, uploaded_at FROM uploads WHERE org_id = 'org_a'`).Scan(&name, &at)
	})
	if name != "spec sheet.pdf" || at != micros(t0) {
		t.Errorf("kept %q at %d, want the first upload's name and time", name, at)
	}
	bad := up
	bad.OrgID, bad.Ref = "org_b", "https://example.com/x.pdf"
	if err := db.Write(ctx, func(tx escrow.Tx) error { return tx.(escrow.UploadTx).InsertUpload(ctx, bad) }); err == nil {
		t.Error("an upload whose ref is not a sha256 ref was recorded")
	}
	for _, q := range []string{`UPDATE uploads SET name = 'x.pdf'`, `DELETE FROM uploads`} {
		if err := db.Write(ctx, func(etx escrow.Tx) error {
			_, err := etx.(*tx).q.ExecContext(ctx, q)
			return err
		}); err == nil || !strings.Contains(err.Error(), "uploads are immutable") {
			t.Fatalf("%s: %v, want the trigger's refusal", q, err)
		}
	}
}
