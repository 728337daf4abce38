package n8n

import (
	"context"
	"sort"

	"github.com/influencegen/influencegen/app"
)

// Status implements app.N8NAdmin: each check is a step, and the first one
// that makes the rest meaningless ends the run with its error.
func (m *Manager) Status(ctx context.Context, webhookURL string, step func(app.N8NStep)) ([]app.N8NExecution, error) {
	if _, err := m.admin.Workflows(ctx); err != nil {
		step(app.N8NStep{Name: "n8n reachable, admin key accepted", Detail: err.Error(), Fix: "check the URL and `influencegen secrets set n8n-admin-key`"})
		return nil, err
	}
	step(app.N8NStep{Name: "n8n reachable, admin key accepted", OK: true, Detail: m.admin.BaseURL()})
	rec, err := loadRecord(ctx, m.settings)
	if err == nil && rec.WorkflowID == "" {
		err = app.Errorf(app.ENOTFOUND, "no workflow was set up from this profile")
	}
	if err != nil {
		step(app.N8NStep{Name: "workflow", Detail: err.Error(), Fix: "influencegen n8n setup --n8n-url URL --provider NAME"})
		return nil, err
	}
	state, err := m.admin.GetWorkflow(ctx, rec.WorkflowID)
	if err != nil {
		step(app.N8NStep{Name: "workflow", Detail: err.Error(), Fix: "re-run `influencegen n8n setup` to re-create it"})
		return nil, err
	}
	step(app.N8NStep{Name: "workflow", OK: true, Detail: app.CleanLine(state.Name) + " (" + rec.Provider + ") " + m.admin.EditorURL(state.ID, "")})
	var failed error
	check := func(name string, err error, fix string) {
		if err != nil {
			step(app.N8NStep{Name: name, Detail: err.Error(), Fix: fix})
			if failed == nil {
				failed = err
			}
			return
		}
		step(app.N8NStep{Name: name, OK: true})
	}
	var activeErr error
	if !state.Active {
		activeErr = app.Errorf(app.EUNAVAILABLE, "the workflow is not active: its webhook answers 404")
	}
	check("active", activeErr, "re-run `influencegen n8n setup`, or activate it in n8n's editor")
	if state.Active {
		check("credentials bound", m.verifyBound(ctx, state.ID, rec.Credentials), "re-run `influencegen n8n setup`")
	}
	want := m.admin.BaseURL() + "/webhook/" + rec.WebhookPath
	var urlErr error
	if webhookURL != want {
		urlErr = app.Errorf(app.EINVALID, "n8n.webhook_url is %q, the workflow listens on %q", webhookURL, want)
	}
	check("webhook URL matches the config", urlErr, "influencegen config set n8n.webhook_url "+want)

	list, err := m.admin.Executions(ctx, state.ID, 5)
	if err != nil {
		check("recent runs", err, "")
		return nil, failed
	}
	runs := make([]app.N8NExecution, 0, len(list))
	for _, e := range list {
		runs = append(runs, app.N8NExecution{ID: string(e.ID), WorkflowID: string(e.WorkflowID), Status: app.ClipText(app.CleanLine(e.Status), 40),
			StartedAt: e.StartedAt, StoppedAt: e.StoppedAt, EditorURL: m.admin.EditorURL(state.ID, string(e.ID))})
	}
	return runs, failed
}

// Remove implements app.N8NAdmin: what is already gone counts as removed,
// so a half-finished remove can be run again.
func (m *Manager) Remove(ctx context.Context, step func(app.N8NStep)) error {
	rec, err := loadRecord(ctx, m.settings)
	if err != nil {
		return err
	}
	gone := func(err error) bool { return err == nil || app.ErrorCode(err) == app.ENOTFOUND }
	if rec.WorkflowID != "" {
		if err := m.admin.DeleteWorkflow(ctx, rec.WorkflowID); !gone(err) {
			step(app.N8NStep{Name: "delete workflow " + rec.WorkflowID, Detail: err.Error()})
			return err
		}
		step(app.N8NStep{Name: "delete workflow " + rec.WorkflowID, OK: true})
		rec.WorkflowID = ""
		if err := m.saveRecord(ctx, rec); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(rec.Credentials))
	for name := range rec.Credentials {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		id := rec.Credentials[name]
		if err := m.admin.DeleteCredential(ctx, id); !gone(err) {
			step(app.N8NStep{Name: "delete credential " + name, Detail: err.Error()})
			return err
		}
		step(app.N8NStep{Name: "delete credential " + name, OK: true})
		delete(rec.Credentials, name)
		if err := m.saveRecord(ctx, rec); err != nil {
			return err
		}
	}
	return m.settings.SetSetting(ctx, settingN8NSetup, "")
}
