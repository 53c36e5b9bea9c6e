package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PurgeCommands deletes up to limit command records made before before, oldest first, except
// those of keepScope whose key starts with keepPrefix. One statement: the inner SELECT picks the
// rows (on PostgreSQL locking them and passing over those a concurrent purger holds), the DELETE
// removes them; the commands_at index serves the scan.
func (db *DB) PurgeCommands(ctx context.Context, before time.Time, keepScope, keepPrefix string, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("purge commands: want a positive limit")
	}
	// LIKE's wildcards in the prefix are escaped, so it matches only itself.
	pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(keepPrefix) + "%"
	var n int64
	err := db.write(ctx, func(t *tx) error {
		res, err := t.q.ExecContext(ctx, `DELETE FROM commands WHERE (scope, key) IN (
			SELECT scope, key FROM commands WHERE at < $1 AND NOT (scope = $2 AND key LIKE $3 ESCAPE '\')
			ORDER BY at LIMIT $4`+db.d.skipLocked+`)`,
			micros(before), keepScope, pattern, limit)
		if err != nil {
			return fmt.Errorf("purge commands: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
