package ui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestGridViewerAndBackRunInTheRealProgram drives the grid → viewer → grid
// flow through Bubble Tea's own loop: the thumbnails arrive from Cmds run
// by the program, not by the test.
func TestGridViewerAndBackRunInTheRealProgram(t *testing.T) {
	r := galleryRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tm := teatest.NewTestModel(t, New(ctx, r.b), teatest.WithInitialTermSize(120, 40))
	wait := func(what string, cond func([]byte) bool) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), cond, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	wait("the list", func(out []byte) bool { return bytes.Contains(out, []byte("Four foxes")) })
	tm.Send(tea.KeyPressMsg{Code: 'v', Text: "v"})
	wait("the grid with its seeds", func(out []byte) bool {
		return bytes.Contains(out, []byte("Gallery")) && bytes.Contains(out, []byte("seed 504"))
	})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyRight})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("the viewer on the second picture", func(out []byte) bool { return bytes.Contains(out, []byte("Image 2 of 5")) })
	// the renderer sends only what changed, so wait for the third
	// picture's sha256 (all of it differs) rather than "3 of 5"
	imgs, err := r.db.Images(ctx, testID(20))
	if err != nil {
		t.Fatal(err)
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyRight})
	wait("the viewer on the third picture", func(out []byte) bool { return bytes.Contains(out, []byte(imgs[2].SHA256[:12])) })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	wait("the grid again", func(out []byte) bool { return bytes.Contains(out, []byte("┏")) })
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if final.screen != screenGallery || final.cur.gallery.sel != 2 {
		t.Fatalf("final screen %d sel %d, want the grid with the third picture selected", final.screen, final.cur.gallery.sel)
	}
	l := final.cur.gallery.layout()
	for _, it := range final.cur.gallery.items {
		if _, ok := final.cur.thumbs.get(final.thumbKey(it.img.SHA256, l.thumbCols, l.thumbRows)); !ok {
			t.Fatalf("thumbnail %s never arrived", it.img.SHA256[:8])
		}
	}
}
