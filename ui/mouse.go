package ui

import (
	tea "charm.land/bubbletea/v2"
)

// Mouse clicks are resolved against the areas the last frame drew
// (tea.View.OnMouse), not by re-deriving rows from the layout: what was
// clicked is what was on screen.

type hitArea struct {
	x0, y0, x1, y1 int // half-open: x0 <= x < x1, y0 <= y < y1
	msg            tea.Msg
}

// hitAreas lists the clickable parts of the main screen: the filter tabs,
// the visible rows and the detail pane.
func (m Model) hitAreas() []hitArea {
	if m.screen != screenMain || m.confirm != nil || m.width < minWidth || m.height < minHeight {
		return nil
	}
	top := headerHeight
	_, spans := m.list.tabLayout(m.styles)
	areas := make([]hitArea, 0, len(spans)+m.list.visibleRows()+1)
	for _, sp := range spans {
		areas = append(areas, hitArea{x0: sp.x0, y0: top, x1: sp.x1, y1: top + 1, msg: tabClickedMsg{filter: sp.filter}})
	}
	y := top + m.list.rowsTop()
	end := min(m.list.offset+m.list.visibleRows(), len(m.list.rows))
	for i := m.list.offset; i < end; i, y = i+1, y+1 {
		areas = append(areas, hitArea{x0: 0, y0: y, x1: m.list.width, y1: y + 1, msg: rowClickedMsg{index: i}})
	}
	if m.wide() {
		areas = append(areas, hitArea{x0: m.listWidth(), y0: top, x1: m.width, y1: top + m.bodyHeight(), msg: paneClickedMsg{}})
	}
	return areas
}

// clickHandler turns a left click inside an area into that area's message.
func clickHandler(areas []hitArea) func(tea.MouseMsg) tea.Cmd {
	if len(areas) == 0 {
		return nil
	}
	return func(msg tea.MouseMsg) tea.Cmd {
		click, ok := msg.(tea.MouseClickMsg)
		if !ok || click.Button != tea.MouseLeft {
			return nil
		}
		for _, a := range areas {
			if click.X >= a.x0 && click.X < a.x1 && click.Y >= a.y0 && click.Y < a.y1 {
				return clickedCmd(a.msg)
			}
		}
		return nil
	}
}

func (m Model) handleTabClicked(msg tabClickedMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.list, cmd = m.list.setFilterTo(msg.filter)
	return m, cmd
}

func (m Model) handleRowClicked(msg rowClickedMsg) (Model, tea.Cmd) {
	m.focus = focusList
	m.list = m.list.selectRow(msg.index)
	m, sel := m.followSelection()
	return m, tea.Batch(sel, m.spinCmd())
}
