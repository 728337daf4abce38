package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func TestPresetsFileMissingGivesTheShippedExamples(t *testing.T) {
	got, err := LoadPresets(filepath.Join(t.TempDir(), "presets.toml"), app.DefaultConfig().Defaults())
	if err != nil || len(got) != 3 || got[1].Name != "Instagram story 9:16" {
		t.Fatalf("LoadPresets without a file = %+v, %v", got, err)
	}
}

func TestPresetsFileErrorsNameTheLinePresetAndKey(t *testing.T) {
	def := app.DefaultConfig().Defaults()
	tests := []struct {
		name, file, want string
	}{
		{"unknown key", "[preset.\"Brand\"]\nmodel = \"sdxl\"\ncolour = \"pink\"\n", `presets.toml:3: preset "Brand": unknown key "colour"`},
		{"bad value by the request rules", "# mine\n[preset.Story]\naspect_ratio = \"9:16\"\ncount = 40\n", `presets.toml:4: preset "Story", key count: count 40: must be between 1 and 16`},
		{"unknown model", "[preset.'Fast']\nmodel = \"dall-e\"\n", `presets.toml:2: preset "Fast", key model: model "dall-e": not configured`},
		{"template without the placeholder", "[preset.\"Pastel\"]\nprompt_template = \"pastel\"\n", `presets.toml:2: preset "Pastel", key prompt_template`},
		{"not TOML", "[preset.\"x\"\n", "presets.toml:2: expected"},
		{"a table that is not a preset", "[presets.\"x\"]\nmodel = \"sdxl\"\n", `unknown key "presets.x.model"`},
		{"a wrong type", "[preset.\"x\"]\ncount = \"four\"\n", "count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "presets.toml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadPresets(path, def)
			if app.ErrorCode(err) != app.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadPresets error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSaveAndDeletePresetsRoundTripInFileOrder(t *testing.T) {
	def := app.DefaultConfig().Defaults()
	path := filepath.Join(t.TempDir(), "cfg", "presets.toml")
	neg := ""
	brand := app.Preset{Name: "Brand: pastel", PromptTemplate: "{prompt}, soft pastel palette, studio light",
		NegativePrompt: &neg, Model: "flux-dev", Count: 4, SeedMode: app.SeedModeFixed, Seed: new(int64)}
	if err := SavePreset(path, brand, def); err != nil {
		t.Fatal(err)
	}
	got, err := LoadPresets(path, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[3].Name != brand.Name || got[3].PromptTemplate != brand.PromptTemplate ||
		got[3].NegativePrompt == nil || *got[3].NegativePrompt != "" || got[3].Seed == nil || *got[3].Seed != 0 {
		t.Fatalf("after save: %+v", got)
	}
	// Replacing keeps the place; deleting a shipped example removes it for good.
	brand.Count = 2
	if err := SavePreset(path, brand, def); err != nil {
		t.Fatal(err)
	}
	if _, err := DeletePreset(path, "instagram post 4:5", def); err != nil {
		t.Fatal(err)
	}
	got, err = LoadPresets(path, def)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, p := range got {
		names = append(names, p.Name)
	}
	if strings.Join(names, "|") != "Instagram story 9:16|LinkedIn banner 4:1|Brand: pastel" || got[2].Count != 2 {
		t.Fatalf("after replace and delete: %q (count %d)", names, got[2].Count)
	}
	if err := SavePreset(path, app.Preset{Name: "bad", Count: 99}, def); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("saving an invalid preset: %v", err)
	}
	if _, err := DeletePreset(path, "nope", def); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("deleting a missing preset: %v", err)
	}
	data, _ := os.ReadFile(path)
	t.Logf("presets.toml:\n%s", data)
}
