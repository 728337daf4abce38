package app

import (
	"context"
	"io"
)

// StoredFile is one image file kept by content.
type StoredFile struct {
	Path     string // absolute: images/<sha[:2]>/<sha>.<ext>
	SHA256   string // hex
	MimeType string
	Width    int
	Height   int
	Bytes    int64
}

// ImageFiles keeps image files by content (store/images.go): identical
// bytes are stored once, whatever request they belong to.
type ImageFiles interface {
	// Save streams r to a temp file while hashing it in the same pass,
	// enforces MaxImageBytes while streaming, checks the magic bytes and
	// header size (SniffImage), fsyncs and renames it into place. A body
	// that is not an acceptable image is EINVALID with a Reason* code and
	// leaves no file behind.
	Save(ctx context.Context, r io.Reader) (StoredFile, error)
	// Remove deletes files that no request references any more. Paths
	// outside the images folder are refused; missing files are not an error.
	Remove(paths ...string) error
}
