package export

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	// Decoders of what n8n workflows send.
	_ "image/gif"
	_ "image/jpeg"

	_ "golang.org/x/image/webp"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/influencegen/influencegen/app"
)

// Contact sheet layout: square thumbnails with two caption lines under
// each. At most SheetMax pictures keep the sheet (and its memory: about
// 8×192 × 15×226 pixels, 21 MB while drawing) bounded; the rest are in the
// manifest.
const (
	thumbSide  = 192
	captionH   = 34
	sheetPad   = 8
	maxColumns = 8
	SheetMax   = 120
)

// writeContactSheet draws files (already copied into dir) as a grid with
// their file name and seed · approval under each, one picture decoded at
// a time.
func writeContactSheet(ctx context.Context, dir, path string, files []File) error {
	if len(files) > SheetMax {
		files = files[:SheetMax]
	}
	cols := min(maxColumns, int(math.Ceil(math.Sqrt(float64(len(files))))))
	rows := (len(files) + cols - 1) / cols
	cellW, cellH := thumbSide+sheetPad, thumbSide+captionH+sheetPad
	sheet := image.NewRGBA(image.Rect(0, 0, cols*cellW+sheetPad, rows*cellH+sheetPad))
	draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		x := sheetPad + (i%cols)*cellW
		y := sheetPad + (i/cols)*cellH
		cell := image.Rect(x, y, x+thumbSide, y+thumbSide)
		draw.Draw(sheet, cell, image.NewUniform(color.Gray{Y: 235}), image.Point{}, draw.Src)
		if img, err := decode(filepath.Join(dir, f.File)); err == nil {
			draw.ApproxBiLinear.Scale(sheet, fit(img.Bounds(), cell), img, img.Bounds(), draw.Over, nil)
		} else {
			caption(sheet, x+4, y+thumbSide/2, "cannot decode", thumbSide-8)
		}
		caption(sheet, x, y+thumbSide+13, f.File, thumbSide)
		caption(sheet, x, y+thumbSide+27, fmt.Sprintf("seed %d · %s%s", f.Seed, f.Approval, star(f.Favorite)), thumbSide)
	}
	out, err := os.CreateTemp(dir, ".export-*")
	if err != nil {
		return app.Errorf(app.EINVALID, "cannot write the contact sheet: %v", err)
	}
	defer os.Remove(out.Name())
	if err := png.Encode(out, sheet); err != nil {
		out.Close()
		return app.Errorf(app.EINTERNAL, "encoding the contact sheet: %v", err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), path)
}

func star(on bool) string {
	if on {
		return " · fav"
	}
	return ""
}

func decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// fit centres src's aspect ratio inside cell.
func fit(src, cell image.Rectangle) image.Rectangle {
	sw, sh := src.Dx(), src.Dy()
	if sw == 0 || sh == 0 {
		return cell
	}
	w, h := cell.Dx(), cell.Dy()
	if sw*h > sh*w {
		h = max(1, sh*w/sw)
	} else {
		w = max(1, sw*h/sh)
	}
	x := cell.Min.X + (cell.Dx()-w)/2
	y := cell.Min.Y + (cell.Dy()-h)/2
	return image.Rect(x, y, x+w, y+h)
}

// caption draws text (ASCII in basicfont; other runes show as '?') at
// baseline y, clipped to width with an ellipsis.
func caption(dst *image.RGBA, x, y int, text string, width int) {
	face := basicfont.Face7x13
	maxRunes := width / face.Advance
	r := []rune(app.TerminalSafe(text))
	if len(r) > maxRunes {
		r = append(r[:maxRunes-1], '~')
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.Gray{Y: 40}), Face: face,
		Dot: fixed.P(x, y)}
	d.DrawString(string(r))
}
