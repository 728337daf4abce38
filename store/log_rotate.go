package store

import (
	"fmt"
	"os"
	"sync"

	"github.com/influencegen/influencegen/app"
)

// rotatingLog is the log file, renamed aside and started afresh whenever
// the next record would take it past maxSize. slog handlers write one
// whole record per Write, so a record is never split across two files.
type rotatingLog struct {
	mu      sync.Mutex
	path    string
	maxSize int64
	keep    int // files kept in all: path, path.1 … path.(keep-1)
	f       *os.File
	size    int64
}

func openRotatingLog(path string, maxSize int64, keep int) (*rotatingLog, error) {
	l := &rotatingLog{path: path, maxSize: maxSize, keep: max(keep, 1)}
	if fi, err := os.Stat(path); err == nil && fi.Size() >= maxSize {
		l.shift() // a file left full by the last run starts afresh too
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *rotatingLog) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return app.Errorf(app.EUNAVAILABLE, "open log file %s: %w", l.path, err)
	}
	// The file may predate us with looser permissions; logs hold request
	// details that are nobody else's business.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return app.Errorf(app.EUNAVAILABLE, "chmod log file %s: %w", l.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return app.Errorf(app.EUNAVAILABLE, "stat log file %s: %w", l.path, err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// shift renames path.(keep-2) → path.(keep-1) … path → path.1, dropping
// the oldest. Best effort: a failed rename only means a file keeps growing
// until the next try.
func (l *rotatingLog) shift() {
	if l.keep == 1 {
		_ = os.Remove(l.path)
		return
	}
	_ = os.Remove(fmt.Sprintf("%s.%d", l.path, l.keep-1))
	for i := l.keep - 2; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
	}
	_ = os.Rename(l.path, l.path+".1")
}

func (l *rotatingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxSize {
		_ = l.f.Close()
		l.f = nil
		l.shift()
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *rotatingLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
