package ui

import (
	"slices"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

// kittyQueryID tags the kitty graphics query so its answer is recognised.
const kittyQueryID = 31

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
		cmds = append(cmds, wipeImageCmds(before)...)
	}
	return m, tea.Batch(append(cmds, cmd, m.previewCmd(), m.thumbCmds())...)
}
