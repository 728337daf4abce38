package store

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/influencegen/influencegen/app"
)

// LoadOptions says where to look; the zero value reads the real
// environment and OS folders.
type LoadOptions struct {
	Home string // --home; wins over INFLUENCEGEN_HOME
	// Overrides are flag-level settings, "section.key" → value. They win
	// over env and file (DESIGN §1).
	Overrides map[string]string

	Getenv        func(string) string    // default os.Getenv
	UserConfigDir func() (string, error) // default os.UserConfigDir
	UserHomeDir   func() (string, error) // default os.UserHomeDir
	GOOS          string                 // default runtime.GOOS
}

func (o *LoadOptions) defaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.UserConfigDir == nil {
		o.UserConfigDir = os.UserConfigDir
	}
	if o.UserHomeDir == nil {
		o.UserHomeDir = os.UserHomeDir
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
}

// LoadConfig resolves the paths and the configuration: defaults, then the
// config file, then INFLUENCEGEN_<SECTION>_<KEY>, then flag overrides; then
// app.Config.Check. Every error names the key and where its value came from.
// A missing config file is not an error: the defaults work for a demo.
func LoadConfig(opts LoadOptions) (app.Config, app.Paths, error) {
	opts.defaults()
	paths, err := ResolvePaths(opts)
	if err != nil {
		return app.Config{}, app.Paths{}, err
	}
	cfg := app.DefaultConfig()
	sources := map[string]string{}
	if err := decodeConfigFile(paths.ConfigFile, &cfg, sources); err != nil {
		return app.Config{}, paths, err
	}
	for _, k := range configKeys() {
		raw, ok := lookupEnv(opts.Getenv, k.env)
		if !ok {
			continue
		}
		if err := k.set(&cfg, raw); err != nil {
			return app.Config{}, paths, app.Errorf(app.EINVALID, "%s (%s): %v", k.env, k.name, err)
		}
		sources[k.name] = "env " + k.env
	}
	for _, name := range sortedKeys(opts.Overrides) {
		k, err := findConfigKey(name)
		if err != nil {
			return app.Config{}, paths, err
		}
		if err := k.set(&cfg, opts.Overrides[name]); err != nil {
			return app.Config{}, paths, app.Errorf(app.EINVALID, "flag for %s: %v", k.name, err)
		}
		sources[k.name] = "a command-line flag"
	}
	if err := cfg.Check(); err != nil {
		return app.Config{}, paths, explainCheck(err, sources, paths.ConfigFile)
	}
	cfg.ApplyProviderModels()
	return cfg, paths, nil
}

// lookupEnv reads an env override. An empty variable counts as unset, the
// same as everywhere else in the program (docker-compose and systemd pass
// empty variables around freely).
func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// ResolvePaths applies DESIGN §1: --home or INFLUENCEGEN_HOME puts every
// file in one folder; otherwise config goes to the OS config folder, data to
// $XDG_DATA_HOME (or the OS equivalent) and the log to $XDG_STATE_HOME.
func ResolvePaths(opts LoadOptions) (app.Paths, error) {
	opts.defaults()
	home := opts.Home
	if home == "" {
		home = opts.Getenv("INFLUENCEGEN_HOME")
	}
	if home != "" {
		dir, err := absDir(home, opts)
		if err != nil {
			return app.Paths{}, app.Errorf(app.EINVALID, "--home / INFLUENCEGEN_HOME %q: %v", home, err)
		}
		return app.Paths{
			Home: dir, ConfigFile: filepath.Join(dir, "config.toml"), DataDir: dir,
			DB: filepath.Join(dir, "influencegen.db"), ImagesDir: filepath.Join(dir, "images"),
			LogFile: filepath.Join(dir, "influencegen.log"),
		}, nil
	}
	userHome, herr := opts.UserHomeDir()
	cfgDir, err := opts.UserConfigDir()
	if err != nil {
		return app.Paths{}, app.Errorf(app.EUNAVAILABLE, "cannot find the config folder (%v): set INFLUENCEGEN_HOME or --home", err)
	}
	dataBase, stateBase := opts.Getenv("XDG_DATA_HOME"), opts.Getenv("XDG_STATE_HOME")
	if dataBase == "" || stateBase == "" {
		if herr != nil {
			return app.Paths{}, app.Errorf(app.EUNAVAILABLE, "cannot find the home folder (%v): set INFLUENCEGEN_HOME or --home", herr)
		}
		d, s := osDataStateDirs(opts, userHome)
		if dataBase == "" {
			dataBase = d
		}
		if stateBase == "" {
			stateBase = s
		}
	}
	data := filepath.Join(dataBase, "influencegen")
	return app.Paths{
		ConfigFile: filepath.Join(cfgDir, "influencegen", "config.toml"),
		DataDir:    data,
		DB:         filepath.Join(data, "influencegen.db"),
		ImagesDir:  filepath.Join(data, "images"),
		LogFile:    filepath.Join(stateBase, "influencegen", "influencegen.log"),
	}, nil
}

// osDataStateDirs gives the data and state bases when XDG_* are unset.
func osDataStateDirs(opts LoadOptions, userHome string) (data, state string) {
	switch opts.GOOS {
	case "darwin":
		return filepath.Join(userHome, "Library", "Application Support"), filepath.Join(userHome, "Library", "Logs")
	case "windows":
		if local := opts.Getenv("LocalAppData"); local != "" {
			return local, local
		}
		return filepath.Join(userHome, "AppData", "Local"), filepath.Join(userHome, "AppData", "Local")
	}
	return filepath.Join(userHome, ".local", "share"), filepath.Join(userHome, ".local", "state")
}

func absDir(dir string, opts LoadOptions) (string, error) {
	if rest, ok := strings.CutPrefix(dir, "~"); ok && (rest == "" || rest[0] == '/' || rest[0] == filepath.Separator) {
		h, err := opts.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = h + rest
	}
	return filepath.Abs(dir)
}

// decodeConfigFile reads path into cfg strictly: unknown keys, secret-looking
// keys and bad values are errors naming the key and the file.
func decodeConfigFile(path string, cfg *app.Config, sources map[string]string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return app.Errorf(app.EUNAVAILABLE, "read config file %s: %v", path, unwrapPathError(err))
	}
	return decodeConfigBytes(path, data, cfg, sources)
}

func decodeConfigBytes(path string, data []byte, cfg *app.Config, sources map[string]string) error {
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			where := fmt.Sprintf("line %d", pe.Position.Line)
			if pe.LastKey != "" {
				where += ", key " + pe.LastKey
			}
			return app.Errorf(app.EINVALID, "config file %s: %s: %s", path, where, pe.Message)
		}
		return app.Errorf(app.EINVALID, "config file %s: %s", path, strings.TrimPrefix(err.Error(), "toml: "))
	}
	var problems []string
	for _, key := range md.Undecoded() {
		if len(key) > 1 && slices.ContainsFunc(md.Undecoded(), func(k toml.Key) bool { return k.String() == key[:len(key)-1].String() }) {
			continue // its whole section is unknown; reported once, below
		}
		problems = append(problems, unknownKeyProblem(key.String()))
	}
	if len(problems) > 0 {
		return app.Errorf(app.EINVALID, "config file %s: %s", path, strings.Join(problems, "; "))
	}
	for _, key := range md.Keys() {
		if len(key) == 2 {
			sources[key.String()] = "config file " + path
		}
	}
	return nil
}

// unknownKeyProblem explains an unknown key: a secret in the wrong place, a
// misspelt key in a known section, or an unknown section.
func unknownKeyProblem(name string) string {
	if hint := secretKeyHint(name); hint != "" {
		return hint
	}
	section, _, hasKey := strings.Cut(name, ".")
	var keys []string
	for _, k := range configKeys() {
		if strings.HasPrefix(k.name, section+".") {
			keys = append(keys, strings.TrimPrefix(k.name, section+"."))
		}
	}
	if !hasKey || len(keys) == 0 {
		if hasKey {
			return fmt.Sprintf("unknown key %s: the sections are [%s]", name, strings.Join(configSections(), "], ["))
		}
		return fmt.Sprintf("unknown section [%s]: the sections are [%s]", name, strings.Join(configSections(), "], ["))
	}
	return fmt.Sprintf("unknown key %s: the keys of [%s] are %s", name, section, strings.Join(keys, ", "))
}

// secretKeyHint returns a message when a config key looks like a secret, ""
// otherwise. Secrets live in the keyring, never in config.toml.
func secretKeyHint(name string) string {
	low := strings.ToLower(name)
	if !app.LooksSecret(low) && !strings.Contains(low, "api_key") {
		return ""
	}
	secret := ""
	switch {
	case strings.Contains(low, "webhook") || strings.Contains(low, "signing"):
		secret = app.SecretWebhookSecret
	case strings.HasPrefix(low, "n8n"):
		secret = app.SecretN8NAPIKey
	case strings.HasPrefix(low, "odoo"):
		secret = app.SecretOdooAPIKey
	case strings.HasPrefix(low, "callback") || strings.Contains(low, "token"):
		secret = app.SecretCallbackToken
	}
	if secret == "" {
		return fmt.Sprintf("%s looks like a secret, and secrets never go in the config file: store them with `influencegen secrets set NAME` (names: %s)",
			name, strings.Join(app.SecretNames, ", "))
	}
	return fmt.Sprintf("%s looks like a secret, and secrets never go in the config file: store it with `influencegen secrets set %s` (or set %s)",
		name, secret, EnvVarFor(secret))
}

// explainCheck adds to each problem found by app.Config.Check where the
// offending key got its value, so a person knows which file or variable to fix.
func explainCheck(err error, sources map[string]string, file string) error {
	var ae *app.Error
	if !errors.As(err, &ae) {
		return err
	}
	parts := strings.Split(ae.Message, "; ")
	for i, p := range parts {
		key := p
		if j := strings.IndexAny(p, " :"); j > 0 {
			key = p[:j]
		}
		if src, ok := sources[key]; ok {
			parts[i] = fmt.Sprintf("%s (set by %s)", p, src)
		} else if _, err := findConfigKey(key); err == nil {
			parts[i] = fmt.Sprintf("%s (the default; set %s in %s)", p, key, file)
		}
	}
	return &app.Error{Code: ae.Code, Reason: "invalid_config", Message: "invalid configuration: " + strings.Join(parts, "; "), Err: err}
}

// configKey is one leaf of app.Config, found through its toml tags so the
// key list can never drift from the struct.
type configKey struct {
	name  string // "n8n.timeout"
	env   string // "INFLUENCEGEN_N8N_TIMEOUT"
	index []int  // reflect field path
}

// configKeys lists every config key in struct order. Computed once:
// two commands loading config at once in one process (two serve hosts in
// a test) raced on a lazily filled global.
var configKeys = sync.OnceValue(func() []configKey {
	var keys []configKey
	t := reflect.TypeFor[app.Config]()
	for i := range t.NumField() {
		sec := t.Field(i)
		secName := tomlName(sec)
		for j := range sec.Type.NumField() {
			f := sec.Type.Field(j)
			name := secName + "." + tomlName(f)
			keys = append(keys, configKey{
				name:  name,
				env:   "INFLUENCEGEN_" + strings.ToUpper(strings.ReplaceAll(name, ".", "_")),
				index: []int{i, j},
			})
		}
	}
	return keys
})

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func configSections() []string {
	var out []string
	for _, k := range configKeys() {
		sec, _, _ := strings.Cut(k.name, ".")
		if !slices.Contains(out, sec) {
			out = append(out, sec)
		}
	}
	return out
}

// ConfigKeys returns every config key ("section.key") and its env override.
func ConfigKeys() (keys, envs []string) {
	for _, k := range configKeys() {
		keys, envs = append(keys, k.name), append(envs, k.env)
	}
	return keys, envs
}

func findConfigKey(name string) (configKey, error) {
	norm := strings.ToLower(strings.TrimSpace(name))
	for _, k := range configKeys() {
		if k.name == norm {
			return k, nil
		}
	}
	if hint := secretKeyHint(norm); hint != "" {
		return configKey{}, app.Errorf(app.EINVALID, "%s", hint)
	}
	return configKey{}, app.Errorf(app.EINVALID, "%s", unknownKeyProblem(norm))
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// set parses raw into the key's field of cfg: durations like 15s, sizes
// like 32MiB, booleans, and lists as comma-separated text.
func (k configKey) set(cfg *app.Config, raw string) error {
	v := reflect.ValueOf(cfg).Elem().FieldByIndex(k.index)
	if v.Addr().Type().Implements(textUnmarshaler) {
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.TrimSpace(raw))
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not a boolean: use true or false", raw)
		}
		v.SetBool(b)
	case reflect.Slice:
		list := []string{}
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		v.SetInt(n)
	default:
		return fmt.Errorf("cannot be set from text (internal: %s)", v.Kind())
	}
	return nil
}

// tomlValue returns the key's value of cfg as it is written in TOML.
func (k configKey) tomlValue(cfg *app.Config) any {
	v := reflect.ValueOf(cfg).Elem().FieldByIndex(k.index)
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, _ := m.MarshalText()
		return string(b)
	}
	return v.Interface()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
