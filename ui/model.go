package ui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/influencegen/influencegen/app"
)

// screen is what fills the body.
type screen int

const (
	screenMain     screen = iota // list, plus the detail pane when wide
	screenDetail                 // the detail full screen (narrow terminals)
	screenComposer               // new request
	screenAdmin                  // secrets, token, listener, Odoo
	screenActivity               // the event log
	screenHelp                   // every key binding and what states mean
)

// focus is which pane of the main screen receives keys.
type focus int

const (
	focusList focus = iota
	focusDetail
)

const (
	minWidth    = 60
	minHeight   = 15
	wideWidth   = 120 // from here the detail sits beside the list
	footerLines = 2
)

// confirmation is a pending destructive action waiting for y/n.
type confirmation struct {
	action string
	id     string
	prompt string
}

// Model is the root of the dashboard. It owns the screen and focus, the
// size, the styles and the keymaps; children only render and edit their
// own state.
type Model struct {
	ctx context.Context
	b   Backend
	sub *app.Subscription

	width, height int
	screen        screen
	back          screen // where esc returns from help
	helpScroll    int
	focus         focus
	styles        styles
	noColor       bool
	gfx           graphicsEnv
	help          help.Model
	globalKeys    globalKeys
	listKeys      listKeys
	confirmKeys   confirmKeys

	header   headerModel
	list     listModel
	detail   detailModel
	composer composerModel
	admin    adminModel
	activity activityModel

	confirm     *confirmation
	flash       string
	flashErr    bool
	dataVersion int64
	headerDirty bool
	spinning    bool
	previews    *previewCache
	noTicks     bool // tests drive time themselves
}

// New builds the dashboard. The bus subscription lives until ctx ends, so
// cancel ctx when the program returns.
func New(ctx context.Context, b Backend) Model {
	b.fillDefaults()
	ctx = withLog(ctx, b.Log)
	if b.User.Name != "" {
		ctx = app.WithActor(ctx, b.User) // team host: every Cmd acts as this member
	}
	noColor := b.Getenv("NO_COLOR") != ""
	g := newGlobalKeys()
	m := Model{
		ctx:         ctx,
		b:           b,
		styles:      newStyles(true, noColor),
		noColor:     noColor,
		gfx:         detectGraphics(b.Getenv),
		help:        help.New(),
		globalKeys:  g,
		listKeys:    newListKeys(g),
		confirmKeys: newConfirmKeys(),
		header:      headerModel{profile: b.Profile, demo: b.Demo, memory: b.SecretsInMemory},
		list:        newListModel(ctx, b.Store, b.Clock, newListKeys(g)),
		composer:    newComposer(b.Config, newComposerKeys()),
		admin:       newAdmin(newAdminKeys(), b.Config),
		activity:    activityModel{keys: newActivityKeys()},
		previews:    newPreviewCache(32),
	}
	if noColor {
		m.gfx.proto = protoHalfBlocks
	}
	if b.User.Name != "" {
		m.list.me = b.User.Name
		m.list.keys.Mine.SetEnabled(true)
		m.listKeys.Mine.SetEnabled(true)
	}
	m.help.Styles = m.styles.help
	m.detail.inlineImages = m.gfx.proto != protoHalfBlocks
	m.detail.odooOff = !b.Config.OdooEnabled()
	m.list.odooOff = m.detail.odooOff
	if b.Bus != nil {
		m.sub = b.Bus.Subscribe(ctx, 256)
	}
	// The first page is requested by Init with this sequence number.
	m.list.seq, m.list.loading = 1, true
	return m
}

// Init asks for the background colour (to pick light or dark styles), the
// first page, the header, and starts the live-update loops.
func (m Model) Init() tea.Cmd {
	return tea.Batch(
		tea.RequestBackgroundColor,
		loadPageCmd(m.ctx, m.b.Store, 1, loadTop, m.list.query()),
		loadHeaderCmd(m.ctx, m.b),
		checkDataVersionCmd(m.ctx, m.b.Store),
		waitForEventCmd(m.sub),
	)
}

// Update dispatches each message to one handler, then wipes a terminal
// graphics picture the new state no longer shows.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.dispatch(msg)
	if clear := m.clearStaleImage(next); clear != nil {
		return next, tea.Batch(clear, cmd)
	}
	return next, cmd
}

func (m Model) dispatch(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m.handleResize(msg)
	case tea.BackgroundColorMsg:
		return m.handleBackground(msg)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		return m.handlePaste(msg)
	case tea.MouseClickMsg:
		return m.handleClick(msg)
	case tea.MouseWheelMsg:
		return m.handleWheel(msg)
	case pageLoadedMsg:
		return m.handlePageLoaded(msg)
	case requestReloadedMsg:
		return m.handleRequestReloaded(msg)
	case detailLoadedMsg:
		return m.handleDetailLoaded(msg)
	case previewRenderedMsg:
		return m.handlePreviewRendered(msg)
	case headerLoadedMsg:
		return m.handleHeaderLoaded(msg)
	case busEventMsg:
		return m.handleBusEvent(msg)
	case pollTickedMsg:
		return m.handlePollTicked()
	case dataVersionCheckedMsg:
		return m.handleDataVersion(msg)
	case spinnerTickedMsg:
		return m.handleSpinnerTicked()
	case submittedMsg:
		return m.handleSubmitted(msg)
	case actionDoneMsg:
		return m.handleActionDone(msg)
	case historyLoadedMsg:
		return m.handleHistoryLoaded(msg)
	case secretsLoadedMsg:
		return m.handleSecretsLoaded(msg)
	case secretSetMsg:
		return m.handleSecretSet(msg)
	case tokenRotatedMsg:
		return m.handleTokenRotated(msg)
	case erpCheckedMsg:
		return m.handleERPChecked(msg)
	case activityLoadedMsg:
		return m.handleActivityLoaded(msg)
	case imageOpenedMsg:
		return m.handleImageOpened(msg)
	case remixLoadedMsg:
		return m.handleRemixLoaded(msg)
	}
	return m, nil
}

// View renders the whole screen from cached state only: every number it
// shows was loaded by a Cmd beforehand.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "InfluenceGen · " + m.b.Profile
	if m.b.Demo {
		v.WindowTitle += " (demo)"
	}
	return v
}

func (m Model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		msg := m.styles.warn.Render("Terminal too small") + "\n" +
			m.styles.muted.Render("InfluenceGen needs at least 60×15;") + "\n" +
			m.styles.muted.Render("this one is "+itoa(m.width)+"×"+itoa(m.height)+". Enlarge it, or press q to quit.")
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
	}
	body := m.bodyView()
	return m.header.View(m.styles) + "\n" + body + "\n" + m.footerView()
}

func (m Model) bodyHeight() int { return m.height - headerHeight - footerLines }

func (m Model) wide() bool { return m.width >= wideWidth }

// listWidth is the list's share of a wide screen.
func (m Model) listWidth() int {
	if !m.wide() {
		return m.width
	}
	return m.width * 11 / 20
}

func (m Model) bodyView() string {
	h := m.bodyHeight()
	var out string
	switch m.screen {
	case screenComposer:
		out = m.composer.View(m.styles)
	case screenAdmin:
		out = m.admin.View(m.styles)
	case screenActivity:
		out = m.activity.View(m.styles)
	case screenHelp:
		out = m.helpView()
	case screenDetail:
		out = m.detail.View(m.styles, m.b.Clock.Now())
	default:
		list := m.list.View(m.styles, m.focus == focusList)
		if !m.wide() {
			out = list
			break
		}
		return m.splitView(list, h)
	}
	return fitLines(out, m.width, h)
}

// splitView puts the list and the bordered detail side by side. It joins
// lines by hand: lipgloss would re-measure and re-wrap the picture's
// thousands of escape sequences on every frame.
func (m Model) splitView(list string, h int) string {
	pane := m.styles.pane
	if m.focus == focusDetail {
		pane = m.styles.paneFocus
	}
	border := pane.GetBorderStyle()
	edge := lipgloss.NewStyle().Foreground(pane.GetBorderTopForeground())
	if m.noColor {
		edge = lipgloss.NewStyle()
	}
	paneW := m.width - m.listWidth()
	inner := paneW - 2
	side := edge.Render(border.Left)
	sideR := edge.Render(border.Right)
	listLines := strings.SplitN(list, "\n", h+1)
	detail := m.detail.lines(m.styles, m.b.Clock.Now(), inner, h-2)
	var b strings.Builder
	b.Grow(len(list) + h*(inner+16))
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		l := ""
		if i < len(listLines) {
			l = listLines[i]
		}
		b.WriteString(l) // exactly listW-1 cells: the list pads its own lines
		b.WriteByte(' ')
		switch i {
		case 0:
			b.WriteString(edge.Render(border.TopLeft + strings.Repeat(border.Top, inner) + border.TopRight))
		case h - 1:
			b.WriteString(edge.Render(border.BottomLeft + strings.Repeat(border.Bottom, inner) + border.BottomRight))
		default:
			b.WriteString(side)
			b.WriteString(detail[i-1])
			b.WriteString(sideR)
		}
	}
	return b.String()
}

func (m Model) footerView() string {
	s := m.styles
	status := ""
	switch {
	case m.confirm != nil:
		status = s.warn.Render(m.confirm.prompt) + "  " + m.help.ShortHelpView(m.confirmKeys.ShortHelp())
	case m.flash != "" && m.flashErr:
		status = s.flashErr.Render(m.flash)
	case m.flash != "":
		status = s.flash.Render(m.flash)
	}
	var keys help.KeyMap = m.listKeys
	switch m.screen {
	case screenComposer:
		keys = m.composer.keys
	case screenAdmin:
		keys = m.admin.keys
	case screenActivity:
		keys = m.activity.keys
	}
	return fitLines(status+"\n"+m.help.View(keys), m.width, footerLines)
}

func (m Model) helpView() string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.title.Render("Keys") + s.muted.Render("  (j/k scroll · any other key closes)") + "\n\n")
	sections := []struct {
		name string
		keys help.KeyMap
	}{
		{"Requests", m.listKeys}, {"Composer", m.composer.keys}, {"Admin", m.admin.keys}, {"Activity", m.activity.keys},
	}
	full := m.help
	full.ShowAll = true
	for _, sec := range sections {
		b.WriteString(s.label.Render(sec.name) + "\n" + full.View(sec.keys) + "\n\n")
	}
	b.WriteString(s.label.Render("States") + "\n")
	for _, st := range app.Statuses {
		b.WriteString(s.status[st].Render(statusIcon(st, 0)+" "+padRight(statusLabel(st), 12)) + s.muted.Render(stateMeaning[st]) + "\n")
	}
	lines := strings.Split(b.String(), "\n")
	start := min(m.helpScroll, max(len(lines)-m.bodyHeight(), 0))
	return strings.Join(lines[start:], "\n")
}

var stateMeaning = map[app.Status]string{
	app.StatusQueued:           "stored, waiting to be sent to n8n",
	app.StatusSending:          "the webhook call to n8n is in flight",
	app.StatusProcessing:       "n8n accepted it; waiting for the callback",
	app.StatusCompleted:        "the image arrived and is stored",
	app.StatusFailed:           "n8n reported a failure, or the image was unusable",
	app.StatusInitiationFailed: "n8n refused or was unreachable; r re-sends the same id",
	app.StatusTimedOut:         "no callback in time: lost, not done (a late one still completes it)",
	app.StatusCancelled:        "cancelled by you; a late result is kept but the state stays",
}

// fitLines makes s exactly h lines, each cut to w cells, so a child can
// never push the footer off screen.
func fitLines(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncate(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
