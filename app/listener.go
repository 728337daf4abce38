package app

// ListenerStatus is what the dashboard header, the admin panel and `serve`
// say about the callback listener and whether n8n can reach it.
type ListenerStatus struct {
	Address   string // bound address, e.g. 127.0.0.1:8787
	PublicURL string // the base URL n8n is told to call back
	Tunnel    string // "configured", "ngrok", "cloudflared" or "none"
	Checked   bool   // a self-check has run
	SelfCheck error  // nil when GET <PublicURL>/healthz answered our instance id
	Warning   string // non-empty when n8n cannot possibly reach PublicURL
	// Exposed is non-empty (ExposedBindWarning's loud text) when the
	// listener accepts connections from beyond this machine.
	Exposed string
}
