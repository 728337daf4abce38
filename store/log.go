package store

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// maxLogSize is where OpenLog starts a fresh file (keeping one old one as
// influencegen.log.1), so a long-running serve cannot fill the disk.
const maxLogSize = 16 << 20

// ParseLogLevel turns --log-level into a slog level.
func ParseLogLevel(level string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, app.Errorf(app.EINVALID, "--log-level %q: use debug, info, warn or error", level)
}

// OpenLog opens the log file of paths (JSON lines, file 0600, folder 0700)
// and returns a logger writing to it. The TUI owns the terminal, so nothing
// goes to stderr unless alsoStderr is given (serve), which gets the same
// records as text. Every record passes app.MaskSecretAttr.
func OpenLog(paths app.Paths, level string, alsoStderr io.Writer) (*slog.Logger, io.Closer, error) {
	lvl, err := ParseLogLevel(level)
	if err != nil {
		return nil, nil, err
	}
	if paths.LogFile == "" {
		return nil, nil, app.Errorf(app.EINTERNAL, "no log file path: resolve paths with LoadConfig first")
	}
	if err := os.MkdirAll(filepath.Dir(paths.LogFile), 0o700); err != nil {
		return nil, nil, app.Errorf(app.EUNAVAILABLE, "create log folder %s: %w", filepath.Dir(paths.LogFile), err)
	}
	if fi, err := os.Stat(paths.LogFile); err == nil && fi.Size() > maxLogSize {
		// Best effort: a failed rename only means the file keeps growing.
		_ = os.Rename(paths.LogFile, paths.LogFile+".1")
	}
	f, err := os.OpenFile(paths.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, app.Errorf(app.EUNAVAILABLE, "open log file %s: %w", paths.LogFile, err)
	}
	// The file may predate us with looser permissions; logs hold request
	// details that are nobody else's business.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, nil, app.Errorf(app.EUNAVAILABLE, "chmod log file %s: %w", paths.LogFile, err)
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: app.MaskSecretAttr}
	var h slog.Handler = slog.NewJSONHandler(f, opts)
	if alsoStderr != nil {
		h = slog.NewMultiHandler(h, slog.NewTextHandler(alsoStderr, opts))
	}
	return slog.New(h), f, nil
}
