package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/store"
)

// teamWiringForTests is main's team wiring (ssh_wiring.go) minus the server.
func teamWiringForTests() SSHWiring {
	return SSHWiring{
		TeamFile: store.TeamFile, LoadTeam: store.LoadTeam, AddUser: store.AddTeamUser, RemoveUser: store.RemoveTeamUser,
		KeyFingerprint: func(line string) (string, error) {
			pub, err := store.ParseSSHKey(line)
			if err != nil {
				return "", err
			}
			return gossh.FingerprintSHA256(pub), nil
		},
	}
}

func testPublicKey(t *testing.T) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := gossh.NewPublicKey(pub)
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sp))) + " someone@laptop", gossh.FingerprintSHA256(sp)
}

func TestTeamAddListRemove(t *testing.T) {
	r := newFoundationRig(t)
	miaKey, miaFP := testPublicKey(t)
	olaKey, olaFP := testPublicKey(t)
	keyFile := filepath.Join(t.TempDir(), "ola.pub")
	if err := os.WriteFile(keyFile, []byte("# ola's laptop\n"+olaKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if code, out, errOut := r.run("", "team", "add", "mia", "--role", "admin", "--key", miaKey); code != 0 || !strings.Contains(out, miaFP) {
		t.Fatalf("add mia: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := r.run("", "team", "add", "ola", "--key-file", keyFile); code != 0 {
		t.Fatalf("add ola: %d %q", code, errOut)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown role", []string{"team", "add", "kim", "--role", "boss", "--key", miaKey}, 2, "use staff or admin"},
		{"no key", []string{"team", "add", "kim"}, 2, "give the person's public key"},
		{"a key that is not one", []string{"team", "add", "kim", "--key", "ssh-ed25519 nope"}, 2, "not an SSH public key"},
		{"someone already there", []string{"team", "add", "mia", "--key", olaKey}, 1, "already in"},
		{"removing nobody", []string{"team", "remove", "kim"}, 1, `no user "kim"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := r.run("", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, errOut, tt.code, tt.want)
			}
		})
	}

	code, out, _ := r.run("", "team", "list", "--json")
	var doc struct {
		Users []teamMember `json:"users"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Users) != 2 ||
		doc.Users[0].Name != "mia" || doc.Users[0].Role != "admin" || doc.Users[1].Role != "staff" || doc.Users[1].Fingerprints[0] != olaFP {
		t.Fatalf("team list --json: %d %v\n%s", code, err, out)
	}
	if strings.Contains(out, "AAAA") {
		t.Fatal("team list printed key material, not only fingerprints")
	}
	if code, _, _ := r.run("", "team", "remove", "mia"); code != 0 {
		t.Fatal("remove mia failed")
	}
	_, out, _ = r.run("", "team", "list")
	if strings.Contains(out, "mia") || !strings.Contains(out, "ola") {
		t.Fatalf("after remove:\n%s", out)
	}
}
