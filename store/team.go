package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
)

// TeamFile is where the team host's users live: team.toml beside
// config.toml, so --home and INFLUENCEGEN_HOME move it with the rest.
func TeamFile(paths app.Paths) string {
	return filepath.Join(filepath.Dir(paths.ConfigFile), "team.toml")
}

type teamFile struct {
	User []app.TeamUser `toml:"user"`
}

// LoadTeam reads and validates team.toml. A missing file is an empty team
// (nobody may connect yet). Every problem names the file and the line, since
// people edit this file by hand.
func LoadTeam(path string) (app.Team, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return app.Team{}, nil
	}
	if err != nil {
		return app.Team{}, app.Errorf(app.EINVALID, "team file %s: %v", path, err)
	}
	return ParseTeam(path, data)
}

// ParseTeam decodes and validates team.toml's content.
func ParseTeam(path string, data []byte) (app.Team, error) {
	var tf teamFile
	md, err := toml.Decode(string(data), &tf)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return app.Team{}, app.Errorf(app.EINVALID, "%s:%d: %s", path, perr.Position.Line, perr.Message)
		}
		return app.Team{}, app.Errorf(app.EINVALID, "%s: %v", path, err)
	}
	blocks := userBlockLines(data)
	lineOf := func(i int, key string) int {
		if i >= len(blocks) {
			return 0
		}
		for n := blocks[i].start; n <= blocks[i].end; n++ {
			if k, _, ok := strings.Cut(blocks[i].lines[n-blocks[i].start], "="); ok && strings.TrimSpace(k) == key {
				return n
			}
		}
		return blocks[i].start
	}
	var problems []string
	add := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	for _, k := range md.Undecoded() {
		add(0, "unknown key %q: a [[user]] has name, role and keys", k.String())
	}
	seenName := map[string]int{}
	seenKey := map[string]string{}
	for i, u := range tf.User {
		if err := app.CheckUserName(u.Name); err != nil {
			add(lineOf(i, "name"), "%s", app.ErrorMessage(err))
		} else if prev, dup := seenName[u.Name]; dup {
			add(lineOf(i, "name"), "user %q is listed twice (first at line %d)", u.Name, prev)
		} else {
			seenName[u.Name] = lineOf(i, "name")
		}
		role, err := app.ParseRole(string(u.Role))
		if err != nil {
			add(lineOf(i, "role"), "user %q: %s", u.Name, app.ErrorMessage(err))
		}
		tf.User[i].Role = role
		if len(u.Keys) == 0 {
			add(lineOf(i, "keys"), "user %q has no keys: add keys = [\"ssh-ed25519 AAAA… %s@laptop\"]", u.Name, u.Name)
		}
		for _, k := range u.Keys {
			pub, err := ParseSSHKey(k)
			if err != nil {
				add(lineOf(i, "keys"), "user %q: %s", u.Name, app.ErrorMessage(err))
				continue
			}
			fp := gossh.FingerprintSHA256(pub)
			if owner, dup := seenKey[fp]; dup {
				add(lineOf(i, "keys"), "user %q: key %s already belongs to %q (a key identifies one person)", u.Name, fp, owner)
			}
			seenKey[fp] = u.Name
		}
	}
	if len(problems) > 0 {
		return app.Team{}, app.Errorf(app.EINVALID, "%s", strings.Join(problems, "; "))
	}
	return app.Team{Users: tf.User}, nil
}

// ParseSSHKey reads one public key in authorized_keys form. Only the key
// types OpenSSH still offers by default are accepted.
func ParseSSHKey(line string) (gossh.PublicKey, error) {
	pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	if err != nil {
		return nil, app.Errorf(app.EINVALID, "not an SSH public key (%v): paste a line like \"ssh-ed25519 AAAA… name@host\" from ~/.ssh/id_ed25519.pub", err)
	}
	switch pub.Type() {
	case gossh.KeyAlgoED25519, gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521, gossh.KeyAlgoRSA,
		gossh.KeyAlgoSKED25519, gossh.KeyAlgoSKECDSA256:
	default:
		return nil, app.Errorf(app.EINVALID, "key type %s is not accepted: use ssh-ed25519 (ssh-keygen -t ed25519)", pub.Type())
	}
	if pub.Type() == gossh.KeyAlgoRSA {
		if k, ok := pub.(gossh.CryptoPublicKey); ok {
			if rk, ok := k.CryptoPublicKey().(interface{ Size() int }); ok && rk.Size() < 256 {
				return nil, app.Errorf(app.EINVALID, "RSA key of %d bits is too weak: use ssh-ed25519 or RSA of at least 2048 bits", rk.Size()*8)
			}
		}
	}
	return pub, nil
}

type userBlock struct {
	start, end int // 1-based line numbers of the [[user]] header and its last key line
	lines      []string
	open       bool // still collecting lines
}

// userBlockLines finds each [[user]] table in the text, so a problem in
// the i-th user can name its line (the TOML decoder keeps no positions). A
// block ends at its last key line: comments and blank lines after it
// belong to whatever follows.
func userBlockLines(data []byte) []userBlock {
	var blocks []userBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		last := len(blocks) - 1
		switch {
		case line == "[[user]]":
			if last >= 0 {
				blocks[last].open = false
			}
			blocks = append(blocks, userBlock{start: n, end: n, lines: []string{sc.Text()}, open: true})
		case strings.HasPrefix(line, "["):
			if last >= 0 {
				blocks[last].open = false
			}
		case last >= 0 && blocks[last].open:
			blocks[last].lines = append(blocks[last].lines, sc.Text())
			if line != "" && !strings.HasPrefix(line, "#") {
				blocks[last].end = n
			}
		}
	}
	for i := range blocks {
		blocks[i].lines = blocks[i].lines[:blocks[i].end-blocks[i].start+1]
	}
	return blocks
}

// AddTeamUser appends a [[user]] to team.toml, keeping whatever the file
// already holds (comments included), after checking the result parses.
func AddTeamUser(path string, u app.TeamUser) error {
	team, err := LoadTeam(path)
	if err != nil {
		return err
	}
	if _, exists := team.User(u.Name); exists {
		return app.Errorf(app.ECONFLICT, "user %q is already in %s: remove them first (team remove %s) to change their role or keys", u.Name, path, u.Name)
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return app.Errorf(app.EINVALID, "team file %s: %v", path, err)
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) == 0 {
		b.WriteString("# Who may connect to `influencegen serve --ssh`. Edits apply to new sessions.\n")
	} else if !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString("\n[[user]]\n")
	if err := toml.NewEncoder(&b).Encode(struct {
		Name string   `toml:"name"`
		Role app.Role `toml:"role"`
		Keys []string `toml:"keys"`
	}{u.Name, u.Role, u.Keys}); err != nil {
		return app.Errorf(app.EINTERNAL, "encode team user: %v", err)
	}
	if _, err := ParseTeam(path, b.Bytes()); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

// RemoveTeamUser deletes the [[user]] block named name, keeping the rest of
// the file as written.
func RemoveTeamUser(path, name string) error {
	team, err := LoadTeam(path)
	if err != nil {
		return err
	}
	idx := -1
	for i, u := range team.Users {
		if u.Name == name {
			idx = i
		}
	}
	if idx < 0 {
		return app.Errorf(app.ENOTFOUND, "no user %q in %s (team list shows who is there)", name, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return app.Errorf(app.EINVALID, "team file %s: %v", path, err)
	}
	blocks := userBlockLines(data)
	if idx >= len(blocks) {
		return app.Errorf(app.EINVALID, "%s: user %q is not in a plain [[user]] block; edit the file by hand", path, name)
	}
	lines := strings.SplitAfter(string(data), "\n")
	kept := append(append([]string{}, lines[:blocks[idx].start-1]...), lines[blocks[idx].end:]...)
	out := []byte(strings.Join(kept, ""))
	if _, err := ParseTeam(path, out); err != nil {
		return err
	}
	return writeFileAtomic(path, out)
}
