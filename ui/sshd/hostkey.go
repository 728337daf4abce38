package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// HostKeyName is the host key's file name in the data folder.
const HostKeyName = "ssh_host_ed25519_key"

// LoadOrCreateHostKey reads the host's ed25519 key, making it on first
// start. The file is 0600: whoever reads it can impersonate the host.
func LoadOrCreateHostKey(path string) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createHostKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read SSH host key %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("SSH host key %s is readable by others (mode %v): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("SSH host key %s is not a private key (%w): move it away and a new one is made at the next start (users then see a changed fingerprint)", path, err)
	}
	return signer, nil
}

func createHostKey(path string) (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate SSH host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "influencegen host key")
	if err != nil {
		return nil, fmt.Errorf("encode SSH host key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	// O_EXCL: two hosts starting at once must not overwrite each other's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateHostKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	if _, err := f.Write(pem.EncodeToMemory(block)); err != nil {
		f.Close()
		return nil, fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	return gossh.NewSignerFromKey(priv)
}

// HostKeyFingerprint is what users compare on first connect
// ("SHA256:…", as ssh prints it).
func HostKeyFingerprint(path string) (string, error) {
	signer, err := LoadOrCreateHostKeyReadOnly(path)
	if err != nil {
		return "", err
	}
	return gossh.FingerprintSHA256(signer.PublicKey()), nil
}

// LoadOrCreateHostKeyReadOnly reads the host key without making one
// (doctor must not create files).
func LoadOrCreateHostKeyReadOnly(path string) (gossh.Signer, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("SSH host key %s: %w (serve --ssh makes it at its first start)", path, err)
	}
	return LoadOrCreateHostKey(path)
}
