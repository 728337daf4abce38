package ui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	uv "github.com/charmbracelet/ultraviolet"

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
	screenTeam                   // everyone's requests from Odoo (T)
	screenGallery                // thumbnails of recent images, or of one request (gallery.go)
	screenViewer                 // one picture full screen (viewer.go)
	screenCompare                // two marked pictures side by side (compare.go)
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
	helpVP        viewport.Model
	helpKeys      helpKeys
	focus         focus
	styles        *styles // shared and immutable: rebuilt whole on a new background
	noColor       bool
	gfx           graphicsEnv
	help          help.Model
	globalKeys    globalKeys
	listKeys      listKeys
	detailKeys    detailKeys
	searchKeys    searchKeys

	header   headerModel
	list     listModel
	detail   detailModel
	composer *composerModel // behind a pointer: the bubbles in it are large and Update copies the root
	admin    adminModel
	activity activityModel
	team     teamModel

	confirm     *confirmModel // a question that owns the keyboard until answered
	undo        *undoOffer    // the last delete or cancel, undoable with u for a while (undo.go)
	lastKeyAt   time.Time     // when the previous key arrived
	typedAhead  bool          // keys of the burst that ended in ctrl+s are dropped
	heldKeys    int           // how many were dropped, for the footer
	quitArmed   bool          // ctrl+c was pressed once with a draft
	flashAt     time.Time     // when the flash line was set: it goes after flashFor
	flashBox    bool          // the flash is too long for the footer: shown in a box until a key
	batches     batches       // submitted batches still in flight: one bell each, the progress bar
	flash       string
	flashErr    bool
	dataVersion int64
	headerDirty bool
	spinning    bool
	spinner     spinner.Model // one for every row and the detail: they turn together
	previews    *previewCache
	cur         curationState // the grid, the viewer and compare (galleryflow.go)
	memo        *viewMemo     // costly view parts, kept while their inputs stay the same
	noTicks     bool          // tests drive time themselves
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
	// A staff member on the team host has no admin screen: the key is not
	// offered (openAdmin refuses too, in case another path reaches it).
	g.Admin.SetEnabled(app.MayAdmin(ctx))
	m := Model{
		ctx:        ctx,
		b:          b,
		styles:     newStyles(true, noColor),
		noColor:    noColor,
		gfx:        detectGraphics(b.Getenv),
		help:       help.New(),
		helpVP:     viewport.New(),
		helpKeys:   newHelpKeys(),
		globalKeys: g,
		listKeys:   newListKeys(g),
		detailKeys: newDetailKeys(g),
		searchKeys: newSearchKeys(),
		header:     headerModel{profile: b.Profile, demo: b.Demo, memory: b.SecretsInMemory},
		list:       newListModel(newListKeys(g), newSearchKeys()),
		composer:   ptr(newComposer(b.Config, newComposerKeys())),
		admin:      newAdmin(newAdminKeys(g), b.Config),
		activity:   newActivity(newActivityKeys(g)),
		team:       teamModel{keys: newTeamKeys(g)},
		previews:   newPreviewCache(previewCacheBytes),
		memo:       &viewMemo{},
		batches:    batches{},
		spinner:    spinner.New(spinner.WithSpinner(spinner.MiniDot)),
	}
	if noColor {
		m.gfx.proto = protoHalfBlocks
	}
	if b.User.Name != "" {
		m.list.me = b.User.Name
		m.list.keys.Mine.SetEnabled(true)
		m.listKeys.Mine.SetEnabled(true)
	}
	m.cur = newCurationState(g, b.Getenv, b.User.Name)
	m.applyTheme()
	m.detail.vp = newDetailViewport(m.detailKeys.Scroll)
	m.admin.n8nWired = b.N8NAdmin != nil
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
		requestBackgroundColorCmd(),
		loadPageCmd(m.ctx, m.b.Store, m.b.Clock, 1, loadTop, m.list.query()),
		loadHeaderCmd(m.ctx, m.b),
		checkDataVersionCmd(m.ctx, m.b.Store),
		waitForEventCmd(m.sub),
		probeTerminalCmd(m.gfx),
		m.odooPollCmd(),
		m.countQueueAtStart(),
	)
}

// Update dispatches each message to one handler, then wipes a terminal
// graphics picture the new state no longer shows.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.dispatch(msg)
	next = next.refreshKeys()
	if next.flash != m.flash {
		next.flashAt = next.b.Clock.Now()
		// a message wider than the footer opens in a box instead of being cut
		next.flashBox = lipgloss.Width(next.flash) > next.width && next.width > 0
	}
	if clear := m.clearStaleImages(next); clear != nil {
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
	case tabClickedMsg:
		return m.handleTabClicked(msg)
	case rowClickedMsg:
		return m.handleRowClicked(msg)
	case paneClickedMsg:
		return m.enterDetail()
	case tea.MouseWheelMsg:
		return m.handleWheel(msg)
	case pageWantedMsg:
		return m, loadPageCmd(m.ctx, m.b.Store, m.b.Clock, msg.seq, msg.mode, msg.q)
	case pageLoadedMsg:
		return m.handlePageLoaded(msg)
	case undoneMsg:
		return m.handleUndone(msg)
	case presetsLoadedMsg:
		return m.handlePresetsLoaded(msg)
	case requestReloadedMsg:
		return m.handleRequestReloaded(msg)
	case detailLoadedMsg:
		return m.handleDetailLoaded(msg)
	case n8nExplainedMsg:
		return m.handleN8NExplained(msg)
	case previewRenderedMsg:
		return m.handlePreviewRendered(msg)
	case tea.TerminalVersionMsg, tea.ColorProfileMsg, uv.KittyGraphicsEvent, uv.PrimaryDeviceAttributesEvent, uv.CellSizeEvent, uv.PixelSizeEvent:
		return m.handleTerminalReply(msg)
	case headerLoadedMsg:
		return m.handleHeaderLoaded(msg)
	case busEventMsg:
		return m.handleBusEvent(msg)
	case pollTickedMsg:
		return m.handlePollTicked()
	case dataVersionCheckedMsg:
		return m.handleDataVersion(msg)
	case spinner.TickMsg:
		return m.handleSpinnerTicked(msg)
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
	case teamRefreshedMsg:
		return m.handleTeamRefreshed(msg)
	case teamImagesFetchedMsg:
		return m.handleTeamImagesFetched(msg)
	case odooPolledMsg:
		return m.handleOdooPolled()
	case queueCountedMsg:
		return m.handleQueueCounted(msg)
	case galleryLoadedMsg:
		return m.handleGalleryLoaded(msg)
	case thumbRenderedMsg:
		return m.handleThumbRendered(msg)
	case fileOpenedMsg:
		return m.handleFileOpened(msg)
	case imageDecidedMsg:
		return m.handleImageDecided(msg)
	case variedMsg:
		return m.handleVaried(msg)
	case exportedMsg:
		return m.handleExported(msg)
	case batchCheckedMsg:
		return m.handleBatchChecked(msg)
	case batchOpenedMsg:
		m.list = m.list.opened(msg)
		return m, m.spinCmd()
	case batchesLoadedMsg:
		if msg.err == nil {
			m.list = m.list.withBatches(msg.batches)
		}
		return m, m.spinCmd()
	}
	return m, nil
}

// View renders the whole screen from cached state only: every number it
// shows was loaded by a Cmd beforehand.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.OnMouse = clickHandler(m.hitAreas())
	v.ProgressBar = m.progressBar()
	v.WindowTitle = "InfluenceGen · " + m.b.Profile
	if m.b.Demo && m.b.Profile != "demo" {
		v.WindowTitle += " (demo)"
	}
	return v
}

func (m Model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		lines := []string{
			m.styles.warn.Render("Terminal too small"),
			m.styles.muted.Render("InfluenceGen needs at least 60×15;"),
			m.styles.muted.Render("this one is " + itoa(m.width) + "×" + itoa(m.height) + "."),
			m.styles.muted.Render("Enlarge it, or press q to quit."),
		}
		// each line centred on its own, and cut rather than wrapped
		for i, l := range lines {
			l = truncate(l, m.width)
			pad := max(m.width-lipgloss.Width(l), 0)
			lines[i] = strings.Repeat(" ", pad/2) + l
		}
		return lipgloss.PlaceVertical(m.height, lipgloss.Center, strings.Join(lines, "\n"))
	}
	body := m.bodyView()
	switch {
	case m.confirm != nil:
		body = overlayBottom(body, m.confirm.View(m.styles, m.width), m.width, m.bodyHeight())
	case m.screen == screenComposer && m.composer.picker != nil:
		body = overlayBottom(body, m.composer.picker.View(m.styles, m.width), m.width, m.bodyHeight())
	case m.flashBox:
		body = overlayBottom(body, messageBox(m.styles, m.flash, m.flashErr, m.width), m.width, m.bodyHeight())
	}
	return m.header.View(m.styles, m.b.Clock.Now()) + "\n" + body + "\n" + m.footerView()
}

func ptr[T any](v T) *T { return &v }

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
		out = m.helpVP.View()
	case screenDetail:
		out = m.detail.View(m.styles, m.b.Clock.Now())
	case screenTeam:
		out = m.team.View(m.styles, m.b.Team, m.odooInterval(), m.b.Clock.Now())
	case screenGallery, screenViewer, screenCompare:
		out = m.curationView()
	default:
		list := m.list.View(m.styles, m.focus == focusList, m.b.Clock.Now())
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
