package ui

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

type adminMode int

const (
	adminBrowse    adminMode = iota
	adminSetting             // typing a secret into the masked input
	adminShowToken           // the new token, shown once
)

// adminModel is the secrets table, the token rotation, the Odoo check and
// the listener/tunnel panel. Secret values never reach it, except the new
// callback token right after a rotation, which is dropped on leaving.
type adminModel struct {
	keys          adminKeys
	inputKeys     secretInputKeys
	width, height int
	mode          adminMode
	secrets       []app.SecretStatus
	loaded        bool
	err           error
	cursor        int
	input         textinput.Model
	settingName   string
	pending       string // the typed value while its confirmation is asked; never drawn
	token         string
	pushed        bool // the shown token is in n8n already
	n8nWired      bool // the backend can build an n8n admin
	tokenExpires  time.Time
	copied        bool
	notice        string
	noticeErr     bool
	erpChecking   bool
	erpAt         time.Time
	erpErr        error
	erpChecked    bool
	erpCheck      app.ERPCheck
	listener      ListenerStatus
	auth          string
	webhook       string
	odooURL       string
	now           time.Time
}

func newAdmin(keys adminKeys, cfg app.Config) adminModel {
	in := textinput.New()
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	in.Prompt = "value: "
	in.CharLimit = 4096
	return adminModel{keys: keys, inputKeys: newSecretInputKeys(), input: in, auth: cfg.Callback.Auth, webhook: cfg.N8N.WebhookURL, odooURL: cfg.Odoo.URL}
}

func (a *adminModel) SetSize(w, h int) {
	a.width, a.height = w, max(h, 1)
	a.input.SetWidth(max(w-12, 10))
}

func (a adminModel) selectedName() string {
	if a.cursor >= 0 && a.cursor < len(a.secrets) {
		return a.secrets[a.cursor].Name
	}
	if a.cursor >= 0 && a.cursor < len(app.SecretNames) {
		return app.SecretNames[a.cursor]
	}
	return ""
}

func (a adminModel) Update(msg tea.Msg) (adminModel, tea.Cmd) {
	switch msg := msg.(type) {
	case secretsLoadedMsg:
		a.loaded, a.err = true, msg.err
		if msg.err == nil {
			a.secrets = msg.secrets
			a.cursor = min(a.cursor, max(len(a.secrets)-1, 0))
		}
	case tea.KeyPressMsg:
		if a.mode == adminSetting {
			var cmd tea.Cmd
			a.input, cmd = a.input.Update(msg)
			return a, cmd
		}
		switch {
		case key.Matches(msg, a.keys.Up):
			a.cursor = max(a.cursor-1, 0)
		case key.Matches(msg, a.keys.Down):
			a.cursor = min(a.cursor+1, max(len(a.secrets)-1, 0))
		}
	case tea.PasteMsg:
		if a.mode == adminSetting {
			var cmd tea.Cmd
			a.input, cmd = a.input.Update(msg)
			return a, cmd
		}
	}
	return a, nil
}

// startSetting opens the masked input for the selected secret.
func (a adminModel) startSetting() (adminModel, tea.Cmd) {
	a.mode, a.settingName, a.notice = adminSetting, a.selectedName(), ""
	a.input.Reset()
	return a, a.input.Focus()
}

// leave forgets everything sensitive: the typed value and the new token.
func (a adminModel) leave() adminModel {
	a.mode, a.token, a.copied, a.settingName, a.pending, a.pushed = adminBrowse, "", false, "", "", false
	a.input.Reset()
	a.input.Blur()
	a.keys.Copy.SetEnabled(false)
	return a
}

func (a adminModel) View(s *styles) string {
	w := a.width
	var out []string
	add := func(l string) { out = append(out, ansi.Truncate(l, w, "…")) }
	add(s.title.Render("Admin"))
	add("")
	add(s.label.Render("Secrets") + s.muted.Render("  (values are never shown: fingerprint = first 8 hex of SHA-256)"))
	switch {
	case a.err != nil:
		add(s.err.Render("  cannot read secrets: " + errText(a.err)))
	case !a.loaded:
		add(s.muted.Render("  loading…"))
	}
	for _, l := range strings.Split(a.secretsTable(s), "\n") {
		add(l)
	}
	add("")
	switch a.mode {
	case adminSetting:
		add(s.bold.Render("Set "+a.settingName) + s.muted.Render("  enter save (asks to confirm) · esc cancel (typed characters are masked)"))
		add("  " + a.input.View())
	case adminShowToken:
		add(s.ok.Render("New callback token (shown once, it is not stored anywhere you can read it back here):"))
		add("  " + s.secret.Render(a.token))
		copied := "press c to copy it (OSC 52)"
		if a.copied {
			copied = "copied to the clipboard"
		}
		add(s.muted.Render("  " + copied + "; the previous token works until " + a.tokenExpires.UTC().Format("2006-01-02 15:04 UTC") + "."))
		if a.pushed {
			add(s.ok.Render("  n8n has it already: its callback credential was updated."))
		} else {
			add(s.warn.Render("  Update n8n now: the HTTP Request node's x-callback-token header value must be this token."))
		}
		add(s.muted.Render("  Any other key hides it."))
	}
	if a.notice != "" {
		st := s.ok
		if a.noticeErr {
			st = s.err
		}
		for _, l := range wrap(safe(a.notice), w) { // a push error carries its fix: keep all of it
			add(st.Render(l))
		}
	}
	add("")
	add(s.label.Render("Listener / tunnel"))
	l := a.listener
	add("  " + s.muted.Render("listening  ") + firstNonEmpty(l.Address, "off"))
	tunnel := s.muted.Render("  (tunnel: " + firstNonEmpty(l.Tunnel, "none detected") + ")")
	if isLoopbackURL(l.PublicURL) {
		// a loopback "public" URL is no tunnel: only n8n on this machine reaches it
		tunnel = s.muted.Render("  (loopback: only an n8n on this machine can reach it)")
	}
	add("  " + s.muted.Render("public URL ") + firstNonEmpty(l.PublicURL, "(none: n8n must reach the listen address)") + tunnel)
	check := s.muted.Render("not run yet")
	if l.Checked && l.SelfCheck == nil {
		check = s.ok.Render("✓ reached us through the public URL")
	} else if l.Checked {
		check = s.err.Render("✗ " + errText(l.SelfCheck))
	}
	add("  " + s.muted.Render("self-check ") + check)
	if l.Warning != "" {
		add("  " + s.err.Render(l.Warning))
	}
	add("  " + s.muted.Render("auth       ") + a.auth + s.muted.Render("   callback ") + a.callbackURL() + s.muted.Render("  (u copies it)"))
	switch {
	case !a.n8nWired:
	case a.n8nKeySet():
		add("  " + s.muted.Render("n8n push   ") + s.ok.Render("on") + s.muted.Render(": t also writes the new token into n8n's callback credential"))
	default:
		add("  " + s.muted.Render("n8n push   ") + s.warn.Render("off") + s.muted.Render(": set n8n-admin-key (n8n → Settings → n8n API → create a key) and t pushes the new token to n8n"))
	}
	add("")
	add(s.label.Render("Odoo"))
	odoo := s.muted.Render("not configured (odoo.url is empty)")
	switch {
	case a.erpChecking:
		odoo = s.muted.Render("testing " + a.odooURL + " …")
	case a.erpChecked && a.erpErr == nil && a.erpCheck.OK():
		odoo = s.ok.Render("✓ "+safe(firstNonEmpty(a.erpCheck.URL, a.odooURL))) + s.muted.Render(safe(fmt.Sprintf("  Odoo %s · %s · %s · checked %s",
			a.erpCheck.Version, a.erpCheck.Protocol, a.erpCheck.User, a.erpAt.Local().Format("15:04:05"))))
	case a.erpChecked && a.erpErr == nil:
		odoo = s.err.Render("✗ the connection check failed:")
	case a.erpChecked:
		odoo = s.err.Render("✗ " + errText(a.erpErr))
	case a.odooURL != "":
		odoo = s.text.Render(a.odooURL) + s.muted.Render("  press o to test the connection")
	}
	add("  " + odoo)
	if a.erpChecked && a.erpErr == nil {
		for _, it := range a.erpCheck.Items {
			mark := s.ok.Render("✓")
			if !it.OK {
				mark = s.err.Render("✗")
			}
			add("    " + mark + " " + fmt.Sprintf("%-18s", it.Name) + " " + s.muted.Render(oneLine(safe(it.Detail))))
		}
	}
	if len(out) > a.height {
		// a short terminal loses the spacing before it loses information
		dense := out[:0:0]
		for _, l := range out {
			if l != "" {
				dense = append(dense, l)
			}
		}
		out = dense[:min(len(dense), a.height)]
	}
	for len(out) < a.height {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

// secretsTable is the secrets as a lipgloss table: name, source,
// fingerprint and state, the selected one marked.
func (a adminModel) secretsTable(s *styles) string {
	rows := make([][]string, 0, len(a.secrets))
	for i, sec := range a.secrets {
		state := ""
		switch {
		case sec.Error != "":
			state = s.err.Render(safe(sec.Error))
		case sec.ExpiresAt != nil && sec.Expired:
			state = s.muted.Render("expired " + sec.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
		case sec.ExpiresAt != nil:
			state = s.warn.Render("valid until " + sec.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + " (" + untilText(a.now, *sec.ExpiresAt) + ")")
		case sec.Source == app.SourceMissing:
			state = s.warn.Render("not set")
		default:
			state = s.ok.Render("set")
		}
		cursor := " "
		if i == a.cursor {
			cursor = s.accent.Render("›")
		}
		rows = append(rows, []string{cursor, sec.Name, sec.Source, firstNonEmpty(sec.Fingerprint, "-"), state})
	}
	t := table.New().Border(lipgloss.HiddenBorder()).BorderTop(false).BorderBottom(false).BorderLeft(false).
		BorderRight(false).BorderColumn(false).BorderHeader(false).
		Headers("", "NAME", "SOURCE", "PRINT", "EXPIRY / STATE").Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			st := lipgloss.NewStyle().PaddingRight(1)
			if row == table.HeaderRow {
				return s.muted.PaddingRight(1)
			}
			return st
		})
	return t.String()
}

// n8nKeySet says the secrets table shows an n8n-admin-key, so rotations
// push the token to n8n and failed requests are explained.
func (a adminModel) n8nKeySet() bool {
	for _, sec := range a.secrets {
		if sec.Name == app.SecretN8NAdminKey {
			return sec.Source != app.SourceMissing && sec.Error == ""
		}
	}
	return false
}

// isLoopbackURL reports whether u points at this machine only.
func isLoopbackURL(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Hostname() == "" {
		return false
	}
	h := parsed.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// callbackURL is where n8n must send its results.
func (a adminModel) callbackURL() string {
	l := a.listener
	return firstNonEmpty(l.PublicURL, "http://"+firstNonEmpty(l.Address, "127.0.0.1:8787")) + app.CallbackPath
}

type secretInputKeys struct{ Save, Cancel key.Binding }

func newSecretInputKeys() secretInputKeys {
	return secretInputKeys{
		Save:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

func (k secretInputKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Save} }
func (k secretInputKeys) Essential() []key.Binding  { return []key.Binding{k.Cancel} }
func (k secretInputKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Save, k.Cancel}} }

func untilText(now, t time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "expired"
	}
	return "in " + d.Round(time.Minute).String()
}
