package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func pngOf(t *testing.T, w, h int, salt byte) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i) ^ salt
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// filesIn lists every file under dir, temp files included.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestImageFilesStoreByContentOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "images")
	f := NewImageFiles(dir)
	pic := pngOf(t, 30, 20, 1)
	sum := sha256.Sum256(pic)
	want := hex.EncodeToString(sum[:])
	first, err := f.Save(context.Background(), bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.Save(context.Background(), bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	if first != second || first.SHA256 != want || first.Width != 30 || first.Height != 20 || first.MimeType != "image/png" || first.Bytes != int64(len(pic)) {
		t.Fatalf("Save = %+v then %+v; want the same content address %s", first, second, want)
	}
	if first.Path != filepath.Join(dir, want[:2], want+".png") {
		t.Fatalf("path %s", first.Path)
	}
	if files := filesIn(t, dir); len(files) != 1 {
		t.Fatalf("files %v, want exactly one", files)
	}
	for p, mode := range map[string]os.FileMode{first.Path: 0o600, filepath.Dir(first.Path): 0o700, dir: 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", p, st.Mode().Perm(), mode)
		}
	}
}

// The folders are made when a save does not find them (not checked
// before every file): a folder removed while the program runs, the whole
// images folder or one of its two-letter ones, is made again.
func TestImageFilesMakeFoldersRemovedWhileRunning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "images")
	f := NewImageFiles(dir)
	ctx := context.Background()
	for i, save := range []func(context.Context, io.Reader) (app.StoredFile, error){f.Save, f.SaveUnsynced} {
		first, err := save(ctx, bytes.NewReader(pngOf(t, 8, 8, byte(2*i+1))))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Dir(first.Path)); err != nil {
			t.Fatal(err)
		}
		again, err := save(ctx, bytes.NewReader(pngOf(t, 8, 8, byte(2*i+1))))
		if err != nil || again.Path != first.Path {
			t.Fatalf("saving into a removed two-letter folder: %+v, %v", again, err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		other, err := save(ctx, bytes.NewReader(pngOf(t, 9, 9, byte(2*i+2))))
		if err != nil {
			t.Fatalf("saving into a removed images folder: %v", err)
		}
		for p, mode := range map[string]os.FileMode{other.Path: 0o600, filepath.Dir(other.Path): 0o700, dir: 0o700} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != mode {
				t.Errorf("%s: %v, %v; want mode %v", p, st, err, mode)
			}
		}
	}
}

// endless yields bytes for ever and counts what was read.
type endless struct{ n int64 }

func (e *endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 0
	}
	e.n += int64(len(b))
	return len(b), nil
}

func TestImageFilesRefuseWithoutLeavingFiles(t *testing.T) {
	tests := []struct {
		name   string
		reader func() io.Reader
		reason string
	}{
		{"a body over 25 MiB is cut off while streaming", func() io.Reader {
			return io.MultiReader(bytes.NewReader(pngOf(t, 8, 8, 1)), &endless{})
		}, app.ReasonImageTooLarge},
		{"text that is not an image is refused", func() io.Reader { return strings.NewReader("<html>not an image</html>") }, app.ReasonImageUnsupported},
		{"an empty body is refused", func() io.Reader { return strings.NewReader("") }, app.ReasonImageUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "images")
			_, err := NewImageFiles(dir).Save(context.Background(), tt.reader())
			if app.ErrorReason(err) != tt.reason {
				t.Fatalf("Save error %v (reason %q), want reason %q", err, app.ErrorReason(err), tt.reason)
			}
			if files := filesIn(t, dir); len(files) != 0 {
				t.Fatalf("files left behind: %v", files)
			}
		})
	}
	t.Run("the stream is not read far past the limit", func(t *testing.T) {
		src := &endless{}
		_, _ = NewImageFiles(t.TempDir()).Save(context.Background(), src)
		if src.n > app.MaxImageBytes+1<<20 {
			t.Fatalf("read %d bytes for a %d byte limit", src.n, app.MaxImageBytes)
		}
	})
}

func TestImageFilesRemoveOnlyInsideTheFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "images")
	f := NewImageFiles(dir)
	saved, err := f.Save(context.Background(), bytes.NewReader(pngOf(t, 4, 4, 2)))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "precious.txt")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(outside, filepath.Join(dir, "..", "precious.txt")); err == nil {
		t.Fatal("Remove outside the images folder succeeded")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("a file outside the images folder was removed")
	}
	if err := f.Remove(saved.Path, saved.Path+".missing"); err != nil {
		t.Fatalf("Remove = %v", err)
	}
	if _, err := os.Stat(saved.Path); !os.IsNotExist(err) {
		t.Fatal("the image is still there")
	}
}
