//go:build !linux

package store

import (
	"errors"
	"os"
	"path/filepath"
)

// syncImageFiles fsyncs each file and its folder where syncfs(2) is not
// available.
func syncImageFiles(_ string, paths []string) error { return fsyncEach(paths) }

// fsyncEach is the portable Sync.
func fsyncEach(paths []string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := fsyncPath(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := fsyncPath(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func fsyncPath(p string) error {
	file, err := os.Open(p)
	if err != nil {
		return err
	}
	defer file.Close()
	return file.Sync()
}
