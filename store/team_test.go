package store

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
)

func newAuthorizedKey(t *testing.T, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sp))) + " " + comment
}

func TestTeamFileProblemsNameTheLine(t *testing.T) {
	key := newAuthorizedKey(t, "mia@laptop")
	tests := []struct {
		name, text, want string
	}{
		{"a role that does not exist", "[[user]]\nname = \"mia\"\nrole = \"boss\"\nkeys = [\"" + key + "\"]\n", "team.toml:3: user \"mia\": role \"boss\""},
		{"a key that is not a key", "# team\n[[user]]\nname = \"mia\"\nrole = \"staff\"\nkeys = [\"ssh-ed25519 nope\"]\n", "team.toml:5: user \"mia\": not an SSH public key"},
		{"a user without keys", "[[user]]\nname = \"mia\"\nrole = \"staff\"\n", "team.toml:1: user \"mia\" has no keys"},
		{"the same name twice", "[[user]]\nname = \"mia\"\nrole = \"staff\"\nkeys = [\"" + key + "\"]\n\n[[user]]\nname = \"mia\"\nrole = \"admin\"\nkeys = [\"" + newAuthorizedKey(t, "x") + "\"]\n", "team.toml:7: user \"mia\" is listed twice (first at line 2)"},
		{"one key for two people", "[[user]]\nname = \"mia\"\nrole = \"staff\"\nkeys = [\"" + key + "\"]\n[[user]]\nname = \"ola\"\nrole = \"staff\"\nkeys = [\"" + key + "\"]\n", "team.toml:8: user \"ola\": key SHA256:"},
		{"broken TOML", "[[user]]\nname = \"mia\nrole = \"staff\"\n", "team.toml:2:"},
		{"a name with a space", "[[user]]\nname = \"mia k\"\nrole = \"staff\"\nkeys = [\"" + key + "\"]\n", "team.toml:2: user name \"mia k\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTeam("team.toml", []byte(tt.text))
			if app.ErrorCode(err) != app.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want invalid containing %q", err, tt.want)
			}
		})
	}
}

func TestTeamAddListRemoveKeepsTheRestOfTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.toml")
	if team, err := LoadTeam(path); err != nil || len(team.Users) != 0 {
		t.Fatalf("missing file: %v %v, want an empty team", team, err)
	}
	miaKey, olaKey := newAuthorizedKey(t, "mia@laptop"), newAuthorizedKey(t, "ola@desk")
	if err := AddTeamUser(path, app.TeamUser{Name: "mia", Role: app.RoleAdmin, Keys: []string{miaKey}}); err != nil {
		t.Fatal(err)
	}
	// A person's own comment survives later edits by the commands.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("# ola starts on Monday\n")
	f.Close()
	if err := AddTeamUser(path, app.TeamUser{Name: "ola", Role: app.RoleStaff, Keys: []string{olaKey}}); err != nil {
		t.Fatal(err)
	}
	if err := AddTeamUser(path, app.TeamUser{Name: "ola", Role: app.RoleStaff, Keys: []string{olaKey}}); app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("adding ola twice: %v, want conflict", err)
	}
	team, err := LoadTeam(path)
	if err != nil || len(team.Users) != 2 || team.Admins() != 1 {
		t.Fatalf("team = %+v, %v", team, err)
	}
	if err := RemoveTeamUser(path, "mia"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "mia") || !strings.Contains(string(data), "# ola starts on Monday") {
		t.Fatalf("after removing mia:\n%s", data)
	}
	team, err = LoadTeam(path)
	if err != nil || len(team.Users) != 1 || team.Users[0].Name != "ola" || team.Users[0].Keys[0] != olaKey {
		t.Fatalf("team = %+v, %v", team, err)
	}
	if err := RemoveTeamUser(path, "mia"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("removing mia twice: %v, want not found", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("team.toml mode %v, want 0600", st.Mode().Perm())
	}
}

func TestListFiltersByRequesterFromMineAndFromABySearch(t *testing.T) {
	db, clock := openTest(t)
	var reqs []app.Request
	for i, who := range []string{"mia", "ola", "mia"} {
		r := newRequest(clock.Now().Add(time.Duration(i)*time.Second), []string{"red car", "red car", "blue car"}[i])
		r.RequestedBy = who
		reqs = append(reqs, r)
	}
	if err := db.CreateRequests(t.Context(), reqs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    app.ListQuery
		want int
	}{
		{"mine", app.ListQuery{RequestedBy: "mia"}, 2},
		{"by:NAME", app.ListQuery{Search: "by:ola"}, 1},
		{"by:NAME with prompt text", app.ListQuery{Search: "by:mia red"}, 1},
		{"mine and someone else's by:NAME", app.ListQuery{RequestedBy: "mia", Search: "by:ola"}, 0},
	}
	for _, tt := range tests {
		page, err := db.ListRequests(t.Context(), tt.q)
		n, cerr := db.CountRequests(t.Context(), tt.q)
		if err != nil || cerr != nil || len(page.Requests) != tt.want || n != tt.want {
			t.Errorf("%s: %d rows, count %d (%v %v), want %d", tt.name, len(page.Requests), n, err, cerr, tt.want)
		}
		// the tab counts: one grouped query with the same search and requester
		byState, gerr := db.CountByStatusMatching(t.Context(), tt.q)
		if gerr != nil || byState[app.StatusQueued] != tt.want || len(byState) != len(app.Statuses) {
			t.Errorf("%s: counts by state %v (%v), want %d queued", tt.name, byState, gerr, tt.want)
		}
	}
}
