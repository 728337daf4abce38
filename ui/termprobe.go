package ui

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/kitty"
)

// kittyQueryID tags the kitty graphics query so its answer is recognised.
const kittyQueryID = 31

// probeTerminalCmd asks the terminal what it is and what it draws; the
// answers arrive as messages for handleTerminalReply, and a terminal that
// answers nothing keeps the environment's guess (detectGraphics):
//   - XTVERSION (Bubble Tea's RequestTerminalVersion): its name and version;
//   - a kitty graphics query for a 1×1 image: "OK" from kitty-protocol terminals;
//   - XTWINOPS 16 and 14: the cell and the window size in pixels;
//   - DA1: attribute 4 means sixel.
//
// Inside tmux the answers are tmux's own and APC is swallowed, so the kitty
// query is not sent there, nor when INFLUENCEGEN_GRAPHICS already chose or
// the terminal is the Linux console (a terminal without APC could print it).
func probeTerminalCmd(g graphicsEnv) tea.Cmd {
	var q strings.Builder
	if !g.tmux && !g.forced && !g.noAPC {
		o := kitty.Options{Action: kitty.Query, ID: kittyQueryID, Format: kitty.RGB, ImageWidth: 1, ImageHeight: 1}
		q.WriteString(ansi.KittyGraphics([]byte("AAAA"), o.Options()...))
	}
	q.WriteString(ansi.WindowOp(16))
	q.WriteString(ansi.WindowOp(14))
	q.WriteString(ansi.RequestPrimaryDeviceAttributes)
	return tea.Batch(tea.RequestTerminalVersion, tea.Raw(q.String()))
}

// handleTerminalReply folds one answer into what the dashboard knows about
// the terminal and, when that changes the picture's protocol or pixel
// size, renders the preview again.
func (m Model) handleTerminalReply(msg tea.Msg) (Model, tea.Cmd) {
	before := m.gfx
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.TerminalVersionMsg:
		m.gfx.version = msg.Name
	case uv.KittyGraphicsEvent:
		if msg.Options.ID == kittyQueryID {
			m.gfx.kittyOK = string(msg.Payload) == "OK"
		}
	case uv.PrimaryDeviceAttributesEvent:
		m.gfx.sixelOK = slices.Contains([]int(msg), 4)
	case uv.CellSizeEvent:
		if msg.Width > 0 && msg.Height > 0 {
			m.gfx.cellW, m.gfx.cellH = msg.Width, msg.Height
		}
	case uv.PixelSizeEvent:
		// Only a fallback for terminals that report the window but not
		// the cell; needs the window size in cells.
		if m.gfx.cellW == 0 && m.width > 0 && m.height > 0 && msg.Width > 0 && msg.Height > 0 {
			m.gfx.cellW, m.gfx.cellH = msg.Width/m.width, msg.Height/m.height
		}
	case tea.ColorProfileMsg:
		cmd = tmuxTrueColorCmd(m.b.Getenv, msg.Profile, m.noColor)
	}
	m.gfx.resolve()
	if m.noColor {
		m.gfx.proto = protoHalfBlocks
	}
	if m.gfx == before {
		return m, cmd
	}
	m.detail.inlineImages = m.gfx.proto != protoHalfBlocks
	var cmds []tea.Cmd
	if before.proto != m.gfx.proto && before.proto != protoHalfBlocks {
		// The old protocol's picture lives outside the cell grid.
		if before.proto == protoKitty {
			cmds = append(cmds, tea.Raw(placeImage(before, kittyDelete(), 0, 0)))
		}
		cmds = append(cmds, tea.ClearScreen)
	}
	return m, tea.Batch(append(cmds, cmd, m.previewCmd())...)
}

// tmuxTrueColorCmd raises the renderer's colour profile to true colour
// inside tmux when the outer terminal has it. Bubble Tea's detection
// (colorprofile) ignores COLORTERM under TERM=tmux-* and asks `tmux info`,
// which knows no terminal while no client is attached, so it settles on 256
// colours. tmux itself keeps 24-bit colours and lowers them for each client
// that lacks them, so sending true colour is safe whenever there is
// evidence for it: COLORTERM=truecolor|24bit (tmux hands its environment to
// the pane), a true-colour outer terminal, or tmux's own record of the
// attached client's features (RGB).
func tmuxTrueColorCmd(getenv func(string) string, p colorprofile.Profile, noColor bool) tea.Cmd {
	if getenv("TMUX") == "" || noColor || p >= colorprofile.TrueColor || p <= colorprofile.ASCII {
		return nil
	}
	trueColor := func() tea.Msg { return tea.ColorProfileMsg{Profile: colorprofile.TrueColor} }
	switch strings.ToLower(getenv("COLORTERM")) {
	case "truecolor", "24bit":
		return trueColor
	}
	if protocolFromEnv(getenv, true) != protoHalfBlocks {
		return trueColor // kitty, Ghostty, iTerm2, WezTerm, foot…: all true colour
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "tmux", "display-message", "-p", "#{client_termfeatures}").Output()
		if err != nil || !slices.Contains(strings.Split(strings.TrimSpace(string(out)), ","), "RGB") {
			return nil
		}
		return trueColor()
	}
}
