package app

import (
	"context"
	"fmt"
	"strings"
)

// Doctor check states. Only CheckFail makes `doctor` exit 1: a warning is
// something to know (e.g. no tunnel), a skip is a part that is not set up.
const (
	CheckOK   = "ok"
	CheckWarn = "warn"
	CheckFail = "fail"
	CheckSkip = "skip"
)

// Check is one line of `doctor`: what was checked, whether it passed, what
// was seen, and for anything short of ok the one thing to do about it.
type Check struct {
	Name   string `json:"name"`
	State  string `json:"state"` // ok | warn | fail | skip
	OK     bool   `json:"ok"`    // false only for fail
	Detail string `json:"detail"`
	Remedy string `json:"remedy,omitempty"`
}

// NewCheck builds a Check, keeping OK consistent with State.
func NewCheck(name, state, detail, remedy string) Check {
	return Check{Name: name, State: state, OK: state != CheckFail, Detail: detail, Remedy: remedy}
}

// DoctorReport is the whole `doctor --json` document.
type DoctorReport struct {
	Profile string  `json:"profile"`
	OK      bool    `json:"ok"`
	Checks  []Check `json:"checks"`
}

// NewDoctorReport sums the checks up.
func NewDoctorReport(profile string, checks []Check) DoctorReport {
	ok := true
	for _, c := range checks {
		ok = ok && c.OK
	}
	return DoctorReport{Profile: profile, OK: ok, Checks: checks}
}

// DBHealth is what doctor asks of the database; the SQLite store provides it.
type DBHealth interface {
	QuickCheck(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)
}

// CheckConfig reports whether the configuration loaded; err is what loading
// (and Config.Check) returned.
func CheckConfig(cfg Config, paths Paths, err error) Check {
	if err != nil {
		return NewCheck("config", CheckFail, ErrorMessage(err),
			fmt.Sprintf("fix the key named above in %s (or its INFLUENCEGEN_* env override), then run doctor again", orUnknown(paths.ConfigFile)))
	}
	if err := cfg.Check(); err != nil {
		return NewCheck("config", CheckFail, ErrorMessage(err), "fix it with `influencegen config set KEY VALUE`")
	}
	return NewCheck("config", CheckOK, "parsed "+orUnknown(paths.ConfigFile), "")
}

func orUnknown(s string) string {
	if s == "" {
		return "(defaults: no config file)"
	}
	return s
}

// secretNeed says whether a secret is required under cfg, and why.
func secretNeed(cfg Config, name string) (required bool, why string) {
	switch name {
	case SecretN8NAPIKey:
		return true, "the n8n webhook's Header Auth credential expects it"
	case SecretCallbackToken:
		return cfg.Callback.Auth != AuthSignature, "n8n sends it in X-Callback-Token (callback.auth = " + cfg.Callback.Auth + ")"
	case SecretWebhookSecret:
		return cfg.Callback.Auth != AuthToken, "callback.auth = " + cfg.Callback.Auth + " verifies signatures with it"
	case SecretOdooAPIKey:
		return cfg.OdooEnabled(), "odoo.url is set"
	}
	return false, ""
}

// CheckSecrets reports whether the keyring answers and where each secret
// comes from, without ever showing a value.
func CheckSecrets(ctx context.Context, secrets Secrets, cfg Config) []Check {
	if secrets == nil {
		return []Check{NewCheck("keyring", CheckSkip, "secrets are not wired in this build", "")}
	}
	statuses, err := secrets.Status(ctx)
	if err != nil {
		// No keyring is fine when every secret comes from the environment:
		// the per-secret lines below decide whether anything fails.
		out := []Check{NewCheck("keyring", CheckWarn, ErrorMessage(err), "")}
		return append(out, secretsWithoutStatus(ctx, secrets, cfg)...)
	}
	var keyringErr, memory string
	for _, st := range statuses {
		if st.Error != "" && keyringErr == "" {
			keyringErr = st.Error
		}
		if st.Source == SourceMemory {
			memory = "secrets live in memory for this process only (no Secret Service)"
		}
	}
	var out []Check
	switch {
	case keyringErr != "":
		out = append(out, NewCheck("keyring", CheckWarn, keyringErr,
			"install and unlock a Secret Service keyring, or provide each secret as INFLUENCEGEN_<NAME> or INFLUENCEGEN_<NAME>_FILE"))
	case memory != "":
		out = append(out, NewCheck("keyring", CheckWarn, memory, ""))
	default:
		out = append(out, NewCheck("keyring", CheckOK, "reachable", ""))
	}
	for _, st := range statuses {
		name := "secret " + st.Name
		required, why := secretNeed(cfg, st.Name)
		switch {
		case st.Source == SourceMissing || st.Source == "":
			if !required {
				out = append(out, NewCheck(name, CheckSkip, "not set (not needed now)", ""))
				continue
			}
			out = append(out, NewCheck(name, CheckFail, "missing: "+why, secretRemedy(st.Name)))
		case st.Name == SecretCallbackTokenPrevious && st.Expired:
			out = append(out, NewCheck(name, CheckSkip, "expired (no longer accepted)", ""))
		default:
			detail := fmt.Sprintf("from %s, fingerprint %s", st.Source, st.Fingerprint)
			if st.ExpiresAt != nil {
				detail += ", accepted until " + st.ExpiresAt.Local().Format("15:04 Jan 2")
			}
			out = append(out, NewCheck(name, CheckOK, detail, ""))
		}
	}
	return out
}

// secretsWithoutStatus reads each secret one by one when the store cannot
// list them (keyring down), so env and _FILE overrides still count.
func secretsWithoutStatus(ctx context.Context, secrets Secrets, cfg Config) []Check {
	var out []Check
	for _, name := range SecretNames {
		if name == SecretCallbackTokenPrevious {
			continue
		}
		line := "secret " + name
		required, why := secretNeed(cfg, name)
		value, source, err := secrets.Get(ctx, name)
		switch {
		case err == nil:
			out = append(out, NewCheck(line, CheckOK, fmt.Sprintf("from %s, fingerprint %s", source, Fingerprint(value)), ""))
		case !required:
			out = append(out, NewCheck(line, CheckSkip, "not readable, not needed now", ""))
		case ErrorCode(err) == ENOTFOUND:
			out = append(out, NewCheck(line, CheckFail, "missing: "+why, secretRemedy(name)))
		default:
			out = append(out, NewCheck(line, CheckFail, "cannot be read without the keyring: "+why,
				fmt.Sprintf("put it in a file readable only by you and set %s_FILE=/path/to/file (or unlock a keyring)", SecretEnvName(name))))
		}
	}
	return out
}

// SecretEnvName is the environment override of a secret (DESIGN §2).
func SecretEnvName(name string) string {
	return "INFLUENCEGEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func secretRemedy(name string) string {
	if name == SecretCallbackToken {
		return "influencegen secrets rotate callback-token (then paste it into n8n's callback credential)"
	}
	return "influencegen secrets set " + name
}

// CheckDatabase runs SQLite's quick_check and reports the schema version.
// latest is the version this build migrates to (0 = unknown).
func CheckDatabase(ctx context.Context, db DBHealth, path string, latest int) Check {
	if db == nil {
		return NewCheck("database", CheckSkip, "this store does not support health checks", "")
	}
	if err := db.QuickCheck(ctx); err != nil {
		return NewCheck("database", CheckFail, ErrorMessage(err),
			"stop every influencegen process, copy "+path+" aside and restore a backup; the images folder is kept")
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return NewCheck("database", CheckFail, ErrorMessage(err), "check that "+path+" is readable by you")
	}
	if latest > 0 && v != latest {
		return NewCheck("database", CheckFail, fmt.Sprintf("schema version %d, this build expects %d", v, latest),
			"run a build at least as new as the one that last wrote the database")
	}
	return NewCheck("database", CheckOK, fmt.Sprintf("quick_check ok, schema version %d (%s)", v, path), "")
}

// CheckOutbox reports the Odoo backlog and parked (permanently failed) items.
func CheckOutbox(ctx context.Context, st OutboxStore, odooEnabled bool) Check {
	if st == nil {
		return NewCheck("odoo outbox", CheckSkip, "no store", "")
	}
	s, err := st.OutboxStats(ctx)
	if err != nil {
		return NewCheck("odoo outbox", CheckFail, ErrorMessage(err), "run doctor again; if it persists, check the database above")
	}
	detail := fmt.Sprintf("%d pending, %d parked", s.Pending, s.Parked)
	if s.OldestPending != nil {
		detail += ", oldest pending since " + s.OldestPending.Local().Format("2006-01-02 15:04")
	}
	switch {
	case s.Parked > 0:
		last := s.LastError
		if last != "" {
			detail += "; last error: " + last
		}
		return NewCheck("odoo outbox", CheckFail, detail, "fix the cause shown, then `influencegen sync retry`")
	case !odooEnabled && s.Pending > 0:
		return NewCheck("odoo outbox", CheckWarn, detail+" (sync is off)", "set odoo.url to sync them, or ignore: they wait harmlessly")
	case s.Pending > 0 && s.LastError != "":
		return NewCheck("odoo outbox", CheckWarn, detail+"; last error: "+s.LastError, "it retries by itself; check the Odoo lines above")
	}
	return NewCheck("odoo outbox", CheckOK, detail, "")
}

// CheckERP turns the Odoo connection check into doctor lines. erp is nil
// when odoo.url is empty: sync is off, which is fine.
func CheckERP(ctx context.Context, erp ERP, cfg Config) []Check {
	if !cfg.OdooEnabled() || erp == nil {
		return []Check{NewCheck("odoo", CheckSkip, "sync off (odoo.url is empty)",
			"to sync: influencegen config set odoo.url https://odoo.example.com")}
	}
	res, err := erp.Check(ctx)
	if err != nil {
		return []Check{NewCheck("odoo", CheckFail, ErrorMessage(err), "run doctor again")}
	}
	out := make([]Check, 0, len(res.Items))
	for _, it := range res.Items {
		name := "odoo " + it.Name
		if it.OK {
			out = append(out, NewCheck(name, CheckOK, it.Detail, ""))
			continue
		}
		out = append(out, NewCheck(name, CheckFail, it.Detail, odooRemedy(it.Reason, cfg)))
	}
	if len(out) == 0 {
		out = append(out, NewCheck("odoo", CheckFail, "the Odoo check returned nothing", "run doctor again with --log-level debug and read the log"))
	}
	return out
}

func odooRemedy(reason string, cfg Config) string {
	switch reason {
	case ReasonOdooAuth:
		return "create an API key in Odoo (Preferences → Account Security) and run `influencegen secrets set odoo-api-key`"
	case ReasonOdooAccess:
		return "give the Odoo user " + orDash(cfg.Odoo.Username) + " the InfluenceGen rights (or use an admin for the token push)"
	case ReasonOdooModelMissing:
		return "install the influence_gen_ai_integration addon from odoo/addon, or set odoo.request_model / odoo.image_model"
	case ReasonOdooUnreachable, ReasonOdooTimeout, ReasonOdooUnavailable:
		return "check odoo.url (" + cfg.Odoo.URL + ") and that Odoo is running and reachable from here"
	case ReasonOdooProtocol:
		return "set odoo.protocol to json2 (Odoo 19+) or jsonrpc (older), and check odoo.url has no path"
	}
	return "see the README troubleshooting table for " + orDash(reason)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// FileReport is what a look at the image files found (the store's
// collector provides it).
type FileReport struct {
	Orphans      int      // files no image row references (removed by the collector after a grace period)
	OrphanBytes  int64    //
	Missing      int      // image rows whose file is gone
	MissingPaths []string // the first few
}

// FileHealth is what doctor asks of the image files; the SQLite store
// provides it without changing anything.
type FileHealth interface {
	InspectImageFiles(ctx context.Context, imagesDir string) (FileReport, error)
}

// CheckImageFiles reports unreferenced files and image rows whose file is
// missing.
func CheckImageFiles(ctx context.Context, fh FileHealth, imagesDir string) Check {
	if fh == nil {
		return NewCheck("image files", CheckSkip, "this store does not support file checks", "")
	}
	rep, err := fh.InspectImageFiles(ctx, imagesDir)
	if err != nil {
		return NewCheck("image files", CheckFail, ErrorMessage(err), "check that "+imagesDir+" is readable by you")
	}
	switch {
	case rep.Missing > 0:
		return NewCheck("image files", CheckWarn,
			fmt.Sprintf("%d image(s) point to a missing file (first: %s); %d unreferenced file(s)", rep.Missing, strings.Join(rep.MissingPaths, ", "), rep.Orphans),
			"restore the files from a backup of "+imagesDir+", or delete the requests they belong to")
	case rep.Orphans > 0:
		return NewCheck("image files", CheckWarn,
			fmt.Sprintf("%d unreferenced file(s), %.1f MiB, in %s", rep.Orphans, float64(rep.OrphanBytes)/(1<<20), imagesDir),
			"nothing to do: serve and the dashboard remove them once they are an hour old (at start and daily)")
	}
	return NewCheck("image files", CheckOK, "every image row has its file; no unreferenced files in "+imagesDir, "")
}
