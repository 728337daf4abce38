package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// imageSniffPrefix is how much of a file's start is kept in memory to read
// its header: JPEG frame headers can follow EXIF and ICC segments.
const imageSniffPrefix = 1 << 20

// ImageFiles keeps image files by content under one folder:
// <dir>/<sha[:2]>/<sha>.<ext>, files 0600, folders 0700. It implements
// app.ImageFiles.
type ImageFiles struct {
	dir      string
	maxBytes int64
}

var _ app.ImageFiles = (*ImageFiles)(nil)

// NewImageFiles returns the file store of dir (created on first Save).
func NewImageFiles(dir string) *ImageFiles {
	return &ImageFiles{dir: filepath.Clean(dir), maxBytes: app.MaxImageBytes}
}

// imageNameSHA is the sha256 an image file is named by: its base name up
// to the first dot.
func imageNameSHA(path string) string {
	sum, _, _ := strings.Cut(filepath.Base(path), ".")
	return sum
}

// Dir returns the images folder.
func (f *ImageFiles) Dir() string { return f.dir }

// Save streams r into a temp file in the images folder, hashing it in the
// same pass and stopping as soon as it passes the size limit; only a
// complete, valid, fsynced file is renamed to its content address, so a
// crash leaves at most a stray temp file and never a torn image.
func (f *ImageFiles) Save(ctx context.Context, r io.Reader) (app.StoredFile, error) {
	return f.save(ctx, r, true)
}

// SaveUnsynced is Save without the fsyncs of the file and its folder, for
// bytes that are durable elsewhere until the folder is synced: an inline
// image, whose delivery body holds it (images_sync.go). The file is still
// complete and verified before it takes its name.
func (f *ImageFiles) SaveUnsynced(ctx context.Context, r io.Reader) (app.StoredFile, error) {
	return f.save(ctx, r, false)
}

func (f *ImageFiles) save(ctx context.Context, r io.Reader, durable bool) (app.StoredFile, error) {
	// The folders are made when a file does not find them, not checked
	// before each file (issue 17: two stat calls per picture).
	tmp, err := os.CreateTemp(f.dir, ".incoming-*")
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(f.dir, 0o700); err != nil {
			return app.StoredFile{}, app.Errorf(app.EINTERNAL, "create images folder %s: %w", f.dir, err)
		}
		tmp, err = os.CreateTemp(f.dir, ".incoming-*")
	}
	if err != nil {
		return app.StoredFile{}, app.Errorf(app.EINTERNAL, "create temp image file in %s: %w", f.dir, err)
	}
	tmpName := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()

	hash := sha256.New()
	prefix := &prefixBuffer{limit: imageSniffPrefix, buf: getPrefixBuf()}
	defer prefix.release()
	copyBuf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(tmp, hash, prefix), io.LimitReader(ctxReader{ctx, r}, f.maxBytes+1), *copyBuf)
	copyBufs.Put(copyBuf)
	if err != nil {
		if ctx.Err() != nil {
			return app.StoredFile{}, app.Errorf(app.EUNAVAILABLE, "image download stopped: %w", ctx.Err())
		}
		return app.StoredFile{}, app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "reading the image failed after %d bytes: %v", n, err)
	}
	if n > f.maxBytes {
		return app.StoredFile{}, app.ReasonErrorf(app.EINVALID, app.ReasonImageTooLarge, "image is larger than %d MiB", f.maxBytes>>20)
	}
	info, err := app.SniffImage(prefix.buf)
	if err != nil {
		return app.StoredFile{}, err
	}
	// A picture that fits the prefix is verified from memory, not read
	// back from the file (issue 17: the reads were a fifth of a save).
	var whole io.ReaderAt = tmp
	if n == int64(len(prefix.buf)) {
		whole = bytes.NewReader(prefix.buf)
	}
	if err := verifyImage(whole, n, info); err != nil {
		return app.StoredFile{}, err // imageverify.go: decodes, nothing after its end
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return app.StoredFile{}, app.Errorf(app.EINTERNAL, "fsync image: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return app.StoredFile{}, app.Errorf(app.EINTERNAL, "close image: %w", err)
	}

	sum := hex.EncodeToString(hash.Sum(nil))
	sub := filepath.Join(f.dir, sum[:2])
	dest := filepath.Join(sub, sum+"."+info.Ext)
	out := app.StoredFile{Path: dest, SHA256: sum, MimeType: info.MimeType, Width: info.Width, Height: info.Height, Bytes: n}
	// Identical content is already stored: refresh its mtime instead of
	// writing it again (the deferred cleanup drops the temp file). The
	// fresh mtime tells the collector that a reference to the file may be
	// about to be committed; if the collector removed the file a moment
	// ago, Chtimes finds nothing and the temp file takes its place.
	now := time.Now()
	switch err := os.Chtimes(dest, now, now); {
	case err == nil:
		return out, nil
	case !errors.Is(err, os.ErrNotExist):
		return app.StoredFile{}, app.Errorf(app.EINTERNAL, "refresh image %s: %w", dest, err)
	}
	err = os.Rename(tmpName, dest)
	madeSub := false
	if errors.Is(err, os.ErrNotExist) { // the first picture of its folder
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return app.StoredFile{}, app.Errorf(app.EINTERNAL, "create images folder %s: %w", sub, err)
		}
		madeSub = true
		err = os.Rename(tmpName, dest)
	}
	if err != nil {
		return app.StoredFile{}, app.Errorf(app.EINTERNAL, "move image into place: %w", err)
	}
	keep = true
	if durable {
		syncDir(sub)
		if madeSub {
			syncDir(f.dir) // the new folder's own name
		}
	}
	return out, nil
}

// Remove deletes image files. Only files inside the images folder are
// touched, so a corrupted path in the database can never delete elsewhere.
func (f *ImageFiles) Remove(paths ...string) error {
	var errs []error
	for _, p := range paths {
		clean := filepath.Clean(p)
		rel, err := filepath.Rel(f.dir, clean)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
			errs = append(errs, app.Errorf(app.EINVALID, "refusing to remove %s: it is not inside the images folder %s", p, f.dir))
			continue
		}
		if err := os.Remove(clean); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove image %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// syncDir makes a rename durable; a failure only weakens crash safety of
// the name, never the content, so it is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// prefixBuffer keeps the first limit bytes written to it.
type prefixBuffer struct {
	buf   []byte
	limit int
}

// The buffers of a save are reused: a callback's picture is ~10 KB, and
// allocating (and zeroing) a 32 KiB copy buffer and a growing prefix per
// picture was most of ingest's garbage.
var (
	copyBufs   = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	prefixBufs sync.Pool // *[]byte, empty, capacity up to keptPrefixCap
)

// keptPrefixCap is the largest prefix buffer returned to the pool.
const keptPrefixCap = 256 << 10

func getPrefixBuf() []byte {
	if b, ok := prefixBufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 16<<10)
}

// release returns the buffer to the pool unless it grew large (a big
// picture's prefix is not worth keeping around).
func (p *prefixBuffer) release() {
	if cap(p.buf) <= keptPrefixCap {
		b := p.buf[:0]
		prefixBufs.Put(&b)
	}
	p.buf = nil
}

func (p *prefixBuffer) Write(b []byte) (int, error) {
	if room := p.limit - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
