package n8n

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// The /healthz identity probe (issue 10 §14). Unauthenticated, /healthz
// answers only {"status":"ok"}: through a tunnel anyone can ask, and the
// version and instance id told them what runs here. A self-check proves
// it reached this very process another way: it sends a random nonce as
// ?probe=, and the listener answers HMAC-SHA256(process key, nonce). The
// key never leaves the process, so only this process can answer; and an
// answer to the caller's own nonce tells a prober nothing. With a valid
// callback token the version and instance id are still given (DESIGN §5).

// instanceKey is this process's probe key.
var instanceKey = randomKey()

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

const (
	minProbeLen = 16
	maxProbeLen = 128
)

// ProbeExpect returns the answer the right listener gives to nonce.
type ProbeExpect func(ctx context.Context, nonce string) (string, error)

// ThisProcess expects this process's own answer: the self-check of a
// running listener.
func ThisProcess() ProbeExpect {
	return func(_ context.Context, nonce string) (string, error) { return probeAnswer(instanceKey, nonce), nil }
}

func probeAnswer(key []byte, nonce string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("influencegen healthz probe\x00"))
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

func newProbeNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validProbe accepts a nonce of 16–128 letters, digits, '-' or '_'.
func validProbe(s string) bool {
	if len(s) < minProbeLen || len(s) > maxProbeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// healthDoc is what /healthz answers.
type healthDoc struct {
	Status   string `json:"status"`
	Probe    string `json:"probe,omitempty"`
	Version  string `json:"version,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// writeHealthz answers /healthz: status always, the probe answer when
// asked, version and instance only to a caller holding the token.
func writeHealthz(w http.ResponseWriter, r *http.Request, key []byte, who *healthDoc) {
	doc := healthDoc{Status: "ok"}
	if p := r.URL.Query().Get("probe"); validProbe(p) {
		doc.Probe = probeAnswer(key, p)
	}
	if who != nil {
		doc.Version, doc.Instance = who.Version, who.Instance
	}
	b, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
