package app

import (
	"context"
	"time"
)

// AuditedSecrets records in the activity log who changed a secret on a
// shared host: the admin screen calls Secrets directly, so the record is
// made here rather than in every caller. Values never reach the log: only
// the secret's name and the actor.
type AuditedSecrets struct {
	Secrets
	Store Store
	Bus   *Bus // may be nil
	Clock Clock
}

func (a AuditedSecrets) record(ctx context.Context, kind, msg string) {
	if name, ok := ActorFrom(ctx); ok {
		msg += " by " + name.Name
	}
	now := time.Now()
	if a.Clock != nil {
		now = a.Clock.Now()
	}
	// The change is made already; a lost audit row must not undo it.
	if err := a.Store.AppendActivity(ctx, Activity{Kind: kind, Level: LevelInfo, Message: msg, CreatedAt: now.UTC()}); err == nil {
		a.Bus.Publish(Event{Kind: EventActivity})
	}
}

// Set stores the secret, then records who set it.
func (a AuditedSecrets) Set(ctx context.Context, name, value string) error {
	if err := a.Secrets.Set(ctx, name, value); err != nil {
		return err
	}
	a.record(ctx, ActivitySecretChanged, "secret "+name+" set")
	return nil
}

// Delete removes the secret, then records who removed it.
func (a AuditedSecrets) Delete(ctx context.Context, name string) error {
	if err := a.Secrets.Delete(ctx, name); err != nil {
		return err
	}
	a.record(ctx, ActivitySecretChanged, "secret "+name+" deleted")
	return nil
}

// RotateCallbackToken rotates, then records who rotated.
func (a AuditedSecrets) RotateCallbackToken(ctx context.Context, grace time.Duration) (string, time.Time, error) {
	token, expires, err := a.Secrets.RotateCallbackToken(ctx, grace)
	if err != nil {
		return "", time.Time{}, err
	}
	a.record(ctx, ActivityTokenRotated, "callback token rotated")
	return token, expires, nil
}
