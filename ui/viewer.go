package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// The viewer: one picture as large as the body allows, with its prompt,
// seed, size and model under it; ←/→ walk the grid it was opened from.

// viewerCaptionLines is what the viewer keeps under the picture: the
// prompt (two lines at most) and one line of parameters.
const viewerCaptionLines = 3

// viewerBox is the picture's box for a w×h body: all of it but the title
// and the caption.
func viewerBox(w, h int) (cols, rows int) {
	return max(w, 4), max(h-1-viewerCaptionLines, 2)
}

// viewerView draws item i of g at full size.
func viewerView(s *styles, g galleryModel, thumb thumbLookup, inline bool) string {
	it, ok := g.selected()
	if !ok {
		return s.muted.Render("no image")
	}
	w, h := g.width, g.height
	cols, rows := viewerBox(w, h)
	title := s.title.Render("Image") + s.muted.Render(fmt.Sprintf(" %d of %d · %s", g.sel+1, len(g.items), shortID(it.req.ID)))
	var lines []string
	lines = append(lines, ansi.Truncate(title, w, "…"))
	r, ok := thumb(it.img.SHA256, cols, rows)
	var rp *previewRenderedMsg
	if ok {
		rp = &r
	}
	lines = append(lines, pictureLines(s, it, cols, rows, rp, inline)...)
	prompt := wrap(safe(it.req.Params.Prompt), w)
	if len(prompt) > viewerCaptionLines-1 {
		prompt = prompt[:viewerCaptionLines-1]
		prompt[len(prompt)-1] = ansi.Truncate(prompt[len(prompt)-1]+" …", w, "…")
	}
	for len(prompt) < viewerCaptionLines-1 {
		prompt = append(prompt, "")
	}
	lines = append(lines, prompt...)
	lines = append(lines, ansi.Truncate(paramLine(s, it), w, "…"))
	return strings.Join(lines, "\n")
}

// paramLine is "seed 7 · 1024×1024 · sdxl · 4f2a…" for the viewer.
func paramLine(s *styles, it galleryItem) string {
	sha := it.img.SHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return s.label.Render("seed ") + s.text.Render(fmt.Sprint(it.seed())) +
		s.muted.Render(" · ") + s.text.Render(fmt.Sprintf("%d×%d", it.img.Width, it.img.Height)) +
		s.muted.Render(" · ") + s.text.Render(safe(it.req.Params.Model)) +
		s.muted.Render(" · sha256 "+sha) + verdictText(s, it.img)
}

// verdictText is " · ★ · approved by alice" for the viewer.
func verdictText(s *styles, img app.Image) string {
	out := ""
	if img.Favorite {
		out += s.muted.Render(" · ") + s.warn.Render("★ favourite")
	}
	switch img.Approval {
	case app.ApprovalApproved:
		out += s.muted.Render(" · ") + s.ok.Render("✓ approved")
	case app.ApprovalRejected:
		out += s.muted.Render(" · ") + s.err.Render("✗ rejected")
	default:
		return out
	}
	if img.ApprovedBy != "" {
		out += s.muted.Render(" by " + safe(img.ApprovedBy))
	}
	return out
}

// pictureLines is a cols×rows block with the picture centred in it.
func pictureLines(s *styles, it galleryItem, cols, rows int, r *previewRenderedMsg, inline bool) []string {
	return thumbBody(s, it, gridLayout{thumbCols: cols, thumbRows: rows}, r, inline)
}

// viewerOrigin is where the viewer's picture starts in the body.
func viewerOrigin(w, h int, r previewRenderedMsg) (x, y int) {
	cols, rows := viewerBox(w, h)
	return (cols - r.cols) / 2, 1 + (rows-r.rows)/2
}
