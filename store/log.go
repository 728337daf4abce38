package store

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// The log rotates by size while the program runs: at logMaxSize the file
// becomes influencegen.log.1 (the older ones move up to .4, the oldest is
// dropped), so a long-running serve keeps at most logKeep files of
// logMaxSize each, whatever is thrown at it.
var (
	logMaxSize int64 = 10 << 20 // a variable so tests can rotate quickly
	logKeep          = 5        // the current file and four old ones
)

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
	f, err := openRotatingLog(paths.LogFile, logMaxSize, logKeep)
	if err != nil {
		return nil, nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: clipAttr}
	var h slog.Handler = slog.NewJSONHandler(f, opts)
	if alsoStderr != nil {
		h = slog.NewMultiHandler(h, slog.NewTextHandler(alsoStderr, opts))
	}
	return slog.New(h), f, nil
}

// clipAttr masks secrets (app.MaskSecretAttr) and then clips every string
// and error to app.MaxOutsideText: a record may quote outside text (an
// 8 MiB image_url, a huge error body), and no such value may turn one log
// line into megabytes. The JSON handler escapes control characters itself.
func clipAttr(groups []string, a slog.Attr) slog.Attr {
	a = app.MaskSecretAttr(groups, a)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > app.MaxOutsideText {
			return slog.String(a.Key, app.ClipText(v.String(), app.MaxOutsideText))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			if msg := err.Error(); len(msg) > app.MaxOutsideText {
				return slog.String(a.Key, app.ClipText(msg, app.MaxOutsideText))
			}
		}
	}
	return a
}
