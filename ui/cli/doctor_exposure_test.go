package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// Issue 10 §16: a 3-character callback token showed ✓ in doctor, and an
// all-interfaces bind went without a word.
func TestDoctorWarnsAboutAWeakTokenAndAnOpenBind(t *testing.T) {
	r := newNewcomerRig(t)
	_, port, _ := strings.Cut(r.environ["INFLUENCEGEN_CALLBACK_LISTEN"], ":")
	r.environ["INFLUENCEGEN_CALLBACK_LISTEN"] = "0.0.0.0:" + port
	r.environ["INFLUENCEGEN_CALLBACK_TOKEN"] = "abc"
	_, out, errOut := r.run("doctor", "--json")
	var report app.DoctorReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("--json is not one JSON document: %v\n%s\n%s", err, out, errOut)
	}
	got := map[string]app.Check{}
	for _, c := range report.Checks {
		got[c.Name] = c
		if strings.Contains(c.Detail, "abc") {
			t.Errorf("the token leaked into %s: %q", c.Name, c.Detail)
		}
	}
	if c := got["callback-token strength"]; c.State != app.CheckWarn || !strings.Contains(c.Detail, "below 128 bits") || !strings.Contains(c.Remedy, "rotate callback-token") {
		t.Errorf("callback-token strength = %+v, want a warning with the rotate remedy", c)
	}
	if c := got["listen exposure"]; c.State != app.CheckWarn || !strings.Contains(c.Detail, "every network interface") {
		t.Errorf("listen exposure = %+v, want a warning", c)
	}
}
