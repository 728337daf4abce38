package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(newGenerateCmd) }

// GenerateWaitHook, when set (by the callback issue's generate_wait.go in an
// init), makes `generate --wait` available. It is called BEFORE sending,
// because n8n calls back once and may do so before its 202 is read: it
// starts what receives results (listener, ingest) and returns wait, which
// blocks until every given request is final (or ctx ends) and returns them,
// and stop, which shuts down what it started.
var GenerateWaitHook func(ctx context.Context, env *Env, svc *app.Service) (
	wait func(ctx context.Context, ids []string) ([]app.Request, error), stop func(), err error)

type generateFlags struct {
	prompt, negative, model, resolution, aspect string
	preset                                      string
	seed                                        int64
	count                                       int
	wait, json                                  bool
}

func newGenerateCmd(env *Env) *cobra.Command {
	var f generateFlags
	cmd := &cobra.Command{
		Use:   "generate --prompt TEXT [flags]",
		Short: "Store and send generation requests to n8n, then print their state",
		Long: `Stores one request per image (--count), sends them to the n8n webhook and
prints each id with its state: processing once n8n accepted it, or
initiation_failed with the reason and how to fix it (exit status 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGenerate(cmd.Context(), env, f, cmd.Flags()) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.prompt, "prompt", "", "what the image should show (required)")
	fl.StringVar(&f.negative, "negative", "", "what the image must not show")
	fl.StringVar(&f.model, "model", "", "model id, one of generation.models (default generation.default_model)")
	fl.StringVar(&f.resolution, "resolution", "", "size as WIDTHxHEIGHT, multiples of 8, e.g. 1216x832 (default generation.default_resolution)")
	fl.StringVar(&f.aspect, "aspect", "", "aspect ratio W:H, e.g. 16:9; derives the size when --resolution is not given")
	fl.Int64Var(&f.seed, "seed", -1, "seed 0…4294967295; -1 draws a random one (a batch uses seed, seed+1, …)")
	fl.IntVar(&f.count, "count", 1, fmt.Sprintf("number of requests, 1…%d", app.MaxCount))
	fl.StringVar(&f.preset, "preset", "", "apply a preset (influencegen preset list); flags given explicitly override it")
	fl.BoolVar(&f.json, "json", false, `print [{"id","status","error_code","error_message"}]`)
	if GenerateWaitHook != nil {
		fl.BoolVar(&f.wait, "wait", false, "wait until every request completed or failed")
	}
	return cmd
}

func runGenerate(ctx context.Context, env *Env, f generateFlags, fl *pflag.FlagSet) error {
	if strings.TrimSpace(f.prompt) == "" {
		return Usagef("--prompt is required: describe the image, e.g. --prompt \"a red fox in the snow\"")
	}
	seed := f.seed
	in := app.ParamsInput{Prompt: f.prompt, NegativePrompt: f.negative, Model: f.model,
		Resolution: f.resolution, AspectRatio: f.aspect, Seed: &seed, Count: f.count}
	if f.preset != "" {
		var err error
		if in, _, err = withPreset(env, f.preset, f, fl); err != nil {
			return err
		}
	}
	svc, err := newService(ctx, env)
	if err != nil {
		return err
	}
	var wait func(context.Context, []string) ([]app.Request, error)
	if f.wait && GenerateWaitHook != nil {
		w, stop, err := GenerateWaitHook(ctx, env, svc)
		if err != nil {
			return err
		}
		defer stop()
		wait = w
	}
	reqs, err := svc.Submit(ctx, in)
	if err != nil {
		return err
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	sent, sendErr := sendNow(ctx, svc, ids)
	if sendErr == nil && wait != nil && failedToStart(sent) == nil {
		sent, sendErr = wait(ctx, ids)
	}
	return reportSent(env.Stdout, sent, sendErr, f.json)
}

// printResults writes each request's id and state: --json as one array,
// otherwise one aligned line per request with the reason of a failure.
func printResults(w io.Writer, reqs []app.Request, asJSON bool) error {
	if asJSON {
		return writeJSON(w, resultsOf(reqs))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range reqs {
		line := r.ID + "\t" + string(r.Status)
		if r.ErrorCode != "" {
			line += "\t" + shown(r.ErrorCode+": "+r.ErrorMessage) // n8n's words
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
