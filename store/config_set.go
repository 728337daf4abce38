package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
	"github.com/influencegen/influencegen/app"
)

// SetConfigValue writes one key into the config file at path, keeping every
// other key, after checking that the result loads: the value parses, the key
// exists, and app.Config.Check passes on defaults + the new file. Secret-
// looking keys are refused with a pointer to `secrets set`. The file is
// re-encoded (comments are not kept) and replaced atomically.
func SetConfigValue(path, key, value string) error {
	k, err := findConfigKey(key)
	if err != nil {
		return err
	}
	var probe app.Config
	if err := k.set(&probe, value); err != nil {
		return app.Errorf(app.EINVALID, "%s: %v", k.name, err)
	}

	doc := map[string]any{}
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return app.Errorf(app.EUNAVAILABLE, "read config file %s: %v", path, unwrapPathError(err))
	default:
		if _, err := toml.Decode(string(old), &doc); err != nil {
			return app.Errorf(app.EINVALID, "config file %s cannot be parsed (%s): fix it by hand first", path, err)
		}
	}
	section, name := splitKey(k.name)
	table, ok := doc[section].(map[string]any)
	if !ok {
		if doc[section] != nil {
			return app.Errorf(app.EINVALID, "config file %s: %s is not a table: fix it by hand first", path, section)
		}
		table = map[string]any{}
		doc[section] = table
	}
	table[name] = k.tomlValue(&probe)

	var buf bytes.Buffer
	buf.WriteString("# influencegen configuration (see README: Configuration).\n# Edited by `influencegen config set`; secrets live in the keyring, never here.\n\n")
	if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
		return app.Errorf(app.EINTERNAL, "encode config: %w", err)
	}
	check := app.DefaultConfig()
	if err := decodeConfigBytes(path, buf.Bytes(), &check, map[string]string{}); err != nil {
		return err
	}
	if err := check.Check(); err != nil {
		return app.Errorf(app.EINVALID, "%s = %q would make the config invalid, so the file is unchanged: %s", k.name, value, app.ErrorMessage(err))
	}
	return writeFileAtomic(path, buf.Bytes())
}

func splitKey(name string) (section, key string) {
	for i := range len(name) {
		if name[i] == '.' {
			return name[:i], name[i+1:]
		}
	}
	return name, ""
}

// writeFileAtomic writes data to a temp file beside path, syncs it and
// renames it over path, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return app.Errorf(app.EUNAVAILABLE, "create config folder %s: %v", dir, unwrapPathError(err))
	}
	tmp, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return app.Errorf(app.EUNAVAILABLE, "write config file in %s: %v", dir, unwrapPathError(err))
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return app.Errorf(app.EUNAVAILABLE, "write config file %s: %v", path, werr)
	}
	return nil
}
