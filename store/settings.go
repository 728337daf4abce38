package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/influencegen/influencegen/app"
)

// GetSetting reads one non-secret setting.
func (d *DB) GetSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := d.rdb.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, mapError("read setting "+key, err)
	}
	return v, true, nil
}

// SetSetting writes one non-secret setting. Secrets never come here: the
// keyring holds them (DESIGN §2).
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return app.Errorf(app.EINVALID, "setting name is empty")
	}
	now := fmtTime(d.now())
	return d.write(ctx, "save setting "+key, func(ctx context.Context, tx *sql.Tx) error {
		_, err := txExec(ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			key, value, now)
		return err
	})
}
