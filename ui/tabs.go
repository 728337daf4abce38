package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/influencegen/influencegen/app"
)

// The state filter bar. It never cuts the active tab: labels shorten first
// (counts go, then names shorten), and when even that is too wide it
// becomes a carousel around the active tab with ‹ › marking hidden tabs
// (as gh-dash does).

var (
	tabNames      = []string{"All", "Queued", "Sending", "Processing", "Completed", "Failed", "Init failed", "Timed out", "Cancelled"}
	tabShortNames = []string{"All", "Queue", "Send", "Proc", "Done", "Fail", "Init", "Timeout", "Cancel"}
)

const tabSep = " │ "

// tabSpan is where one tab was drawn on the tab line, for clicks.
type tabSpan struct{ x0, x1, filter int }

func (l listModel) tabCount(i int) int {
	if i == 0 {
		total := 0
		for _, n := range l.counts {
			total += n
		}
		return total
	}
	return l.counts[app.Statuses[i-1]]
}

// tabLabel is tab i's text at a level of shortening: 0 full, 1 counts only
// on the active tab, 2 short names too.
func (l listModel) tabLabel(i, level int) string {
	name := tabNames[i]
	if level >= 2 {
		name = tabShortNames[i]
	}
	if level == 0 || i == l.filter {
		return fmt.Sprintf("%d %s %d", i, name, l.tabCount(i))
	}
	return fmt.Sprintf("%d %s", i, name)
}

// tabLayout picks the longest labels that fit and, if none do, the window
// of tabs around the active one; it returns the styled line (exactly
// l.width cells) and where each tab sits.
func (l listModel) tabLayout(s *styles) (string, []tabSpan) {
	n := len(tabNames)
	sepW := lipgloss.Width(tabSep)
	for level := 0; level <= 2; level++ {
		labels := make([]string, n)
		total := sepW * (n - 1)
		for i := range n {
			labels[i] = l.tabLabel(i, level)
			total += lipgloss.Width(labels[i])
		}
		if total <= l.width || level == 2 {
			if total <= l.width {
				return l.renderTabs(s, labels, 0, n)
			}
			return l.carousel(s, labels)
		}
	}
	return "", nil
}

// carousel grows a window from the active tab, right then left, keeping
// room for the ‹ › marks.
func (l listModel) carousel(s *styles, labels []string) (string, []tabSpan) {
	n := len(labels)
	width := func(from, to int) int {
		w := 0
		for i := from; i < to; i++ {
			w += lipgloss.Width(labels[i])
		}
		w += lipgloss.Width(tabSep) * (to - from - 1)
		if from > 0 {
			w += 2
		}
		if to < n {
			w += 2
		}
		return w
	}
	from, to := l.filter, l.filter+1
	for grown := true; grown; {
		grown = false
		if to < n && width(from, to+1) <= l.width {
			to, grown = to+1, true
		}
		if from > 0 && width(from-1, to) <= l.width {
			from, grown = from-1, true
		}
	}
	return l.renderTabs(s, labels, from, to)
}

func (l listModel) renderTabs(s *styles, labels []string, from, to int) (string, []tabSpan) {
	var b strings.Builder
	var spans []tabSpan
	x := 0
	if from > 0 {
		b.WriteString(s.accent.Render("‹ "))
		x += 2
	}
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(s.muted.Render(tabSep))
			x += lipgloss.Width(tabSep)
		}
		st := s.tab
		if i == l.filter {
			st = s.tabActive
		}
		b.WriteString(st.Render(labels[i]))
		w := lipgloss.Width(labels[i])
		spans = append(spans, tabSpan{x0: x, x1: x + w, filter: i})
		x += w
	}
	if to < len(labels) {
		b.WriteString(s.accent.Render(" ›"))
	}
	return padRight(truncate(b.String(), l.width), l.width), spans
}

func (l listModel) tabsView(s *styles) string {
	line, _ := l.tabLayout(s)
	return line
}
