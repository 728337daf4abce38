package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/influencegen/influencegen/app"
)

func init() { register(newPresetCmd) }

func newPresetCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "preset",
		Short: "Manage generation presets (presets.toml)",
		Long: `A preset is a named set of generation parameters: any of negative prompt,
model, size or aspect ratio, count, seed mode and a prompt template holding
{prompt} (e.g. "{prompt}, soft pastel palette, studio light"). They live in
presets.toml beside config.toml, which you may also edit by hand; while it
does not exist, three examples apply (Instagram post 4:5, Instagram story
9:16, LinkedIn banner 4:1). Use one with generate --preset NAME, or ctrl+t
in the dashboard's composer.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newPresetListCmd(env), newPresetShowCmd(env), newPresetSaveCmd(env), newPresetDeleteCmd(env))
	return cmd
}

// presetBook opens presets.toml with the configuration's models.
func presetBook(env *Env) (app.PresetBook, error) {
	if env.Wiring.Presets == nil {
		return nil, app.Errorf(app.EINTERNAL, "this build has no presets file wired (cli.Wiring.Presets)")
	}
	cfg, paths, err := env.Config()
	if err != nil {
		return nil, err
	}
	return env.Wiring.Presets(paths, cfg.Defaults()), nil
}

func newPresetListCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the presets and what each sets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			book, err := presetBook(env)
			if err != nil {
				return err
			}
			presets, err := book.Presets()
			if err != nil {
				return err
			}
			if asJSON {
				if presets == nil {
					presets = []app.Preset{}
				}
				return writeJSON(env.Stdout, presets)
			}
			if len(presets) == 0 {
				_, err := fmt.Fprintf(env.Stdout, "No presets in %s. Add one: influencegen preset save NAME --aspect 4:5\n", book.Where())
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSETS")
			for _, p := range presets {
				fmt.Fprintf(tw, "%s\t%s\n", shown(p.Name), shown(strings.Join(presetSummary(p), ", ")))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return cmd
}

// presetSummary lists what a preset sets, as "key value" phrases.
func presetSummary(p app.Preset) []string {
	var out []string
	if p.NegativePrompt != nil {
		out = append(out, app.PresetKeyNegative+" "+strconv.Quote(*p.NegativePrompt))
	}
	for _, kv := range [][2]string{{app.PresetKeyModel, p.Model}, {app.PresetKeyResolution, p.Resolution}, {app.PresetKeyAspect, p.AspectRatio}} {
		if kv[1] != "" {
			out = append(out, kv[0]+" "+kv[1])
		}
	}
	if p.Count != 0 {
		out = append(out, fmt.Sprintf("%s %d", app.PresetKeyCount, p.Count))
	}
	if p.SeedMode != "" {
		out = append(out, app.PresetKeySeedMode+" "+p.SeedMode)
	}
	if p.Seed != nil {
		out = append(out, fmt.Sprintf("%s %d", app.PresetKeySeed, *p.Seed))
	}
	if p.PromptTemplate != "" {
		out = append(out, app.PresetKeyTemplate+" "+strconv.Quote(p.PromptTemplate))
	}
	if len(out) == 0 {
		out = append(out, "(nothing)")
	}
	return out
}

func newPresetShowCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one preset",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			book, err := presetBook(env)
			if err != nil {
				return err
			}
			presets, err := book.Presets()
			if err != nil {
				return err
			}
			p, err := app.FindPreset(presets, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, p)
			}
			return printPreset(env.Stdout, p)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func printPreset(w io.Writer, p app.Preset) error {
	fmt.Fprintf(w, "preset %s\n", shown(strconv.Quote(p.Name)))
	for _, line := range presetSummary(p) {
		fmt.Fprintf(w, "  %s\n", shown(line))
	}
	return nil
}

type presetFlags struct {
	negative, model, resolution, aspect, seedMode, template string
	count                                                   int
	seed                                                    int64
}

func newPresetSaveCmd(env *Env) *cobra.Command {
	var f presetFlags
	cmd := &cobra.Command{
		Use:   "save NAME [--negative N] [--model M] [--resolution WxH | --aspect W:H] [--count N] [--seed-mode random|fixed] [--seed S] [--template T]",
		Short: "Add a preset, or replace the one with that name",
		Long: `Saves the parameters given as flags under NAME (quote a name with spaces);
flags not given are not part of the preset. --seed implies --seed-mode fixed.
--template must hold {prompt}, where the typed prompt goes. The preset is
checked with the same rules as a request (models from generation.models).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := presetFromFlags(args[0], f, cmd.Flags())
			if err != nil {
				return err
			}
			book, err := presetBook(env)
			if err != nil {
				return err
			}
			if err := book.SavePreset(p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "saved preset %s in %s\n", shown(strconv.Quote(p.Name)), book.Where())
			return printPreset(env.Stdout, p)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.negative, "negative", "", `negative prompt ("" sets it empty)`)
	fl.StringVar(&f.model, "model", "", "model id, one of generation.models")
	fl.StringVar(&f.resolution, "resolution", "", "size as WIDTHxHEIGHT, e.g. 1216x832")
	fl.StringVar(&f.aspect, "aspect", "", "aspect ratio W:H, e.g. 9:16 (the size follows from it)")
	fl.IntVar(&f.count, "count", 0, fmt.Sprintf("images per submit, 1…%d", app.MaxCount))
	fl.StringVar(&f.seedMode, "seed-mode", "", "random (a fresh seed per image) or fixed (with --seed)")
	fl.Int64Var(&f.seed, "seed", 0, "seed 0…4294967295 (implies --seed-mode fixed)")
	fl.StringVar(&f.template, "template", "", `prompt template holding {prompt}, e.g. "{prompt}, soft pastel palette"`)
	return cmd
}

func presetFromFlags(name string, f presetFlags, fl *pflag.FlagSet) (app.Preset, error) {
	p := app.Preset{Name: name, Model: f.model, Resolution: f.resolution, AspectRatio: f.aspect,
		Count: f.count, SeedMode: f.seedMode, PromptTemplate: f.template}
	if fl.Changed("negative") {
		neg := f.negative
		p.NegativePrompt = &neg
	}
	if fl.Changed("count") && f.count == 0 {
		return app.Preset{}, Usagef("--count 0: use 1 to %d, or leave it out", app.MaxCount)
	}
	if fl.Changed("seed") {
		seed := f.seed
		p.Seed = &seed
		if p.SeedMode == "" {
			p.SeedMode = app.SeedModeFixed
		}
	}
	return p, nil
}

func newPresetDeleteCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a preset (the shipped examples too)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			book, err := presetBook(env)
			if err != nil {
				return err
			}
			p, err := book.DeletePreset(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "deleted preset %s from %s\n", shown(strconv.Quote(p.Name)), book.Where())
			return err
		},
	}
}

// withPreset applies the named preset to what generate was given, then
// the flags given explicitly on top: a flag always wins over the preset.
func withPreset(env *Env, name string, f generateFlags, fl *pflag.FlagSet) (app.ParamsInput, []string, error) {
	book, err := presetBook(env)
	if err != nil {
		return app.ParamsInput{}, nil, err
	}
	presets, err := book.Presets()
	if err != nil {
		return app.ParamsInput{}, nil, err
	}
	p, err := app.FindPreset(presets, name)
	if err != nil {
		return app.ParamsInput{}, nil, err
	}
	in, changes := p.Apply(app.ParamsInput{Prompt: f.prompt})
	if fl.Changed("negative") {
		in.NegativePrompt = f.negative
	}
	if fl.Changed("model") {
		in.Model = f.model
	}
	if fl.Changed("resolution") || fl.Changed("aspect") {
		// The size given replaces the preset's whole size, so a preset's
		// aspect cannot contradict an explicit --resolution.
		in.Resolution, in.AspectRatio = f.resolution, f.aspect
	}
	if fl.Changed("seed") {
		seed := f.seed
		in.Seed = &seed
	}
	if fl.Changed("count") {
		in.Count = f.count
	}
	return in, changes, nil
}
