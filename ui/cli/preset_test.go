package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/n8n/n8ntest"
)

func TestPresetCommandsSaveListShowAndDelete(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, _, code := r.run(t, "preset", "list")
	if code != 0 || !strings.Contains(out, "Instagram post 4:5") || !strings.Contains(out, "aspect_ratio 9:16") {
		t.Fatalf("preset list without a file (exit %d):\n%s", code, out)
	}
	out, errOut, code := r.run(t, "preset", "save", "Brand pastel", "--template", "{prompt}, soft pastel palette, studio light",
		"--model", "flux-dev", "--negative", "", "--seed", "42", "--count", "2")
	if code != 0 || !strings.Contains(out, `saved preset "Brand pastel"`) {
		t.Fatalf("preset save (exit %d):\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(r.home, "presets.toml"))
	if err != nil || !strings.Contains(string(data), `[preset."Brand pastel"]`) || !strings.Contains(string(data), `seed_mode = "fixed"`) {
		t.Fatalf("presets.toml beside the config (%v):\n%s", err, data)
	}
	out, _, code = r.run(t, "preset", "show", "brand PASTEL", "--json")
	var shown struct {
		Name     string  `json:"name"`
		Model    string  `json:"model"`
		Seed     int64   `json:"seed"`
		Negative *string `json:"negative_prompt"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || code != 0 || shown.Name != "Brand pastel" || shown.Seed != 42 ||
		shown.Negative == nil || *shown.Negative != "" {
		t.Fatalf("preset show --json (exit %d, %v):\n%s", code, err, out)
	}
	_, errOut, code = r.run(t, "preset", "save", "Bad", "--aspect", "16-9")
	if code == 0 || !strings.Contains(errOut, `preset "Bad", key aspect_ratio`) {
		t.Fatalf("saving a bad preset: exit %d\n%s", code, errOut)
	}
	out, _, code = r.run(t, "preset", "delete", "Instagram post 4:5")
	if code != 0 || !strings.Contains(out, "deleted preset") {
		t.Fatalf("preset delete (exit %d):\n%s", code, out)
	}
	out, _, _ = r.run(t, "preset", "list")
	if strings.Contains(out, "Instagram post") || !strings.Contains(out, "Brand pastel") {
		t.Fatalf("after delete:\n%s", out)
	}
	_, errOut, code = r.run(t, "preset", "show", "tiktok")
	if code == 0 || !strings.Contains(errOut, `no preset "tiktok"`) {
		t.Fatalf("show a missing preset: exit %d\n%s", code, errOut)
	}
}

// generate --preset applies the preset, and a flag given explicitly wins.
func TestGeneratePresetAppliesAndExplicitFlagsOverride(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	if _, errOut, code := r.run(t, "preset", "save", "Story", "--aspect", "9:16", "--model", "flux-dev",
		"--template", "{prompt}, soft pastel palette", "--count", "2", "--seed", "7"); code != 0 {
		t.Fatalf("preset save: %s", errOut)
	}
	_, errOut, code := r.run(t, "generate", "--prompt", "a red fox", "--preset", "Story", "--model", "sdxl", "--json")
	if code != 0 {
		t.Fatalf("generate --preset: exit %d\n%s", code, errOut)
	}
	got := fake.Requests()
	if len(got) != 2 {
		t.Fatalf("n8n got %d requests, want the preset's count 2", len(got))
	}
	var body struct {
		Params struct {
			Prompt string `json:"prompt"`
			Model  string `json:"model_id"`
			Aspect string `json:"aspect_ratio"`
			Seed   int64  `json:"seed"`
		} `json:"generation_params"`
	}
	seeds := map[int64]bool{}
	for _, g := range got { // sent concurrently: in either order
		if err := json.Unmarshal(g.Body, &body); err != nil {
			t.Fatal(err)
		}
		p := body.Params
		if p.Prompt != "a red fox, soft pastel palette" || p.Model != "sdxl" || p.Aspect != "9:16" {
			t.Fatalf("sent %+v; want the template, the preset's aspect, and the explicit model sdxl", p)
		}
		seeds[p.Seed] = true
	}
	if !seeds[7] || !seeds[8] {
		t.Fatalf("seeds sent %v, want the preset's fixed 7 and 8", seeds)
	}
	_, errOut, code = r.run(t, "generate", "--prompt", "x", "--preset", "nope")
	if code == 0 || !strings.Contains(errOut, `no preset "nope"`) {
		t.Fatalf("unknown preset: exit %d\n%s", code, errOut)
	}
}
