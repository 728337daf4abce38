package ui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

type composerField int

const (
	fieldPrompt composerField = iota
	fieldNegative
	fieldModel
	fieldPreset
	fieldResolution
	fieldAspect
	fieldSeed
	fieldCount
	fieldCountAll
)

// aspectPresets are offered by the size picker; each sets the aspect and a
// resolution of about one megapixel. "custom" is whatever was typed.
var aspectPresets = []struct{ name, aspect string }{
	{"square 1:1", "1:1"}, {"landscape 16:9", "16:9"}, {"portrait 9:16", "9:16"},
	{"photo 3:2", "3:2"}, {"photo 2:3", "2:3"}, {"classic 4:3", "4:3"}, {"classic 3:4", "3:4"},
	{"wide 21:9", "21:9"},
}

const customPreset = -1

// composerModel is the new-request form.
type composerModel struct {
	keys       composerKeys
	cfg        app.Config
	width      int
	height     int
	focus      composerField
	prompt     textarea.Model
	negative   textinput.Model
	resolution textinput.Model
	aspect     textinput.Model
	seed       textinput.Model
	count      textinput.Model
	model      int // index into cfg.Generation.Models
	preset     int // index into aspectPresets, or customPreset
	errs       *app.ValidationError
	checked    bool   // a submit was refused: the form is re-checked on every change
	failure    string // a non-field error from the last submit
	submitting bool
	history    []string
	histPos    int // -1 = the draft being typed
	draft      string
	// picker is the open preset picker (ctrl+t, presetpicker.go);
	// presetNote says what the last applied preset changed.
	picker        *presetPicker
	presetNote    string
	presetNoteErr bool
}

func newComposer(cfg app.Config, keys composerKeys) composerModel {
	c := composerModel{keys: keys, cfg: cfg, histPos: -1}
	c.prompt = textarea.New()
	c.prompt.Placeholder = "Describe the image…"
	c.prompt.ShowLineNumbers = false
	c.prompt.CharLimit = 0 // the count shows the 4,000 limit; validation enforces it
	c.prompt.SetHeight(4)
	mk := func(placeholder string, limit int) textinput.Model {
		in := textinput.New()
		in.Prompt = ""
		in.Placeholder = placeholder
		in.CharLimit = limit
		return in
	}
	c.negative = mk("what to avoid (optional)", app.MaxPromptChars+100)
	c.resolution = mk("WxH", 11)
	c.aspect = mk("W:H", 7)
	c.seed = mk("random", 20)
	c.count = mk("1", 2)
	c.reset(app.ParamsInput{})
	return c
}

// reset fills every field from in (a remix) or the defaults.
func (c *composerModel) reset(in app.ParamsInput) {
	c.prompt.SetValue(in.Prompt)
	c.negative.SetValue(in.NegativePrompt)
	c.model = 0
	want := firstNonEmpty(in.Model, c.cfg.Generation.DefaultModel)
	for i, m := range c.cfg.Generation.Models {
		if m == want {
			c.model = i
		}
	}
	res := firstNonEmpty(in.Resolution, c.cfg.Generation.DefaultResolution)
	c.resolution.SetValue(res)
	if w, h, err := app.ParseResolution(res); err == nil {
		c.aspect.SetValue(firstNonEmpty(in.AspectRatio, app.AspectOf(w, h)))
	} else {
		c.aspect.SetValue(in.AspectRatio)
	}
	c.syncPreset()
	c.seed.SetValue("")
	if in.Seed != nil && *in.Seed >= 0 {
		c.seed.SetValue(strconv.FormatInt(*in.Seed, 10))
	}
	c.count.SetValue("1")
	if in.Count > 1 {
		c.count.SetValue(strconv.Itoa(in.Count))
	}
	c.errs, c.failure, c.submitting, c.histPos, c.draft, c.checked = nil, "", false, -1, "", false
	c.picker, c.presetNote, c.presetNoteErr = nil, "", false
	c.setFocus(fieldPrompt)
}

// hasDraft reports whether anything was typed into the prompt: esc keeps
// it, n brings it back, ctrl+c asks before throwing it away.
func (c composerModel) hasDraft() bool {
	return strings.TrimSpace(c.prompt.Value()) != "" || strings.TrimSpace(c.negative.Value()) != ""
}

func (c *composerModel) SetSize(w, h int) {
	c.width, c.height = w, h
	inner := max(w-4, 20)
	c.prompt.SetWidth(inner)
	c.fitPrompt()
	c.negative.SetWidth(max(inner-12, 10))
	c.resolution.SetWidth(11)
	c.aspect.SetWidth(7)
	c.seed.SetWidth(12)
	c.count.SetWidth(3)
}

// setStyles themes every input of the form (the theme turns blinking off:
// a calm screen has no blink ticks and no repaints while idle).
func (c *composerModel) setStyles(s *styles) {
	c.prompt.SetStyles(s.textarea)
	for _, in := range c.inputs() {
		in.SetStyles(s.textinput)
	}
}

func (c *composerModel) setFocus(f composerField) tea.Cmd {
	c.focus = f
	c.prompt.Blur()
	for _, in := range c.inputs() {
		in.Blur()
	}
	switch f {
	case fieldPrompt:
		return c.prompt.Focus()
	case fieldNegative:
		return c.negative.Focus()
	case fieldResolution:
		return c.resolution.Focus()
	case fieldAspect:
		return c.aspect.Focus()
	case fieldSeed:
		return c.seed.Focus()
	case fieldCount:
		return c.count.Focus()
	}
	return nil
}

func (c *composerModel) inputs() []*textinput.Model {
	return []*textinput.Model{&c.negative, &c.resolution, &c.aspect, &c.seed, &c.count}
}

func (c composerModel) Update(msg tea.Msg) (composerModel, tea.Cmd) {
	switch msg := msg.(type) {
	case historyLoadedMsg:
		if msg.err == nil {
			c.history = msg.prompts
		}
		return c, nil
	case tea.KeyPressMsg:
		return c.handleKey(msg)
	case tea.PasteMsg:
		return c.forward(msg)
	}
	return c, nil
}

func (c composerModel) handleKey(msg tea.KeyPressMsg) (composerModel, tea.Cmd) {
	switch {
	case key.Matches(msg, c.keys.Next):
		return c, c.setFocus((c.focus + 1) % fieldCountAll)
	case key.Matches(msg, c.keys.Prev):
		return c, c.setFocus((c.focus + fieldCountAll - 1) % fieldCountAll)
	case key.Matches(msg, c.keys.HistoryPrev):
		return c.browseHistory(1).revalidate(), nil
	case key.Matches(msg, c.keys.HistoryNext):
		return c.browseHistory(-1).revalidate(), nil
	case key.Matches(msg, c.keys.Cycle) && (c.focus == fieldModel || c.focus == fieldPreset):
		step := 1
		if msg.String() == "left" {
			step = -1
		}
		return c.cycle(step).revalidate(), nil
	}
	return c.forward(msg)
}

// forward hands a key or paste to the focused input and keeps resolution
// and aspect ratio consistent both ways.
func (c composerModel) forward(msg tea.Msg) (composerModel, tea.Cmd) {
	var cmd tea.Cmd
	switch c.focus {
	case fieldPrompt:
		c.prompt, cmd = c.prompt.Update(msg)
	case fieldNegative:
		c.negative, cmd = c.negative.Update(msg)
	case fieldResolution:
		before := c.resolution.Value()
		c.resolution, cmd = c.resolution.Update(msg)
		if c.resolution.Value() != before {
			if w, h, err := app.ParseResolution(c.resolution.Value()); err == nil {
				c.aspect.SetValue(app.AspectOf(w, h))
			}
			c.syncPreset()
		}
	case fieldAspect:
		before := c.aspect.Value()
		c.aspect, cmd = c.aspect.Update(msg)
		if c.aspect.Value() != before {
			if aw, ah, err := app.ParseAspect(c.aspect.Value()); err == nil {
				w, h := app.SizeForAspect(aw, ah, c.area())
				c.resolution.SetValue(fmt.Sprintf("%dx%d", w, h))
			}
			c.syncPreset()
		}
	case fieldSeed:
		c.seed, cmd = c.seed.Update(msg)
	case fieldCount:
		c.count, cmd = c.count.Update(msg)
	}
	return c.revalidate(), cmd
}

// area is the pixel count a new aspect keeps: the current resolution's,
// else the configured default's.
func (c composerModel) area() int {
	if w, h, err := app.ParseResolution(c.resolution.Value()); err == nil {
		return w * h
	}
	if w, h, err := app.ParseResolution(c.cfg.Generation.DefaultResolution); err == nil {
		return w * h
	}
	return 1024 * 1024
}

func (c *composerModel) syncPreset() {
	c.preset = customPreset
	aw, ah, err := app.ParseAspect(c.aspect.Value())
	if err != nil {
		return
	}
	for i, p := range aspectPresets {
		pw, ph, _ := app.ParseAspect(p.aspect)
		if pw*ah == ph*aw {
			c.preset = i
		}
	}
}

func (c composerModel) cycle(step int) composerModel {
	if c.focus == fieldModel {
		n := len(c.cfg.Generation.Models)
		if n > 0 {
			c.model = (c.model + step + n) % n
		}
		return c
	}
	n := len(aspectPresets)
	next := 0
	if c.preset != customPreset {
		next = (c.preset + step + n) % n
	}
	c.preset = next
	aw, ah, _ := app.ParseAspect(aspectPresets[next].aspect)
	dw, dh, err := app.ParseResolution(c.cfg.Generation.DefaultResolution)
	if err != nil {
		dw, dh = 1024, 1024
	}
	w, h := app.SizeForAspect(aw, ah, dw*dh)
	c.aspect.SetValue(aspectPresets[next].aspect)
	c.resolution.SetValue(fmt.Sprintf("%dx%d", w, h))
	return c
}

// browseHistory walks stored prompts: +1 is older, -1 newer; walking past
// the newest brings back what was being typed.
func (c composerModel) browseHistory(step int) composerModel {
	if len(c.history) == 0 {
		return c
	}
	if c.histPos == -1 {
		c.draft = c.prompt.Value()
	}
	c.histPos = min(max(c.histPos+step, -1), len(c.history)-1)
	if c.histPos == -1 {
		c.prompt.SetValue(c.draft)
	} else {
		c.prompt.SetValue(c.history[c.histPos])
	}
	return c
}

// validate reads the form and checks it by the app's own rules
// (app.Validate, as the service will), adding only what the form alone can
// get wrong: a seed or count that is not a number. Every problem is
// reported at once.
func (c composerModel) validate() (app.ParamsInput, *app.ValidationError) {
	in := app.ParamsInput{
		Prompt:         c.prompt.Value(),
		NegativePrompt: c.negative.Value(),
		Resolution:     strings.TrimSpace(c.resolution.Value()),
		AspectRatio:    strings.TrimSpace(c.aspect.Value()),
	}
	if len(c.cfg.Generation.Models) > 0 {
		in.Model = c.cfg.Generation.Models[c.model]
	}
	var errs []app.FieldError
	if s := strings.TrimSpace(c.seed.Value()); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs = append(errs, app.FieldError{Field: app.FieldSeed, Message: fmt.Sprintf("seed %q: must be between 0 and %d, or -1 (or empty) for random", s, int64(app.MaxSeed))})
		} else {
			in.Seed = &v
		}
	}
	if s := strings.TrimSpace(c.count.Value()); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, app.FieldError{Field: app.FieldCount, Message: fmt.Sprintf("count %q: must be between 1 and %d", s, app.MaxCount)})
		} else {
			in.Count = v
		}
	}
	_, err := app.Validate(in, c.cfg.Defaults(), func() uint32 { return 0 })
	var ve *app.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			if !slices.ContainsFunc(errs, func(e app.FieldError) bool { return e.Field == f.Field }) {
				errs = append(errs, f)
			}
		}
	}
	if len(errs) > 0 {
		return in, &app.ValidationError{Fields: errs}
	}
	return in, nil
}

// fitPrompt gives the prompt the height the other fields leave: eight
// lines, and at least two kept for error messages (more when the shown
// problems wrap onto more), up to 15 lines, so no field is pushed off.
func (c *composerModel) fitPrompt() {
	errLines := 0
	if c.errs != nil {
		for _, f := range c.errs.Fields {
			errLines += len(wrap(f.Message, c.width-6))
		}
	}
	c.prompt.SetHeight(min(max(c.height-8-max(errLines, 2), 2), 15))
}

// revalidate refreshes the problems shown once a submit was refused, so a
// fix (typed or pasted) clears its message at once.
func (c composerModel) revalidate() composerModel {
	if c.checked {
		_, c.errs = c.validate()
		c.fitPrompt()
	}
	return c
}

// failed records why a submit was refused: field errors go inline.
func (c composerModel) failed(err error) composerModel {
	c.submitting = false
	var ve *app.ValidationError
	if errors.As(err, &ve) {
		c.errs, c.failure, c.checked = ve, "", true
		c.fitPrompt()
		return c
	}
	c.errs, c.failure = nil, errText(err)
	c.fitPrompt()
	return c
}
