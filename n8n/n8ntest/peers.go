package n8ntest

import (
	"os"
	"path/filepath"
	"testing"
)

// PeersDir returns the folder of recorded n8n exchanges (shared/peers/n8n):
// $INFLUENCEGEN_PEERS/n8n if set, else shared/ beside the repository, where
// CI puts it. It fails the test when they are missing: a fake that is never
// compared with the real server's recordings proves nothing.
func PeersDir(t testing.TB) string {
	t.Helper()
	var candidates []string
	if env := os.Getenv("INFLUENCEGEN_PEERS"); env != "" {
		candidates = append(candidates, filepath.Join(env, "n8n"))
	}
	// Tests run in their package folder: walk up to the repository root's parent.
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(filepath.Dir(dir), "shared", "peers", "n8n"))
				break
			}
		}
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, "01-generate-accepted.json")); err == nil {
			return d
		}
	}
	t.Fatalf("recorded n8n exchanges not found in %v: put shared/ beside the repository or set INFLUENCEGEN_PEERS to shared/peers", candidates)
	return ""
}
