package ui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// confirmModel is the one confirmation every destructive action goes
// through: cancelling or deleting a request, rotating the callback token,
// replacing a secret. It is a mode that owns the keyboard, and it is
// answered by typing a word and pressing enter, so letters typed ahead for
// another screen can never say yes.
type confirmModel struct {
	action   string // actionCancel, actionDelete, actionRotate, actionSetSecret
	target   string // the request id or the secret name
	question string // what will happen, in full
	word     string // what must be typed to go ahead
	input    textinput.Model
	wrong    bool // enter was pressed with something else typed
	keys     confirmKeys
}

type confirmKeys struct{ Confirm, Keep key.Binding }

func newConfirmKeys() confirmKeys {
	return confirmKeys{
		Confirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go ahead")),
		Keep:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "keep")),
	}
}

func (k confirmKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Confirm} }
func (k confirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Confirm, k.Keep}} }

func newConfirm(action, target, question, word string, s *styles) (*confirmModel, tea.Cmd) {
	in := textinput.New()
	in.Prompt = "› "
	in.CharLimit = 64
	in.SetStyles(s.textinput)
	in.SetWidth(max(len(word)+2, 16))
	c := &confirmModel{action: action, target: target, question: question, word: word, input: in, keys: newConfirmKeys()}
	return c, c.input.Focus()
}

// answered reports whether the word was typed exactly.
func (c confirmModel) answered() bool { return strings.TrimSpace(c.input.Value()) == c.word }

// Update edits the typed word; enter and esc are the root's to handle.
func (c confirmModel) Update(msg tea.Msg) (confirmModel, tea.Cmd) {
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(msg)
	c.wrong = false
	return c, cmd
}

// View is the box drawn over the bottom of the body.
func (c confirmModel) View(s *styles, width int) string {
	w := min(width, 78)
	inner := w - 4
	var lines []string
	for _, l := range wrap(c.question, inner) {
		lines = append(lines, s.warn.Render(l))
	}
	lines = append(lines, "", s.text.Render("Type ")+s.bold.Render(c.word)+s.text.Render(" and press enter to go ahead; esc keeps everything as it is."))
	lines = append(lines, c.input.View())
	if c.wrong {
		lines = append(lines, s.err.Render("that is not “"+c.word+"”: nothing was done"))
	}
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Width(w)
	if !s.noColor {
		box = box.BorderForeground(s.warn.GetForeground())
	}
	return box.Render(strings.Join(lines, "\n"))
}

// overlayBottom draws box over the last lines of body (h lines of width w).
func overlayBottom(body, box string, w, h int) string {
	lines := strings.Split(body, "\n")
	boxLines := strings.Split(box, "\n")
	start := max(len(lines)-len(boxLines), 0)
	for i, b := range boxLines {
		if start+i < len(lines) {
			lines[start+i] = padRight(truncate(b, w), w)
		}
	}
	return fitLines(strings.Join(lines, "\n"), w, h)
}

// flashFor is how long a status line stays.
const flashFor = 8 * time.Second

// messageBox shows a message too long for the footer, whole; any key
// closes it (and does nothing else).
func messageBox(s *styles, msg string, isErr bool, width int) string {
	w := min(width, 78)
	st := s.flash
	if isErr {
		st = s.flashErr
	}
	var lines []string
	for _, l := range wrap(safe(msg), w-4) {
		lines = append(lines, st.Render(l))
	}
	lines = append(lines, "", s.muted.Render("any key closes this"))
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Width(w)
	if !s.noColor {
		box = box.BorderForeground(st.GetForeground())
	}
	return box.Render(strings.Join(lines, "\n"))
}
