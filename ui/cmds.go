package ui

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/kitty"

	"github.com/influencegen/influencegen/app"
)

// Every Cmd below does its I/O with a deadline and answers with a message;
// none of them reads or writes the model.

const (
	ioTimeout    = 5 * time.Second
	pollInterval = 250 * time.Millisecond
)

func loadPageCmd(ctx context.Context, st app.Store, clock app.Clock, seq int, mode loadMode, q app.ListQuery) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		page, err := st.ListRequests(ctx, q)
		if err != nil {
			return pageLoadedMsg{seq: seq, mode: mode, err: err}
		}
		msg := pageLoadedMsg{seq: seq, mode: mode, page: page}
		msg.counts, msg.totals, msg.err = readCounts(ctx, st, q)
		if msg.err == nil && q.GroupBatches {
			msg.entries, msg.batches, msg.err = readEntries(ctx, st, clock.Now(), q, page)
		}
		return msg
	}
}

// clickedCmd delivers what a click hit (see clickHandler).
func clickedCmd(msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return msg }
}

// wantPageCmd carries a list's read request to the root.
func wantPageCmd(msg pageWantedMsg) tea.Cmd {
	return func() tea.Msg { return msg }
}

// reloadRequestCmd re-reads one request and, in the same Cmd, the tab
// counts for the list's query q, so a row that changes state and the tab
// counts move together.
func reloadRequestCmd(ctx context.Context, st app.Store, id string, q app.ListQuery) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		req, err := st.GetRequest(ctx, id)
		if err != nil {
			req.ID = id
			if app.ErrorCode(err) != app.ENOTFOUND {
				logFrom(ctx).Warn("dashboard: reload request", "request_id", id, "error", err)
				return requestReloadedMsg{req: req, err: err}
			}
		}
		msg := requestReloadedMsg{req: req, err: err, search: q.Search, mine: q.RequestedBy}
		var cerr error
		if msg.counts, msg.totals, cerr = readCounts(ctx, st, q); cerr != nil {
			logFrom(ctx).Warn("dashboard: counts", "error", cerr)
		}
		return msg
	}
}

// readCounts reads, right after the rows, the tab counts for the list's
// search and mine filter and the header's counts of everything: the rows
// and both counts then come from one load and move together. With no
// search and no mine filter they are one query.
func readCounts(ctx context.Context, st app.Store, q app.ListQuery) (tabs, totals map[app.Status]int, err error) {
	tabs, err = st.CountByStatusMatching(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	if q.Search == "" && q.RequestedBy == "" {
		return tabs, tabs, nil
	}
	totals, err = st.CountByStatus(ctx)
	if err != nil {
		return nil, nil, err
	}
	return tabs, totals, nil
}

func loadDetailCmd(ctx context.Context, st app.Store, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		images, err := st.Images(ctx, id)
		if err != nil {
			return detailLoadedMsg{id: id, err: err}
		}
		acts, err := st.ListActivity(ctx, app.ActivityQuery{RequestID: id, Limit: 100})
		msg := detailLoadedMsg{id: id, images: images, activity: acts, err: err}
		if err == nil {
			msg.batch, msg.err = readBatchOf(ctx, st, id)
		}
		if msg.err == nil && msg.batch != nil {
			msg.batchReqs, msg.err = st.BatchRequests(ctx, msg.batch.ID)
		}
		return msg
	}
}

func loadHeaderCmd(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		msg := headerLoadedMsg{odoo: b.Config.OdooEnabled(), listener: b.Listener()}
		// the counts are not read here: they come with the rows (readCounts)
		if msg.odoo {
			msg.outbox, msg.err = b.Store.OutboxStats(ctx)
		}
		if msg.err != nil {
			b.Log.Warn("dashboard: header", "error", msg.err)
			return msg
		}
		// the newest n8n outcome, good or bad: an error shows only while
		// nothing has gone through since
		last, ok, err := b.Store.NewestN8NOutcome(ctx)
		if ok && (last.Kind == app.ActivityN8NError || last.Kind == app.ActivityInitiationFailed) {
			msg.n8nError = &last
		}
		msg.err = err
		if msg.err == nil {
			msg.curation, msg.err = b.Store.CountCuration(ctx, app.ListQuery{})
		}
		if msg.err != nil {
			b.Log.Warn("dashboard: header", "error", msg.err)
		}
		return msg
	}
}

// waitForEventCmd blocks on the bus subscription for one event; the root
// re-arms it after every event, so there is always exactly one waiter.
func waitForEventCmd(sub *app.Subscription) tea.Cmd {
	if sub == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-sub.C
		if !ok {
			return busEventMsg{closed: true}
		}
		return busEventMsg{ev: ev, resync: sub.Resync()}
	}
}

// pollTickCmd and spinnerTickCmd are the only timers; unit tests switch
// them off (noTicks) and send the ticked messages themselves.
func (m Model) pollTickCmd() tea.Cmd {
	if m.noTicks {
		return nil
	}
	return tea.Tick(pollInterval, func(time.Time) tea.Msg { return pollTickedMsg{} })
}

func checkDataVersionCmd(ctx context.Context, st app.Store) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		v, err := st.DataVersion(ctx)
		if err != nil {
			logFrom(ctx).Warn("dashboard: data version", "error", err)
		}
		return dataVersionCheckedMsg{version: v, err: err}
	}
}

func (m Model) spinnerTickCmd() tea.Cmd {
	if m.noTicks {
		return nil
	}
	return m.spinner.Tick
}

func submitCmd(ctx context.Context, svc Service, in app.ParamsInput) tea.Cmd {
	return func() tea.Msg {
		// Submit stores the rows and starts sending in the background; a
		// generous deadline covers a busy database, not the webhook POST.
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		reqs, err := svc.Submit(ctx, in)
		return submittedMsg{reqs: reqs, err: err}
	}
}

func actionCmd(ctx context.Context, svc Service, action, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		msg := actionDoneMsg{action: action, id: id}
		switch action {
		case actionRetry:
			msg.req, msg.err = svc.Retry(ctx, id)
		case actionCancel:
			msg.req, msg.err = svc.Cancel(ctx, id)
		case actionDelete:
			msg.err = svc.Delete(ctx, id)
		default:
			msg.err = fmt.Errorf("unknown action %q", action)
		}
		return msg
	}
}

// loadPresetsCmd reads presets.toml off the UI goroutine (it is read each
// time, so a hand edit shows without a restart).
func loadPresetsCmd(ctx context.Context, book app.PresetBook) tea.Cmd {
	return func() tea.Msg {
		if ctx.Err() != nil {
			return presetsLoadedMsg{err: ctx.Err()}
		}
		presets, err := book.Presets()
		return presetsLoadedMsg{presets: presets, err: err}
	}
}

func undoCmd(ctx context.Context, svc Service, action, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		msg := undoneMsg{action: action, id: id}
		if action == actionDelete {
			msg.req, msg.err = svc.UndoDelete(ctx, id)
		} else {
			msg.req, msg.err = svc.UndoCancel(ctx, id)
		}
		return msg
	}
}

func loadHistoryCmd(ctx context.Context, st app.Store) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		prompts, err := st.PromptHistory(ctx, 100)
		return historyLoadedMsg{prompts: prompts, err: err}
	}
}

func loadSecretsCmd(ctx context.Context, sec app.Secrets) tea.Cmd {
	return func() tea.Msg {
		if sec == nil {
			return secretsLoadedMsg{err: app.Errorf(app.ENOTCONFIGURED, "no secret store is available in this mode")}
		}
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		list, err := sec.Status(ctx)
		return secretsLoadedMsg{secrets: list, err: err}
	}
}

func setSecretCmd(ctx context.Context, sec app.Secrets, st app.Store, clock app.Clock, name, value string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		if err := sec.Set(ctx, name, value); err != nil {
			return secretSetMsg{name: name, err: err}
		}
		recordActivity(ctx, st, app.Activity{Kind: app.ActivitySecretSet, Level: app.LevelInfo, CreatedAt: clock.Now(),
			Message: fmt.Sprintf("%s replaced from the dashboard (fingerprint %s)", name, app.Fingerprint(value))})
		return secretSetMsg{name: name}
	}
}

// rotateTokenCmd rotates the callback token and, when push is set (an
// n8n-admin-key was set when the question was asked), writes it into n8n's
// callback credential the way `secrets rotate callback-token --push-n8n`
// does. The token is active locally before the push, so a failed push is
// reported with its fix, not undone: the previous token's grace covers
// the time it takes to paste it by hand.
func rotateTokenCmd(ctx context.Context, sec app.Secrets, st app.Store, clock app.Clock, grace time.Duration, push func(context.Context) (app.N8NAdmin, error)) tea.Cmd {
	return func() tea.Msg {
		rctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		token, expires, err := sec.RotateCallbackToken(rctx, grace)
		msg := tokenRotatedMsg{token: token, expires: expires, err: err}
		if err != nil {
			return msg
		}
		pushed := ""
		if push != nil {
			msg.pushTried = true
			msg.pushErr = pushCallbackToken(ctx, push, token)
			pushed = "; pushed to n8n"
			if msg.pushErr != nil {
				pushed = "; NOT pushed to n8n: " + app.ErrorMessage(msg.pushErr)
			}
		}
		recordActivity(rctx, st, app.Activity{Kind: app.ActivityTokenRotated, Level: app.LevelInfo, CreatedAt: clock.Now(),
			Message: fmt.Sprintf("callback token rotated from the dashboard (new fingerprint %s); the previous one is accepted until %s%s",
				app.Fingerprint(token), expires.UTC().Format(time.RFC3339), pushed)})
		return msg
	}
}

// pushCallbackToken PATCHes the new token into n8n's callback credential
// through the same app.N8NAdmin.PushSecret the CLI's --push-n8n uses.
func pushCallbackToken(ctx context.Context, build func(context.Context) (app.N8NAdmin, error), token string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	admin, err := build(ctx)
	if err != nil {
		return err
	}
	if admin == nil {
		return app.Errorf(app.ENOTFOUND, "n8n-admin-key is no longer set")
	}
	return admin.PushSecret(ctx, app.SecretCallbackToken, token)
}

// recordActivity writes an admin action to the activity log; a failure is
// logged, not shown: the action itself succeeded.
// recordActivity also names who did it on a shared host (the SSH
// session's member), so the team's activity view says who rotated or set a
// secret.
func recordActivity(ctx context.Context, st app.Store, a app.Activity) {
	if actor, ok := app.ActorFrom(ctx); ok {
		a.Message += " by " + actor.Name
	}
	if err := st.AppendActivity(ctx, a); err != nil {
		logFrom(ctx).Warn("dashboard: activity not recorded", "kind", a.Kind, "error", err)
	}
}

func checkERPCmd(ctx context.Context, erp ERPChecker, clock app.Clock) tea.Cmd {
	return func() tea.Msg {
		if erp == nil {
			return erpCheckedMsg{at: clock.Now(), err: app.Errorf(app.ENOTCONFIGURED, "Odoo is not configured: set odoo.url and odoo.database, then `influencegen secrets set odoo-api-key`")}
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		check, err := erp.Check(ctx)
		return erpCheckedMsg{at: clock.Now(), check: check, err: err}
	}
}

func remixCmd(ctx context.Context, svc Service, id string, seedOnly bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		var msg remixLoadedMsg
		if seedOnly {
			msg.in, msg.err = svc.ReuseSeed(ctx, id)
		} else {
			msg.in, msg.err = svc.Remix(ctx, id)
		}
		return msg
	}
}

func loadActivityCmd(ctx context.Context, st app.Store) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		items, err := st.ListActivity(ctx, app.ActivityQuery{Limit: 500})
		return activityLoadedMsg{items: items, err: err}
	}
}

func openImageCmd(ctx context.Context, open func(context.Context, string) error, path string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return imageOpenedMsg{path: path, err: open(ctx, path)}
	}
}

// openInSystemViewer starts the platform's "open this file" command and
// does not wait for the viewer to close.
func openInSystemViewer(ctx context.Context, path string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", path)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", path)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", path)
	}
	if err := cmd.Start(); err != nil {
		return app.Errorf(app.EUNAVAILABLE, "cannot start the image viewer (%s): %v", cmd.Path, err)
	}
	go func() { _ = cmd.Wait() }() // reap it; the viewer outlives the deadline on purpose
	return nil
}

type logKey struct{}

// withLog puts the file logger in the context the Cmds inherit, so they
// can log their failures without the model doing I/O.
func withLog(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, log)
}

func logFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// quitCmd ends the program.
func quitCmd() tea.Cmd { return tea.Quit }

// copyCmd puts text on the clipboard with OSC 52 (the terminal's, so it
// works over SSH too).
func copyCmd(text string) tea.Cmd { return tea.SetClipboard(text) }

// requestBackgroundColorCmd asks the terminal for its background, to pick
// light or dark styles.
func requestBackgroundColorCmd() tea.Cmd { return tea.RequestBackgroundColor }

// placeImageCmd draws a kitty/iTerm2/sixel payload at cell x, y.
func placeImageCmd(g graphicsEnv, payload string, x, y int) tea.Cmd {
	return tea.Raw(placeImage(g, payload, x, y))
}

// wipeImageCmds remove a terminal-graphics picture drawn with g: kitty's
// live outside the cell grid and need a delete, and every protocol needs
// a full redraw. They must run in order (tea.Sequence).
func wipeImageCmds(g graphicsEnv) []tea.Cmd {
	var cmds []tea.Cmd
	if g.proto == protoKitty {
		cmds = append(cmds, placeImageCmd(g, kittyDelete(), 0, 0))
	}
	return append(cmds, tea.ClearScreen)
}

// renderPreviewCmd decodes and scales an image off the UI goroutine: the
// Cmd runs on its own goroutine and only its message comes back.
func renderPreviewCmd(ctx context.Context, cache *previewCache, img app.Image, k previewKey) tea.Cmd {
	return func() tea.Msg {
		return renderPreview(ctx, cache, img.Path, k)
	}
}

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

// notifyCmd rings the bell and posts an OSC 9 desktop notification; both are
// ignored by terminals that do not support them.
func notifyCmd(text string) tea.Cmd {
	return tea.Raw("\a" + ansi.Notify(sanitizeOSC(text)))
}

// sanitizeOSC drops control characters so a prompt can never end the
// escape sequence early or inject its own.
func sanitizeOSC(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// explainCmd looks up the n8n run behind a failed or timed-out request
// (n8nexplain.go shows it).
func explainCmd(ctx context.Context, build func(context.Context) (app.N8NAdmin, error), r app.Request) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		admin, err := build(ctx)
		if err != nil {
			return n8nExplainedMsg{id: r.ID, n8nExplained: n8nExplained{err: err}}
		}
		if admin == nil {
			return n8nExplainedMsg{id: r.ID, n8nExplained: n8nExplained{noAdmin: true}}
		}
		run, err := app.ExplainFailure(ctx, admin, r)
		return n8nExplainedMsg{id: r.ID, n8nExplained: n8nExplained{run: run, err: err}}
	}
}

// refreshTeamCmd polls Odoo for the team's requests changed since the last
// poll (the feed merges them) and looks up which of them this host holds.
func refreshTeamCmd(ctx context.Context, tb *TeamBackend, st app.Store) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		changed, err := tb.Feed.Refresh(ctx)
		if err != nil {
			logFrom(ctx).Warn("dashboard: team refresh", "error", err)
			return teamRefreshedMsg{err: err}
		}
		rows := tb.Feed.Requests()
		owned := map[string]bool{}
		for _, r := range rows {
			if r.ID == "" {
				continue
			}
			if r.Host != "" && r.Host == tb.Host {
				owned[r.ID] = true
				continue
			}
			if _, err := st.GetRequest(ctx, r.ID); err == nil {
				owned[r.ID] = true
			}
		}
		return teamRefreshedMsg{rows: rows, owned: owned, changed: changed}
	}
}

// fetchTeamImagesCmd fetches a team request's images from Odoo (or finds
// them already kept by their sha256).
func fetchTeamImagesCmd(ctx context.Context, tb *TeamBackend, odooID int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		files, err := tb.Images(ctx, odooID)
		if err != nil {
			logFrom(ctx).Warn("dashboard: team image", "odoo_id", odooID, "error", err)
		}
		return teamImagesFetchedMsg{odooID: odooID, files: files, err: err}
	}
}

// countQueueCmd counts the Odoo requests no host has claimed yet.
func countQueueCmd(ctx context.Context, tb *TeamBackend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		n, err := tb.QueueWaiting(ctx)
		return queueCountedMsg{waiting: n, err: err}
	}
}

// odooPollCmd is the odoo.poll_interval timer (off in unit tests).
func (m Model) odooPollCmd() tea.Cmd {
	if m.noTicks || m.b.Team == nil {
		return nil
	}
	return tea.Tick(m.odooInterval(), func(time.Time) tea.Msg { return odooPolledMsg{} })
}
