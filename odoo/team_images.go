package odoo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// ReasonOdooImageMismatch: an attachment's bytes do not hash to the
// sha256 Odoo stores for the image (changed or truncated in Odoo).
const ReasonOdooImageMismatch = "odoo_image_mismatch"

// CachedImageFiles is the content-addressed image folder
// (store.ImageFiles): Save, and Dir to find a file already kept.
type CachedImageFiles interface {
	app.ImageFiles
	Dir() string
}

// TeamImages returns the images Odoo holds for a team request (its Odoo
// record id), for the team view: on demand, each from its attachment's
// datas, verified against the image's stored sha256 and kept in the
// content-addressed image folder, where a second look finds it without
// downloading it again.
func (e *ERP) TeamImages(ctx context.Context, files CachedImageFiles, odooRequestID int64) ([]app.StoredFile, error) {
	var rows []Record
	err := SearchRead(ctx, e.client, e.odoo.ImageModel, []any{[]any{"request_id", "=", odooRequestID}},
		[]string{"sha256", "attachment_id", "sequence", "mimetype", "width", "height", "file_size"}, 0, &rows)
	if err != nil {
		return nil, err
	}
	out := make([]app.StoredFile, 0, len(rows))
	for _, r := range rows {
		sum := strings.ToLower(r.String("sha256"))
		if len(sum) != 64 {
			return nil, app.ReasonErrorf(app.EINVALID, ReasonOdooImageMismatch, "Odoo image %d has no valid sha256", r.ID())
		}
		if path := cached(files.Dir(), sum); path != "" {
			out = append(out, app.StoredFile{Path: path, SHA256: sum, MimeType: r.String("mimetype"),
				Width: int(asInt(r["width"])), Height: int(asInt(r["height"])), Bytes: asInt(r["file_size"])})
			continue
		}
		att := r.Many2oneID("attachment_id")
		if att == 0 {
			return nil, app.ReasonErrorf(app.ENOTFOUND, app.ReasonOdooRecordGone, "Odoo image %d has no attachment", r.ID())
		}
		var data []Record
		if err := e.client.Call(ctx, "ir.attachment", "read", []int64{att}, []Arg{Pos("fields", []string{"datas"})}, &data); err != nil {
			return nil, err
		}
		if len(data) != 1 {
			return nil, app.ReasonErrorf(app.ENOTFOUND, app.ReasonOdooRecordGone, "Odoo attachment %d is gone", att)
		}
		raw, err := base64.StdEncoding.DecodeString(data[0].String("datas"))
		if err != nil {
			return nil, app.ReasonErrorf(app.EINVALID, ReasonOdooImageMismatch, "Odoo attachment %d: datas is not base64", att)
		}
		got := sha256.Sum256(raw)
		if hex.EncodeToString(got[:]) != sum {
			return nil, app.ReasonErrorf(app.EINVALID, ReasonOdooImageMismatch,
				"Odoo attachment %d does not match its image's sha256 %s (changed in Odoo?); not kept", att, sum[:12])
		}
		sf, err := files.Save(ctx, bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("keep Odoo image %s: %w", sum[:12], err)
		}
		out = append(out, sf)
	}
	return out, nil
}

// cached is the path of the kept file with that sha256, or "".
func cached(dir, sum string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, sum[:2], sum+".*"))
	for _, m := range matches {
		if !strings.HasSuffix(m, ".tmp") {
			return m
		}
	}
	return ""
}
