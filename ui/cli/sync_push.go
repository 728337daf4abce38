package cli

import (
	"context"
	"fmt"

	"github.com/influencegen/influencegen/app"
)

// pushCallbackToken writes a freshly rotated callback token to the Odoo
// system parameter the seed kept it in (`secrets rotate callback-token
// --push-odoo`). The token is already active locally when this runs, so
// every failure says so: the person must not think the rotation failed.
func pushCallbackToken(ctx context.Context, env *Env, token string) error {
	cfg, _, err := env.Config()
	if err != nil {
		return err
	}
	if !cfg.OdooEnabled() {
		return app.ReasonErrorf(app.ENOTCONFIGURED, "odoo_not_configured",
			"the new callback token is active locally; --push-odoo needs odoo.url (influencegen config set odoo.url https://odoo.example.com)")
	}
	if env.Wiring.NewERP == nil {
		return app.Errorf(app.ENOTCONFIGURED, "the new callback token is active locally; pushing it to Odoo is not available in this build")
	}
	p, err := env.Open(ctx)
	if err != nil {
		return err
	}
	erp, err := env.Wiring.NewERP(cfg, p.Secrets, p.Store, p.Log)
	if err != nil {
		return err
	}
	if err := erp.PushCallbackToken(ctx, token); err != nil {
		if app.ErrorReason(err) == app.ReasonOdooAccess {
			return err // already says the token is active locally and who may set it
		}
		return &app.Error{Code: app.ErrorCode(err), Reason: app.ErrorReason(err), Err: err,
			Message: fmt.Sprintf("the new callback token is active locally, but pushing it to Odoo failed: %s", app.ErrorMessage(err))}
	}
	return nil
}
