package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
)

// status --search takes the dashboard's search syntax: free text and
// qualifiers narrow the list and its counts; a bad qualifier is a usage
// error (exit 2) that names the word.
func TestStatusSearchUsesTheDashboardSyntax(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	for _, args := range [][]string{
		{"--prompt", "a red fox in deep snow", "--seed", "7"},
		{"--prompt", "a red fox at dusk", "--seed", "8", "--model", "flux-dev"},
		{"--prompt", "a blue whale", "--seed", "9"},
	} {
		if _, _, code := r.run(t, append([]string{"generate", "--json"}, args...)...); code != 0 {
			t.Fatalf("generate %v: exit %d", args, code)
		}
	}
	out, _, code := r.run(t, "status", "--search", "red fox model:flux-dev")
	if code != 0 || !strings.Contains(out, "a red fox at dusk") || strings.Contains(out, "deep snow") ||
		strings.Contains(out, "whale") || !strings.Contains(out, "processing 1") {
		t.Errorf("status --search 'red fox model:flux-dev' (exit %d):\n%s", code, out)
	}
	out, _, code = r.run(t, "status", "--search", "seed:9")
	if code != 0 || !strings.Contains(out, "whale") || strings.Contains(out, "fox") {
		t.Errorf("status --search seed:9 (exit %d):\n%s", code, out)
	}
	out, _, code = r.run(t, "status", "--search", "is:failed")
	if code != 0 || !strings.Contains(out, `No requests match the search "is:failed"`) {
		t.Errorf("status --search is:failed (exit %d):\n%s", code, out)
	}
	_, errOut, code := r.run(t, "status", "--search", "colour:red")
	if code != 2 || !strings.Contains(errOut, `unknown qualifier "colour:"`) {
		t.Errorf("status --search colour:red: exit %d, stderr:\n%s", code, errOut)
	}
}

// A deleted request (in its undo window) leaves `status`, and `status ID`
// says it is deleted.
func TestStatusHidesADeletedRequestAndSaysSoForItsID(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, _, code := r.run(t, "generate", "--prompt", "a red fox", "--json")
	if code != 0 {
		t.Fatalf("generate: exit %d", code)
	}
	id := decodeResults(t, out)[0].ID
	db, err := store.Open(t.Context(), filepath.Join(r.home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.SoftDeleteRequest(t.Context(), id)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if list, _, _ := r.run(t, "status"); strings.Contains(list, id) {
		t.Fatalf("status lists a deleted request:\n%s", list)
	}
	if one, _, code := r.run(t, "status", id); code != 0 || !strings.Contains(one, "hidden from lists") {
		t.Fatalf("status ID of a deleted request (exit %d):\n%s", code, one)
	}
}
