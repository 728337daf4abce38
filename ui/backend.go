package ui

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Service is the part of the request service the dashboard calls. It is
// declared here (not imported) so tests can drive the UI with a fake; the
// real app service satisfies it.
type Service interface {
	Submit(ctx context.Context, in app.ParamsInput) ([]app.Request, error)
	Retry(ctx context.Context, id string) (app.Request, error)
	Cancel(ctx context.Context, id string) (app.Request, error)
	Delete(ctx context.Context, id string) error
	// UndoDelete and UndoCancel take back a delete or a cancel made less
	// than app.UndoWindow ago (see app.Service).
	UndoDelete(ctx context.Context, id string) (app.Request, error)
	UndoCancel(ctx context.Context, id string) (app.Request, error)
	// Remix returns a request's parameters with a fresh seed; ReuseSeed
	// the same with the seed locked. Both pre-fill the composer.
	Remix(ctx context.Context, id string) (app.ParamsInput, error)
	ReuseSeed(ctx context.Context, id string) (app.ParamsInput, error)
	// The pick of the keepers (issue 14): a star and a verdict per image,
	// and "more like this" (four seeds after the image's, or fresh ones).
	SetFavorite(ctx context.Context, imageID int64, on bool) (app.Image, error)
	SetApproval(ctx context.Context, imageID int64, a app.Approval) (app.Image, error)
	Vary(ctx context.Context, imageID int64) ([]app.Request, error)
	Reroll(ctx context.Context, imageID int64) ([]app.Request, error)
}

// The real service is what the dashboard drives.
var _ Service = (*app.Service)(nil)

// ERPChecker tests the Odoo connection (app.ERP satisfies it).
type ERPChecker interface {
	Check(ctx context.Context) (app.ERPCheck, error)
}

// ListenerStatus is what the header and the admin panel say about the
// callback listener; main fills it from the running listener.
type ListenerStatus = app.ListenerStatus

// Backend is everything the dashboard needs from the rest of the program.
type Backend struct {
	Store   app.Store
	Service Service
	Secrets app.Secrets
	Bus     *app.Bus
	Config  app.Config
	Profile string
	Demo    bool
	// SecretsInMemory says the secrets live in this process only (the demo
	// without a Secret Service); the header says so, since they vanish on quit.
	SecretsInMemory bool
	Clock           app.Clock
	Log             *slog.Logger

	// Listener reports the listener's state; it must be cheap and
	// non-blocking (it is called from a Cmd on every header refresh).
	Listener func() ListenerStatus
	// ERP tests the Odoo connection; nil when Odoo is not configured.
	ERP ERPChecker
	// OpenImage shows a file in the system viewer; nil uses xdg-open, open
	// or start depending on the OS.
	OpenImage func(ctx context.Context, path string) error
	// Getenv reads the environment (NO_COLOR, TERM, …); nil uses os.Getenv.
	Getenv func(string) string
	// User is the team member of a session on the shared host (serve
	// --ssh); zero for the local dashboard. Service calls carry it in their
	// context (requested_by, who cancelled/deleted), staff cannot open the
	// admin screen, and the list offers the mine/all toggle (m).
	User app.Actor
	// N8NAdmin builds n8n's public-API admin (main wires n8n.NewManager)
	// and returns nil, nil while no n8n-admin-key is set. It reads the
	// keyring, so it is called from Cmds only. A nil func: no n8n admin,
	// so no rotation push and no "why did it fail" in the detail.
	N8NAdmin func(ctx context.Context) (app.N8NAdmin, error)
	// Team is the team scope (T) and the header's Odoo queue count; nil
	// while Odoo is not configured (T then says so).
	Team *TeamBackend
	// ExportDir is where E in the grid exports to (a new folder per
	// export); "" is "influencegen-exports" in the home folder.
	ExportDir string
	// Presets is presets.toml (store.PresetFile) for the composer's ctrl+t
	// picker; nil: no presets here.
	Presets app.PresetBook
	// TokenGrace is how long the previous callback token stays valid after
	// a rotation; 0 means 15 minutes.
	TokenGrace time.Duration
}

func (b *Backend) fillDefaults() {
	if b.Clock == nil {
		b.Clock = app.SystemClock{}
	}
	if b.Log == nil {
		b.Log = slog.New(slog.DiscardHandler)
	}
	if b.Getenv == nil {
		b.Getenv = os.Getenv
	}
	if b.Listener == nil {
		b.Listener = func() ListenerStatus { return ListenerStatus{} }
	}
	if b.OpenImage == nil {
		b.OpenImage = openInSystemViewer
	}
	if b.TokenGrace <= 0 {
		b.TokenGrace = 15 * time.Minute
	}
	if b.Profile == "" {
		b.Profile = "default"
	}
}
