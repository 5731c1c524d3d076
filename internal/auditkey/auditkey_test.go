package auditkey

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestParseMakesTheLastKeyActiveAndKeepsTheOthersForVerifying(t *testing.T) {
	r, err := Parse([]byte("# keys\n2025 " + b64(1) + "\n\n2026 " + b64(2) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.ActiveKeyID() != "2026" {
		t.Errorf("active = %s, want 2026", r.ActiveKeyID())
	}
	old, _ := r.MAC("2025", []byte("m"))
	cur, _ := r.MAC("2026", []byte("m"))
	if len(old) != 32 || bytes.Equal(old, cur) {
		t.Errorf("MACs under two keys: %x, %x; want 32 bytes each, different", old, cur)
	}
	if _, err := r.MAC("2024", []byte("m")); err == nil {
		t.Error("MAC under an unknown key succeeded")
	}
	id, sig := r.Sign([]byte("checkpoint"))
	if id != "2026" || r.Verify(id, []byte("checkpoint"), sig) != nil || r.Verify(id, []byte("checkpoinT"), sig) == nil ||
		r.Verify("2025", []byte("checkpoint"), sig) == nil {
		t.Error("a signature verifies only under its key and message")
	}
}

func TestParseRefuses(t *testing.T) {
	for name, file := range map[string]string{
		"empty":     "# nothing\n",
		"short key": "k " + "c2hvcnQ=" + "\n",
		"no secret": "k\n",
		"bad id":    "k/1 " + b64(1) + "\n",
		"duplicate": "k " + b64(1) + "\nk " + b64(2) + "\n",
		"not b64":   "k !!!\n",
	} {
		if _, err := Parse([]byte(file)); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}

func TestLoadRefusesAFileOthersCanRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.keys")
	if err := os.WriteFile(path, []byte("k "+b64(1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Load(0644) = %v, want a refusal saying chmod 600", err)
	}
}

// Replicas starting together on one data directory end up with one key.
func TestLoadOrCreateRacingAgreeOnOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "audit.keys")
	const n = 8
	macs := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
				return
			}
			macs[i], _ = r.MAC(r.ActiveKeyID(), []byte("m"))
		})
	}
	wg.Wait()
	for i := range macs {
		if !bytes.Equal(macs[i], macs[0]) {
			t.Fatalf("replica %d has another key", i)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", info, err)
	}
}

func b64(fill byte) string {
	return strings.TrimSpace(string(bytes.Repeat([]byte{'A' + fill}, 44)))
}
