package ui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"
)

// Run shows the dashboard until the user quits or ctx ends. It writes
// nothing to stdout/stderr itself; the caller must have pointed every
// logger (including http.Server.ErrorLog) at a file before calling it.
func Run(ctx context.Context, b Backend, opts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the bus subscription
	m := New(ctx, b)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)...)
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}
