package app

import (
	"context"
	"fmt"
	"math"
	"net"
	"strings"
)

// MinCallbackTokenBits is the strength below which doctor warns about the
// callback token (issue 10 §16): anyone who can reach the callback URL may
// guess, and the failure limiter only slows one address down.
const MinCallbackTokenBits = 128

// TokenStrengthBits estimates a token's entropy from its length and the
// character classes it uses (digits, lower, upper, "-_", other printable).
// A token made of very few distinct characters counts only those. It is a
// generous estimate: a person's word is weaker than it says, never the
// other way round.
func TokenStrengthBits(token string) int {
	var digits, lower, upper, urlSafe, other bool
	distinct := map[rune]bool{}
	for _, r := range token {
		distinct[r] = true
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r == '-' || r == '_':
			urlSafe = true
		default:
			other = true
		}
	}
	alphabet := 0
	for _, c := range []struct {
		used bool
		size int
	}{{digits, 10}, {lower, 26}, {upper, 26}, {urlSafe, 2}, {other, 32}} {
		if c.used {
			alphabet += c.size
		}
	}
	if len(distinct) < 8 {
		alphabet = min(alphabet, len(distinct))
	}
	if alphabet < 2 {
		return 0
	}
	return int(float64(len([]rune(token))) * math.Log2(float64(alphabet)))
}

// CheckCallbackTokenStrength is doctor's line about the callback token's
// strength; it never shows the token. Skipped when the token is not used
// or not readable (CheckSecrets reports that).
func CheckCallbackTokenStrength(ctx context.Context, secrets Secrets, cfg Config) Check {
	const name = "callback-token strength"
	if secrets == nil || cfg.Callback.Auth == AuthSignature {
		return NewCheck(name, CheckSkip, "not used (callback.auth = "+cfg.Callback.Auth+")", "")
	}
	token, _, err := secrets.Get(ctx, SecretCallbackToken)
	if err != nil || token == "" {
		return NewCheck(name, CheckSkip, "no token to check", "")
	}
	bits := TokenStrengthBits(token)
	if bits < MinCallbackTokenBits {
		return NewCheck(name, CheckWarn, fmt.Sprintf("about %d bits (%d characters): below %d bits, it can be guessed by anyone who can reach the callback URL", bits, len([]rune(token)), MinCallbackTokenBits),
			"influencegen secrets rotate callback-token (256 random bits), then paste it into n8n's callback credential")
	}
	return NewCheck(name, CheckOK, fmt.Sprintf("about %d bits", bits), "")
}

// ExposedBindWarning is a loud warning when listen accepts connections
// from beyond this machine (":8787", "0.0.0.0:8787", a LAN address), or ""
// for a loopback bind. The callback listener is meant to sit on loopback
// with a tunnel in front.
func ExposedBindWarning(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	where := "on " + host
	if host == "" || host == "0.0.0.0" || host == "::" {
		where = "on every network interface"
	}
	return fmt.Sprintf("WARNING: callback.listen = %s accepts connections %s, not only from this machine: anyone who can reach port %s can call the callback listener. "+
		"Use 127.0.0.1:%s with a tunnel (ngrok, cloudflared), or firewall the port and set callback.trusted_proxies for your reverse proxy.", listen, where, port, port)
}

// CheckListenBind is doctor's line about callback.listen's exposure.
func CheckListenBind(cfg Config) Check {
	const name = "listen exposure"
	if w := ExposedBindWarning(cfg.Callback.Listen); w != "" {
		return NewCheck(name, CheckWarn, strings.TrimPrefix(w, "WARNING: "), "influencegen config set callback.listen 127.0.0.1:8787")
	}
	return NewCheck(name, CheckOK, cfg.Callback.Listen+" is loopback only", "")
}
