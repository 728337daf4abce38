package sshd

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// writeClientKey writes an OpenSSH private key (0600) and its .pub beside it.
func writeClientKey(t *testing.T, dir, name string) (keyPath, pubPath string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	keyPath = filepath.Join(dir, name)
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, _ := gossh.NewSignerFromKey(priv)
	pubPath = keyPath + ".pub"
	if err := os.WriteFile(pubPath, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyPath, pubPath
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sshArgs is a system OpenSSH client that reads no user config, offers
// only the given key and trusts the host on first use.
func sshArgs(port int, key string) []string {
	return []string{"ssh", "-F", "/dev/null", "-p", fmt.Sprint(port), "-i", key, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "127.0.0.1"}
}

// TestOpenSSHClientUsesTheDashboardOfTheRealBinary is issue 16's "done
// when": the real binary serves over SSH; the system's ssh in tmux shows
// the dashboard; n, a prompt and ctrl+s make a request whose requested_by
// is the team.toml name; a key not in team.toml is refused.
func TestOpenSSHClientUsesTheDashboardOfTheRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	for _, tool := range []string{"tmux", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs tmux and openssh-client)", tool)
		}
	}
	bin := buildBinary(t)
	home, keys := t.TempDir(), t.TempDir()
	fake := n8ntest.New(t, n8ntest.Options{APIKey: "e2e-key"})
	port := freePort(t)
	cfg := fmt.Sprintf("[n8n]\nwebhook_url = %q\n\n[callback]\nlisten = \"127.0.0.1:0\"\n\n[ssh]\nlisten = \"127.0.0.1:%d\"\n", fake.WebhookURL, port)
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "INFLUENCEGEN_HOME="+home, "INFLUENCEGEN_N8N_API_KEY=e2e-key", "INFLUENCEGEN_CALLBACK_TOKEN=e2e-token")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("influencegen %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	miaKey, miaPub := writeClientKey(t, keys, "mia")
	strangerKey, _ := writeClientKey(t, keys, "stranger")
	run("team", "add", "mia", "--role", "staff", "--key-file", miaPub)

	serve := exec.Command(bin, "serve", "--ssh")
	serve.Env = env
	stdout, _ := serve.StdoutPipe()
	serve.Stderr = nil
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
	})
	printed := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed <- sc.Text()
		}
		close(printed)
	}()
	var fingerprint string
	for fingerprint == "" {
		select {
		case line, ok := <-printed:
			if !ok {
				t.Fatal("serve --ssh exited before printing its host key")
			}
			if fp, found := strings.CutPrefix(line, "ssh host key"); found {
				fingerprint = strings.TrimSpace(fp)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve --ssh printed no host key within 30s")
		}
	}
	if !strings.HasPrefix(fingerprint, "SHA256:") {
		t.Fatalf("host key fingerprint %q", fingerprint)
	}

	s := tmuxSession{t: t, name: fmt.Sprintf("ig-ssh-%d", os.Getpid())}
	s.run(append([]string{"new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "env", "TERM=xterm-256color", "SSH_AUTH_SOCK="}, sshArgs(port, miaKey)...)...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.name, "kill-server").Run() })
	s.waitFor("the dashboard over ssh", "InfluenceGen", "No requests yet")
	s.keys("n")
	s.waitFor("the composer", "New request")
	s.keys("-l", "a heron over the harbour")
	s.keys("C-s")
	s.waitFor("the submitted row", "a heron over the harbour")

	var list struct {
		Requests []struct {
			RequestedBy string `json:"requested_by"`
			Params      struct {
				Prompt string `json:"prompt"`
			} `json:"params"`
		} `json:"requests"`
	}
	out := run("status", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Requests) != 1 {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if got := list.Requests[0].RequestedBy; got != "mia" {
		t.Fatalf("requested_by = %q, want mia (from team.toml)", got)
	}

	stranger := exec.Command(sshArgs(port, strangerKey)[0], append(sshArgs(port, strangerKey)[1:], "-o", "BatchMode=yes")...)
	stranger.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	refused, err := stranger.CombinedOutput()
	if err == nil || !strings.Contains(string(refused), "Permission denied (publickey)") {
		t.Fatalf("a key not in team.toml: err %v, output %q; want Permission denied (publickey)", err, refused)
	}
	s.keys("q")
}
