package n8n

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// The workflow templates are generated from workflows/src (go test ./n8n
// -run TestWorkflowTemplatesAreUpToDate -update) and embedded so that
// `influencegen n8n setup` needs no files next to the binary.
//
//go:embed workflows/*.json
var workflowFiles embed.FS

// Names the templates give their credentials and nodes; setup creates the
// credentials under exactly these names so n8n binds them on import.
const (
	CredentialAPIKey        = "InfluenceGen n8n API key"
	CredentialCallbackToken = "InfluenceGen callback token"
	CredentialProviderKey   = "InfluenceGen provider key"
	CredentialTypeHeader    = "httpHeaderAuth"
	NodeProviderSettings    = "Provider settings"
	NodeSign                = "Sign (HMAC-SHA256)"
	DefaultWebhookPath      = "influence-gen/generate"
	signingKeyPlaceholder   = "REPLACE_WITH_SIGNING_KEY_K"
)

// Provider describes one provider template: where it calls by default,
// which models the composer should offer, and what it can do.
type Provider struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	DefaultURL  string   `json:"default_url"`
	KeyHeader   string   `json:"key_header,omitempty"` // "" = no key (self-hosted)
	KeyPrefix   string   `json:"-"`                    // e.g. "Bearer "
	Models      []string `json:"models"`
	Async       bool     `json:"async"`
	NegPrompt   string   `json:"negative_prompt"`
	Seed        string   `json:"seed"`
	Size        string   `json:"size"`
	ImageSource string   `json:"image"`
}

// Providers lists the provider templates in n8n/workflows.
var Providers = []Provider{
	{Name: "openai", Title: "OpenAI Images API (and OpenAI-compatible gateways)", DefaultURL: "https://api.openai.com/v1",
		KeyHeader: "Authorization", KeyPrefix: "Bearer ", Models: []string{"gpt-image-1", "dall-e-3", "dall-e-2"},
		NegPrompt: "refused", Seed: "ignored (not reproducible)", Size: "the model's listed sizes", ImageSource: "base64 (b64_json)"},
	{Name: "stability", Title: "Stability AI stable-image", DefaultURL: "https://api.stability.ai",
		KeyHeader: "Authorization", KeyPrefix: "Bearer ", Models: []string{"sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "core", "ultra"},
		NegPrompt: "yes (not on turbo)", Seed: "yes (≤ 4294967294)", Size: "by aspect ratio (16:9 … 9:21)", ImageSource: "base64"},
	{Name: "replicate", Title: "Replicate predictions (polled)", DefaultURL: "https://api.replicate.com/v1",
		KeyHeader: "Authorization", KeyPrefix: "Bearer ", Models: []string{"black-forest-labs/flux-schnell", "black-forest-labs/flux-dev", "stability-ai/stable-diffusion-3.5-large"},
		Async: true, NegPrompt: "passed when set", Seed: "yes", Size: "width/height and aspect ratio passed", ImageSource: "URL (replicate.delivery)"},
	{Name: "comfyui", Title: "ComfyUI, self-hosted (polled)", DefaultURL: "http://127.0.0.1:8188",
		Models: []string{"sd_xl_base_1.0.safetensors"}, Async: true,
		NegPrompt: "yes", Seed: "yes", Size: "any multiple of 8", ImageSource: "base64 (fetched from /view by n8n)"},
	{Name: "custom", Title: "Your own HTTP endpoint", DefaultURL: "https://api.example-image-provider.com/v1/generate",
		KeyHeader: "Authorization", KeyPrefix: "Bearer ", Models: nil,
		NegPrompt: "passed", Seed: "passed", Size: "passed", ImageSource: "images[], data[], output, image_url or image_base64"},
}

// FindProvider returns the provider template named name.
func FindProvider(name string) (Provider, error) {
	for _, p := range Providers {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(Providers))
	for i, p := range Providers {
		names[i] = p.Name
	}
	return Provider{}, app.Errorf(app.EINVALID, "unknown provider %q: choose one of %s", name, strings.Join(names, ", "))
}

func templateFile(provider string, signed bool) string {
	if signed {
		return "workflows/" + provider + ".signed.json"
	}
	return "workflows/" + provider + ".json"
}

// WorkflowTemplate returns the embedded template as shipped (the file a
// person imports by hand).
func WorkflowTemplate(provider string, signed bool) ([]byte, error) {
	if _, err := FindProvider(provider); err != nil {
		return nil, err
	}
	return workflowFiles.ReadFile(templateFile(provider, signed))
}

// Workflow is the part of an n8n workflow the public API accepts on create
// and update: nothing else may be sent (id, active, tags are read-only;
// pinData, meta are "additional properties").
type Workflow struct {
	Name        string            `json:"name"`
	Nodes       []json.RawMessage `json:"nodes"`
	Connections json.RawMessage   `json:"connections"`
	Settings    json.RawMessage   `json:"settings"`
}

// WorkflowOptions adapt a template to one installation.
type WorkflowOptions struct {
	Provider    string
	Signed      bool
	ProviderURL string // "" = the template's default
	WebhookPath string // "" = influence-gen/generate
	SigningKey  string // the printable key K of whsec_+base64(K); signed only
	NoKey       bool   // the provider needs no key: drop its credential
	// CredentialIDs maps credential names to the ids setup created, so
	// the workflow is bound to exactly those (n8n's own lookup by name
	// picks any credential that happens to share the name).
	CredentialIDs map[string]string
}

// BuildWorkflow renders a template for the public API.
func BuildWorkflow(o WorkflowOptions) (Workflow, error) {
	raw, err := WorkflowTemplate(o.Provider, o.Signed)
	if err != nil {
		return Workflow{}, err
	}
	var wf Workflow
	if err := json.Unmarshal(raw, &wf); err != nil {
		return Workflow{}, fmt.Errorf("template %s: %w", o.Provider, err)
	}
	for i, rawNode := range wf.Nodes {
		var node map[string]any
		if err := json.Unmarshal(rawNode, &node); err != nil {
			return Workflow{}, fmt.Errorf("template %s: %w", o.Provider, err)
		}
		params, _ := node["parameters"].(map[string]any)
		switch {
		case node["type"] == "n8n-nodes-base.webhook" && o.WebhookPath != "":
			params["path"] = strings.Trim(o.WebhookPath, "/")
		case node["name"] == NodeProviderSettings && o.ProviderURL != "":
			for _, a := range params["assignments"].(map[string]any)["assignments"].([]any) {
				if as := a.(map[string]any); as["name"] == "provider_url" {
					as["value"] = o.ProviderURL
				}
			}
		case node["name"] == NodeSign && o.Signed:
			if o.SigningKey == "" {
				return Workflow{}, app.Errorf(app.EINVALID, "the signed template needs the signing key")
			}
			params["secret"] = o.SigningKey
		}
		if creds, ok := node["credentials"].(map[string]any); ok {
			c, _ := creds[CredentialTypeHeader].(map[string]any)
			switch name, _ := c["name"].(string); {
			case c == nil:
			case o.NoKey && name == CredentialProviderKey:
				delete(node, "credentials")
				params["authentication"] = "none"
				delete(params, "genericAuthType")
			case o.CredentialIDs[name] != "":
				c["id"] = o.CredentialIDs[name]
			}
		}
		if wf.Nodes[i], err = json.Marshal(node); err != nil {
			return Workflow{}, err
		}
	}
	return wf, nil
}

// ProviderModels is what the composer offers for provider p (custom keeps
// the configured list).
func ProviderModels(p Provider) []string { return slices.Clone(p.Models) }
