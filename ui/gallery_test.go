package ui

import (
	"context"
	"fmt"
	"image"
	"reflect"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

func TestVOpensTheGalleryOfRecentPicturesWithThumbnailsRenderedByCmds(t *testing.T) {
	r := galleryRig(t)
	m := r.model(t, 80, 24)
	next, cmd := m.Update(keyMsg("v"))
	m = next.(Model)
	if m.screen != screenGallery {
		t.Fatalf("screen = %d after v, want the gallery", m.screen)
	}
	if got := msgTypes(runCmd(t, cmd)); len(got) != 1 || got[0] != "ui.galleryLoadedMsg" {
		t.Fatalf("v's Cmd produced %v, want one galleryLoadedMsg (the read happens in a Cmd)", got)
	}
	m = settle(t, m, cmd)
	if n := len(m.cur.gallery.items); n != 5 {
		t.Fatalf("gallery holds %d pictures, want 5 (four of the batch, one of the fox)", n)
	}
	if first := m.cur.gallery.items[0]; first.seed() != 501 || first.req.ID != testID(20) {
		t.Fatalf("first picture = seed %d of %s, want the newest request's seed 501", first.seed(), first.req.ID)
	}
	l := m.cur.gallery.layout()
	for _, it := range m.cur.gallery.items {
		if _, ok := m.cur.thumbs.get(m.thumbKey(it.img.SHA256, l.thumbCols, l.thumbRows)); !ok {
			t.Fatalf("thumbnail of %s was not rendered into the cache", it.img.SHA256[:8])
		}
	}
	screen := screenText(m)
	for _, want := range []string{"Gallery", "5 images", "seed 501", "seed 504", "seed 7", "▀", "┏"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("gallery screen lacks %q:\n%s", want, screen)
		}
	}
}

func TestArrowsMoveTheOutlineAndEnterOpensTheViewerWhoseArrowsWalkTheGallery(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 80, 24), "v")
	cols := m.cur.gallery.layout().cols
	m = press(t, m, "right")
	if m.cur.gallery.sel != 1 {
		t.Fatalf("→ selected %d, want 1", m.cur.gallery.sel)
	}
	m = press(t, m, "down")
	if want := min(1+cols, 4); m.cur.gallery.sel != want {
		t.Fatalf("↓ selected %d, want %d (%d columns)", m.cur.gallery.sel, want, cols)
	}
	m = press(t, m, "left", "left", "left", "left", "left", "left", "up", "up")
	if m.cur.gallery.sel != 0 {
		t.Fatalf("moving past the start selected %d, want it clamped at 0", m.cur.gallery.sel)
	}
	m = press(t, m, "enter")
	if m.screen != screenViewer {
		t.Fatalf("enter: screen %d, want the viewer", m.screen)
	}
	screen := screenText(m)
	for _, want := range []string{"Image 1 of 5", "Four foxes in a row", "seed 501", "64×64", "flux-dev"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("viewer lacks %q:\n%s", want, screen)
		}
	}
	if m.cur.vkeys.Prev.Enabled() {
		t.Fatal("← is offered on the first picture, where it does nothing")
	}
	m = press(t, m, "right", "right")
	if !strings.Contains(screenText(m), "Image 3 of 5") || !strings.Contains(screenText(m), "seed 503") {
		t.Fatalf("→ → did not reach the third picture:\n%s", screenText(m))
	}
	m = press(t, m, "esc")
	if m.screen != screenGallery || m.cur.gallery.sel != 2 {
		t.Fatalf("esc: screen %d sel %d, want the grid with the third picture selected", m.screen, m.cur.gallery.sel)
	}
	m = press(t, m, "esc")
	if m.screen != screenMain {
		t.Fatalf("esc from the grid: screen %d, want the list", m.screen)
	}
}

func TestVInTheDetailOfARequestWithSeveralPicturesShowsItsGrid(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 80, 24), "enter")
	if !m.detailKeys.Grid.Enabled() {
		t.Fatal("the detail of a request with four pictures does not offer v")
	}
	m = press(t, m, "v")
	if m.screen != screenGallery || m.cur.gallery.requestID != testID(20) {
		t.Fatalf("v in the detail: screen %d scope %q, want the grid of %s", m.screen, m.cur.gallery.requestID, testID(20))
	}
	if n := len(m.cur.gallery.items); n != 4 {
		t.Fatalf("the request's grid holds %d pictures, want its 4", n)
	}
	if !strings.Contains(screenText(m), "Request "+shortID(testID(20))) {
		t.Fatalf("the grid does not name its request:\n%s", screenText(m))
	}
	m = press(t, m, "esc")
	if m.screen != screenDetail {
		t.Fatalf("esc from the request's grid: screen %d, want its detail back", m.screen)
	}
}

func TestSpaceMarksTwoPicturesAndCComparesThemWithTheirDifferencesHighlighted(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 160, 48), "v")
	if m.cur.keys.Compare.Enabled() {
		t.Fatal("c is offered with nothing marked")
	}
	m = press(t, m, "space", "c")
	if m.screen != screenGallery {
		t.Fatal("c with one marked picture left the grid")
	}
	if !strings.Contains(screenText(m), "◆ seed 501") || !strings.Contains(screenText(m), "1 marked") {
		t.Fatalf("the marked picture is not shown as marked:\n%s", screenText(m))
	}
	m = press(t, m, "G", "space")
	if !m.cur.keys.Compare.Enabled() || !strings.Contains(screenText(m), "c compare") {
		t.Fatalf("two marked pictures: c is not offered in the footer:\n%s", screenText(m))
	}
	m = press(t, m, "c")
	if m.screen != screenCompare {
		t.Fatalf("c: screen %d, want compare", m.screen)
	}
	screen := screenText(m)
	for _, want := range []string{"differs in prompt, model, size, seed, request", "≠Seed", "501", "7", "≠Model", " Negative"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("compare lacks %q:\n%s", want, screen)
		}
	}
	a, b, _ := m.cur.gallery.comparePair()
	cols, rows := compareBox(m.cur.gallery.width, m.cur.gallery.height)
	for _, it := range []galleryItem{a, b} {
		rend, ok := m.cur.thumbs.get(m.thumbKey(it.img.SHA256, cols, rows))
		if !ok || rend.err != nil {
			t.Fatalf("compare picture %s not rendered: %v", it.img.SHA256[:8], rend.err)
		}
		if rend.cols*2 < cols {
			t.Fatalf("compare picture is %d columns in a %d-column half: not the largest that fits", rend.cols, cols)
		}
	}
	m = press(t, m, "esc")
	if m.screen != screenGallery {
		t.Fatalf("esc from compare: screen %d, want the grid", m.screen)
	}
}

func TestCompareShowsTheSameParametersPlainly(t *testing.T) {
	it := galleryItem{}
	it.req.Params = params("same", "sdxl", 3)
	if d := differing(it, it); len(d) != 0 {
		t.Fatalf("identical pictures differ in %v", d)
	}
}

func TestOOpensThePictureInTheSystemViewerOrSaysWhereTheFileIs(t *testing.T) {
	t.Run("with a display, the viewer is started by a Cmd", func(t *testing.T) {
		r := galleryRig(t)
		var mu sync.Mutex
		var opened []string
		r.b.OpenImage = func(_ context.Context, path string) error {
			mu.Lock()
			defer mu.Unlock()
			opened = append(opened, path)
			return nil
		}
		m := press(t, r.model(t, 80, 24), "v")
		next, cmd := m.Update(keyMsg("o"))
		mu.Lock()
		if len(opened) != 0 {
			t.Fatal("o opened the viewer inside Update")
		}
		mu.Unlock()
		m = settle(t, next.(Model), cmd)
		want := m.cur.gallery.items[0].img.Path
		if len(opened) != 1 || opened[0] != want {
			t.Fatalf("opened %v, want %s", opened, want)
		}
		if !strings.Contains(m.flash, "opened "+want) {
			t.Fatalf("flash = %q", m.flash)
		}
	})
	for _, tc := range []struct {
		name   string
		env    map[string]string
		reason string
	}{
		{"over SSH there is no viewer to open", map[string]string{"DISPLAY": ":0", "SSH_CONNECTION": "203.0.113.4 5555 10.0.0.2 22"}, "SSH session"},
		{"a server without a display has none either", map[string]string{}, "no graphical display"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := galleryRig(t)
			r.b.Getenv = func(k string) string { return tc.env[k] }
			r.b.OpenImage = func(context.Context, string) error {
				t.Error("the system viewer was started where there is none")
				return nil
			}
			m := press(t, r.model(t, 80, 24), "v", "enter", "o")
			want := m.cur.gallery.items[0].img.Path
			if !strings.Contains(m.flash, tc.reason) || !strings.Contains(m.flash, want) {
				t.Fatalf("flash = %q, want the reason %q and the path %s", m.flash, tc.reason, want)
			}
		})
	}
	t.Run("a viewer that fails to start names the file", func(t *testing.T) {
		r := galleryRig(t)
		r.b.OpenImage = func(context.Context, string) error {
			return app.Errorf(app.EUNAVAILABLE, "cannot start the image viewer (xdg-open): exec: not found")
		}
		m := press(t, r.model(t, 80, 24), "v", "o")
		if !m.flashErr || !strings.Contains(m.flash, "xdg-open") || !strings.Contains(m.flash, m.cur.gallery.items[0].img.Path) {
			t.Fatalf("flash = %q (err %v)", m.flash, m.flashErr)
		}
	})
}

func TestOutsideTextInTheGridAndViewerCannotDriveTheTerminal(t *testing.T) {
	r := galleryRig(t)
	seedBatchRequest(t, r.db, testID(30), "evil \x1b]52;c;cHduZWQ=\x07 prompt \x1b[2J", 1, 2, 32, 32, 50)
	m := press(t, r.model(t, 160, 48), "v", "space", "right", "space", "c")
	for _, sc := range []string{"compare", "viewer"} {
		out := m.View().Content
		if strings.Contains(out, "\x1b]52") || strings.Contains(out, "\x1b[2J") {
			t.Fatalf("%s drew the prompt's escape sequences raw", sc)
		}
		m = press(t, m, "esc", "enter")
	}
}

func TestThumbnailCacheStaysWithin64MBAndEvictsTheLeastRecentlyUsed(t *testing.T) {
	r := galleryRig(t)
	m := r.model(t, 80, 24)
	c := m.cur.thumbs
	if c.budget != 64<<20 {
		t.Fatalf("thumbnail cache budget = %d, want 64 MiB", c.budget)
	}
	// 400 pictures of 256×256 RGBA (256 KiB each) is 100 MiB: more than
	// the budget, so the oldest must go.
	const n, side = 400, 256
	loads := 0
	load := func() (image.Image, error) { loads++; return image.NewRGBA(image.Rect(0, 0, 512, 512)), nil }
	var peak int64
	for i := range n {
		if _, err := c.scaled(t.Context(), fmt.Sprintf("sha-%03d", i), side, side, load); err != nil {
			t.Fatal(err)
		}
		if i == 10 { // keep one old picture in use: it must survive
			if _, ok := c.lookup(scaledKey{sha: "sha-000", w: side, h: side}); !ok {
				t.Fatal("sha-000 gone while the cache was still small")
			}
		}
		if i%50 == 0 {
			_, _ = c.scaled(t.Context(), "sha-000", side, side, load)
		}
		peak = max(peak, c.usedBytes())
	}
	if peak > 64<<20 {
		t.Fatalf("the cache held %d bytes, over its 64 MiB budget", peak)
	}
	if used := c.usedBytes(); used < 60<<20 {
		t.Fatalf("the cache holds only %d bytes after 100 MiB went in: it evicts too eagerly", used)
	}
	if _, ok := c.lookup(scaledKey{sha: "sha-001", w: side, h: side}); ok {
		t.Fatal("the least recently used picture is still cached")
	}
	for _, keep := range []string{"sha-000", fmt.Sprintf("sha-%03d", n-1)} {
		if _, ok := c.lookup(scaledKey{sha: keep, w: side, h: side}); !ok {
			t.Fatalf("%s (recently used) was evicted", keep)
		}
	}
	if loads != n {
		t.Fatalf("%d decodes for %d pictures: a cached one was decoded again", loads, n)
	}
}

func TestGalleryKeysAreDisabledWhenThereIsNothingToShow(t *testing.T) {
	r := newRig(t, false)
	m := press(t, r.model(t, 80, 24), "v")
	if !strings.Contains(screenText(m), "No images yet") {
		t.Fatalf("empty gallery:\n%s", screenText(m))
	}
	for name, b := range map[string]bool{"enter": m.cur.keys.View.Enabled(), "space": m.cur.keys.Mark.Enabled(), "o": m.cur.keys.Open.Enabled(), "c": m.cur.keys.Compare.Enabled()} {
		if b {
			t.Fatalf("%s is offered in an empty gallery", name)
		}
	}
	m = press(t, m, "enter")
	if m.screen != screenGallery {
		t.Fatal("enter in an empty gallery opened the viewer")
	}
}

func TestTerminalGraphicsPicturesArePlacedAndWipedWhenTheGridMoves(t *testing.T) {
	r := galleryRig(t)
	env := map[string]string{"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1", "DISPLAY": ":0"}
	r.b.Getenv = func(k string) string { return env[k] }
	m := r.model(t, 80, 24)
	if m.gfx.proto != protoKitty {
		t.Fatalf("protocol %v, want kitty", m.gfx.proto)
	}
	next, cmd := m.Update(keyMsg("v"))
	m = next.(Model)
	var raw []string
	for round := 0; cmd != nil && round < 6; round++ {
		var cmds []tea.Cmd
		for _, msg := range runCmd(t, cmd) {
			if rm, ok := msg.(tea.RawMsg); ok {
				raw = append(raw, fmt.Sprint(rm.Msg))
				continue
			}
			n, c := m.Update(msg)
			m = n.(Model)
			cmds = append(cmds, c)
		}
		cmd = tea.Batch(cmds...)
	}
	ids := map[string]bool{}
	for _, s := range raw {
		if i := strings.Index(s, "i="); i >= 0 && strings.Contains(s, "a=T") {
			ids[s[i:i+8]] = true
		}
	}
	if len(ids) < 4 {
		t.Fatalf("placed %d kitty pictures with distinct ids, want one per visible thumbnail (%d raw writes)", len(ids), len(raw))
	}
	if strings.Contains(screenText(m), "▀") {
		t.Fatal("kitty mode drew half-blocks under the pictures")
	}
	_, cmd = m.Update(keyMsg("enter"))
	found := false
	for _, msg := range runSequence(t, cmd) {
		if rm, ok := msg.(tea.RawMsg); ok && strings.Contains(fmt.Sprint(rm.Msg), "d=A") {
			found = true
		}
	}
	if !found {
		t.Fatal("opening the viewer did not delete the grid's kitty pictures")
	}
}

// runSequence is runCmd that also opens tea.Sequence's (unexported) list
// of Cmds, in order.
func runSequence(t *testing.T, cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	for _, msg := range runCmd(t, cmd) {
		v := reflect.ValueOf(msg)
		if v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := range v.Len() {
				out = append(out, runSequence(t, v.Index(i).Interface().(tea.Cmd))...)
			}
			continue
		}
		out = append(out, msg)
	}
	return out
}

func TestAResizedGridAsksForThumbnailsOfTheNewSize(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 80, 24), "v")
	m = step(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	l := m.cur.gallery.layout()
	for _, it := range m.cur.gallery.items {
		if _, ok := m.cur.thumbs.get(m.thumbKey(it.img.SHA256, l.thumbCols, l.thumbRows)); !ok {
			t.Fatalf("after the resize the %d×%d thumbnail of %s was never asked for", l.thumbCols, l.thumbRows, it.img.SHA256[:8])
		}
	}
	if !strings.Contains(screenText(m), "seed 504") {
		t.Fatalf("resized grid:\n%s", screenText(m))
	}
}

func TestWithNoColorTheGridNamesEachPictureAndDecodesNothing(t *testing.T) {
	r := galleryRig(t)
	env := map[string]string{"TERM": "xterm-256color", "NO_COLOR": "1", "DISPLAY": ":0"}
	r.b.Getenv = func(k string) string { return env[k] }
	m := press(t, r.model(t, 80, 24), "v")
	if !strings.Contains(screenText(m), "[64x64]") || !strings.Contains(screenText(m), "[64x48]") {
		t.Fatalf("NO_COLOR grid does not name the pictures' sizes:\n%s", screenText(m))
	}
	if used := m.cur.thumbs.usedBytes(); used != 0 {
		t.Fatalf("NO_COLOR grid rendered %d bytes of thumbnails it never shows", used)
	}
	if !strings.Contains(screenText(m), "┏") {
		t.Fatal("the selected tile has no thick outline without colour")
	}
}
