package odoo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
)

// An addon 19.0.1.2.0 syncs requests and images but would park every
// decision: doctor names the upgrade before that happens.
func TestCheckAsksToUpgradeAnAddonWithoutCuration(t *testing.T) {
	fake := odootest.New(t, odootest.Config{NoCuration: true})
	erp := newERP(t, fake, nil)
	res, err := erp.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		if it.Name == "addon" {
			if it.OK || it.Reason != app.ReasonOdooAddonOutdated || !strings.Contains(it.Detail, odoo.DecideMethod) || !strings.Contains(it.Detail, odoo.AddonVersion) {
				t.Fatalf("addon check = %+v, want the upgrade to %s named", it, odoo.AddonVersion)
			}
			return
		}
	}
	t.Fatalf("no addon check in %+v", res.Items)
}
