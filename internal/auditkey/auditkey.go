// Package auditkey holds the keys that make the audit trail tamper-evident
// to the database's own administrators: a MAC key that authenticates every
// event, and a signing key for the checkpoints published outside the
// database. The database never holds either, so a row inserted or rewritten
// by someone with only database access does not verify.
//
// A key file has one key per line, "<id> <base64 of 32 random bytes>";
// blank lines and lines starting with # are ignored. The last key is the
// active one, used for new events and checkpoints; the earlier ones still
// verify what they signed. Rotation is appending a line and restarting every
// replica. Make a line with:
//
//	printf '%s %s\n' "$(date +%Y%m%d)" "$(head -c 32 /dev/urandom | base64)" >> audit.keys
package auditkey

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Ring is a set of audit keys, one of them active. It is immutable and safe
// for concurrent use.
type Ring struct {
	active string
	keys   map[string]key
}

// key is one secret's two uses. Each is derived from the secret with HKDF
// under its own label, so a MAC can never be mistaken for a signature input
// and one line in the file is all an operator manages.
type key struct {
	mac  []byte
	sign ed25519.PrivateKey
}

var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// New makes a ring from secrets by key id; active names the one that signs.
// Each secret must be at least 32 bytes.
func New(active string, secrets map[string][]byte) (*Ring, error) {
	r := &Ring{active: active, keys: make(map[string]key, len(secrets))}
	for id, secret := range secrets {
		if !keyID.MatchString(id) {
			return nil, fmt.Errorf("audit key id %q: want 1 to 64 letters, digits, '.', '_' or '-'", id)
		}
		if len(secret) < 32 {
			return nil, fmt.Errorf("audit key %q: %d bytes, want at least 32", id, len(secret))
		}
		k, err := derive(secret)
		if err != nil {
			return nil, fmt.Errorf("audit key %q: %w", id, err)
		}
		r.keys[id] = k
	}
	if _, ok := r.keys[active]; !ok {
		return nil, fmt.Errorf("active audit key %q is not in the ring", active)
	}
	return r, nil
}

func derive(secret []byte) (key, error) {
	mac, err := hkdf.Key(sha256.New, secret, nil, "arrs audit event mac v1", 32)
	if err != nil {
		return key{}, err
	}
	seed, err := hkdf.Key(sha256.New, secret, nil, "arrs audit checkpoint ed25519 v1", ed25519.SeedSize)
	if err != nil {
		return key{}, err
	}
	return key{mac: mac, sign: ed25519.NewKeyFromSeed(seed)}, nil
}

// Parse reads a key file's contents.
func Parse(data []byte) (*Ring, error) {
	secrets := map[string][]byte{}
	var active string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("line %d: want \"<id> <base64 secret>\"", n)
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("line %d: key %q: %w", n, id, err)
		}
		if _, dup := secrets[id]; dup {
			return nil, fmt.Errorf("line %d: key %q appears twice", n, id)
		}
		secrets[id], active = secret, id
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if active == "" {
		return nil, errors.New("no keys")
	}
	return New(active, secrets)
}

// Load reads a key file. It refuses a file that others than its owner may
// read: whoever reads it can forge the trail.
func Load(path string) (*Ring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit key file %s: mode %v lets others read it; chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("audit key file %s: %w", path, err)
	}
	return r, nil
}

// LoadOrCreate loads the key file at path, first writing one with a fresh
// random key if there is none. It is for development, where arrsd keeps its
// key under its data directory as it does its token signing key.
func LoadOrCreate(path string) (*Ring, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	line := fmt.Sprintf("# arrs audit keys (auditkey package); the last line is active\n%s %s\n",
		time.Now().UTC().Format("20060102"), base64.StdEncoding.EncodeToString(secret))
	// Written beside it and linked into place, which fails if the file
	// exists: replicas starting together on one data directory all load
	// the one key that won, never a half-written file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-keys-*")
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, werr := tmp.WriteString(line)
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	return Load(path)
}

// ActiveKeyID names the key new events and checkpoints use.
func (r *Ring) ActiveKeyID() string { return r.active }

// MAC is HMAC-SHA256 of msg under the key id.
func (r *Ring) MAC(id string, msg []byte) ([]byte, error) {
	k, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("unknown audit key %q", id)
	}
	m := hmac.New(sha256.New, k.mac)
	m.Write(msg)
	return m.Sum(nil), nil
}

// Sign signs msg with the active key, returning its id and the signature.
func (r *Ring) Sign(msg []byte) (id string, sig []byte) {
	return r.active, ed25519.Sign(r.keys[r.active].sign, msg)
}

// PublicKey is the key id's checkpoint verification key, which witnesses
// keep to check checkpoints without being able to make them.
func (r *Ring) PublicKey(id string) (ed25519.PublicKey, error) {
	k, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("unknown audit key %q", id)
	}
	return k.sign.Public().(ed25519.PublicKey), nil
}

// Verify checks a signature Sign made with the key id.
func (r *Ring) Verify(id string, msg, sig []byte) error {
	pub, err := r.PublicKey(id)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return errors.New("bad signature")
	}
	return nil
}
