package sshd

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// vtScreen is the client side's screen: a small terminal emulator fed with
// a session's output, so the load harness can tell when a frame showing a
// key's effect has actually arrived. Searching the raw byte stream cannot:
// the renderer moves the cursor, repeats and erases characters and skips
// cells that already hold the right character, so words on screen are
// rarely contiguous in the stream.
//
// It knows what Bubble Tea's renderer sends to an xterm-256color client
// (cursor moves, erases, insert/delete of characters and lines, scroll
// regions, REP, tabs, autowrap); colours and modes other than the
// alternate screen and autowrap do not change the text and are ignored.
type vtScreen struct {
	w, h       int
	cells      [][]rune
	x, y       int
	wrapNext   bool // a character in the last column: the next one wraps
	autowrap   bool
	top, bot   int // scroll region, inclusive
	savedX     int
	savedY     int
	lastPrint  rune
	parser     *ansi.Parser
	unhandled  map[string]int // CSI finals we do not model, for the harness's report
	frameBytes int            // bytes fed so far
}

func newVTScreen(w, h int) *vtScreen {
	s := &vtScreen{w: w, h: h, autowrap: true, unhandled: map[string]int{}}
	s.cells = make([][]rune, h)
	for i := range s.cells {
		s.cells[i] = make([]rune, w)
	}
	s.reset()
	s.parser = ansi.NewParser()
	s.parser.SetHandler(ansi.Handler{
		Print:     s.print,
		Execute:   s.execute,
		HandleCsi: s.csi,
		HandleEsc: s.esc,
	})
	return s
}

func (s *vtScreen) reset() {
	s.x, s.y, s.wrapNext, s.top, s.bot = 0, 0, false, 0, s.h-1
	s.eraseRows(0, s.h-1)
}

// feed parses the next bytes of output; sequences may be split across calls.
func (s *vtScreen) feed(b []byte) {
	s.frameBytes += len(b)
	s.parser.Parse(b)
}

// text is the screen, one line per row, trailing blanks trimmed.
func (s *vtScreen) text() string {
	var b strings.Builder
	for _, row := range s.cells {
		line := strings.TrimRight(string(row), " \x00")
		b.WriteString(strings.ReplaceAll(line, "\x00", ""))
		b.WriteByte('\n')
	}
	return b.String()
}

// contains reports whether any row holds want (wide characters' second
// cells are skipped, so the text reads as the terminal shows it).
func (s *vtScreen) contains(want string) bool {
	for _, row := range s.cells {
		if strings.Contains(strings.ReplaceAll(string(row), "\x00", ""), want) {
			return true
		}
	}
	return false
}

func (s *vtScreen) print(r rune) {
	width := ansi.StringWidth(string(r))
	if width == 0 {
		return // a combining mark: the cell keeps its base character
	}
	if s.wrapNext && s.autowrap {
		s.x, s.wrapNext = 0, false
		s.lineFeed()
	}
	if s.x+width > s.w {
		if !s.autowrap {
			s.x = s.w - width
		} else {
			s.x = 0
			s.lineFeed()
		}
	}
	s.cells[s.y][s.x] = r
	if width == 2 && s.x+1 < s.w {
		s.cells[s.y][s.x+1] = 0 // the wide character's second half
	}
	s.lastPrint = r
	s.x += width
	if s.x >= s.w {
		s.x, s.wrapNext = s.w-1, true
	}
}

func (s *vtScreen) execute(b byte) {
	switch b {
	case '\r':
		s.x, s.wrapNext = 0, false
	case '\n', '\v', '\f':
		s.wrapNext = false
		s.lineFeed()
	case '\b':
		s.wrapNext = false
		s.x = max(0, s.x-1)
	case '\t':
		s.x = min(s.w-1, (s.x/8+1)*8)
	}
}

func (s *vtScreen) lineFeed() {
	if s.y == s.bot {
		s.scrollUp(1)
		return
	}
	s.y = min(s.h-1, s.y+1)
}

func (s *vtScreen) scrollUp(n int) {
	for range n {
		first := s.cells[s.top]
		copy(s.cells[s.top:s.bot], s.cells[s.top+1:s.bot+1])
		s.cells[s.bot] = first
		s.eraseRows(s.bot, s.bot)
	}
}

func (s *vtScreen) scrollDown(n int) {
	for range n {
		last := s.cells[s.bot]
		copy(s.cells[s.top+1:s.bot+1], s.cells[s.top:s.bot])
		s.cells[s.top] = last
		s.eraseRows(s.top, s.top)
	}
}

func (s *vtScreen) eraseRows(from, to int) {
	for y := max(0, from); y <= min(s.h-1, to); y++ {
		s.eraseCells(y, 0, s.w)
	}
}

func (s *vtScreen) eraseCells(y, from, to int) {
	row := s.cells[y]
	for x := max(0, from); x < min(s.w, to); x++ {
		row[x] = ' '
	}
}

func (s *vtScreen) moveTo(x, y int) {
	s.x, s.y, s.wrapNext = max(0, min(s.w-1, x)), max(0, min(s.h-1, y)), false
}

func (s *vtScreen) esc(cmd ansi.Cmd) {
	switch cmd.Final() {
	case 'M': // RI
		if s.y == s.top {
			s.scrollDown(1)
		} else {
			s.y = max(0, s.y-1)
		}
	case 'D': // IND
		s.lineFeed()
	case 'E': // NEL
		s.x = 0
		s.lineFeed()
	case '7':
		s.savedX, s.savedY = s.x, s.y
	case '8':
		s.moveTo(s.savedX, s.savedY)
	case 'c':
		s.reset()
	}
}

func (s *vtScreen) csi(cmd ansi.Cmd, params ansi.Params) {
	n := func(i, def int) int {
		v, _, _ := params.Param(i, def)
		if v == 0 {
			v = def
		}
		return v
	}
	if cmd.Prefix() == '?' {
		switch cmd.Final() {
		case 'h', 'l':
			on := cmd.Final() == 'h'
			params.ForEach(0, func(_, mode int, _ bool) {
				switch mode {
				case 7:
					s.autowrap = on
				case 1049, 47, 1047:
					s.reset()
				}
			})
		}
		return
	}
	if cmd.Prefix() != 0 || cmd.Intermediate() != 0 {
		return // queries, cursor styles, keyboard modes: no text
	}
	switch cmd.Final() {
	case 'm': // colours and attributes
	case 'A':
		s.moveTo(s.x, s.y-n(0, 1))
	case 'B':
		s.moveTo(s.x, s.y+n(0, 1))
	case 'C':
		s.moveTo(s.x+n(0, 1), s.y)
	case 'D':
		s.moveTo(s.x-n(0, 1), s.y)
	case 'E':
		s.moveTo(0, s.y+n(0, 1))
	case 'F':
		s.moveTo(0, s.y-n(0, 1))
	case 'G', '`':
		s.moveTo(n(0, 1)-1, s.y)
	case 'd':
		s.moveTo(s.x, n(0, 1)-1)
	case 'H', 'f':
		s.moveTo(n(1, 1)-1, n(0, 1)-1)
	case 'I':
		s.moveTo((s.x/8+n(0, 1))*8, s.y)
	case 'Z':
		s.moveTo(((s.x+7)/8-n(0, 1))*8, s.y)
	case 'J':
		switch n(0, 0) {
		case 0:
			s.eraseCells(s.y, s.x, s.w)
			s.eraseRows(s.y+1, s.h-1)
		case 1:
			s.eraseRows(0, s.y-1)
			s.eraseCells(s.y, 0, s.x+1)
		default:
			s.eraseRows(0, s.h-1)
		}
	case 'K':
		switch n(0, 0) {
		case 0:
			s.eraseCells(s.y, s.x, s.w)
		case 1:
			s.eraseCells(s.y, 0, s.x+1)
		default:
			s.eraseCells(s.y, 0, s.w)
		}
		s.wrapNext = false
	case 'X':
		s.eraseCells(s.y, s.x, s.x+n(0, 1))
		s.wrapNext = false
	case '@':
		row, k := s.cells[s.y], min(n(0, 1), s.w-s.x)
		copy(row[s.x+k:], row[s.x:s.w-k])
		s.eraseCells(s.y, s.x, s.x+k)
		s.wrapNext = false
	case 'P':
		row, k := s.cells[s.y], min(n(0, 1), s.w-s.x)
		copy(row[s.x:], row[s.x+k:])
		s.eraseCells(s.y, s.w-k, s.w)
		s.wrapNext = false
	case 'L', 'M':
		if s.y < s.top || s.y > s.bot {
			return
		}
		top := s.top
		s.top = s.y
		if cmd.Final() == 'L' {
			s.scrollDown(min(n(0, 1), s.bot-s.y+1))
		} else {
			s.scrollUp(min(n(0, 1), s.bot-s.y+1))
		}
		s.top = top
		s.x, s.wrapNext = 0, false
	case 'S':
		s.scrollUp(min(n(0, 1), s.bot-s.top+1))
	case 'T':
		s.scrollDown(min(n(0, 1), s.bot-s.top+1))
	case 'b':
		if s.lastPrint != 0 {
			for range n(0, 1) {
				s.print(s.lastPrint)
			}
		}
	case 'r':
		top, bot := n(0, 1)-1, n(1, s.h)-1
		if top < bot && bot < s.h {
			s.top, s.bot = top, bot
		}
		s.moveTo(0, 0)
	default:
		s.unhandled[string(cmd.Final())]++
	}
}

// onScreen feeds output to the screen model and, the moment the screen
// first shows what a pending screenShows call waits for, records the time:
// in the reader itself, so the waiter's own scheduling is not measured.
func (tm *terminal) onScreen(b []byte) {
	at := time.Now()
	tm.screenMu.Lock()
	defer tm.screenMu.Unlock()
	tm.vt.feed(b)
	if tm.expect != nil && tm.expect(tm.vt) {
		tm.expect = nil
		tm.shownAt <- at
	}
}

// screenShows sends keys and waits until the client's screen shows what
// shows looks for, returning the time from the key's write to the arrival
// of the output that made it so. ok is false when it did not happen within
// limit, or when the screen showed it already before the key (a harness
// error: nothing would be measured).
func (tm *terminal) screenShows(keys string, shows func(*vtScreen) bool, limit time.Duration) (took time.Duration, ok bool) {
	tm.screenMu.Lock()
	if shows(tm.vt) {
		tm.screenMu.Unlock()
		return 0, false
	}
	tm.expect = shows
	tm.screenMu.Unlock()
	at := time.Now()
	tm.send(keys)
	select {
	case shown := <-tm.shownAt:
		return shown.Sub(at), true
	case <-time.After(limit):
		tm.screenMu.Lock()
		defer tm.screenMu.Unlock()
		if tm.expect == nil { // shown just now
			return (<-tm.shownAt).Sub(at), true
		}
		tm.expect = nil
		return limit, false
	}
}

// waitScreen waits until the screen shows what shows looks for.
func (tm *terminal) waitScreen(shows func(*vtScreen) bool, limit time.Duration) bool {
	tm.screenMu.Lock()
	if shows(tm.vt) {
		tm.screenMu.Unlock()
		return true
	}
	tm.expect = shows
	tm.screenMu.Unlock()
	select {
	case <-tm.shownAt:
		return true
	case <-time.After(limit):
		tm.screenMu.Lock()
		defer tm.screenMu.Unlock()
		if tm.expect == nil { // shown just now
			<-tm.shownAt
			return true
		}
		tm.expect = nil
		return false
	}
}

// screenText is the client's screen now.
func (tm *terminal) screenText() string {
	tm.screenMu.Lock()
	defer tm.screenMu.Unlock()
	return tm.vt.text()
}
