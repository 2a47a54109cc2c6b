package http

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func writeKeys(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func wantAuth(t *testing.T, k *Keyring, token, project string, ok bool) {
	t.Helper()
	if p, o := k.Auth(token); p != project || o != ok {
		t.Errorf("Auth(%q): got %q, %v, want %q, %v", token, p, o, project, ok)
	}
}

func TestHashKey(t *testing.T) {
	// sha256("sk-a"), computed independently with sha256sum.
	want := "sha256:a4a6d307ad00fa67176e1099fdbc4f4a09bb527a7f24718a5030f2f173d11f7f"
	if got := HashKey("sk-a"); got != want {
		t.Fatalf("HashKey: got %q, want %q", got, want)
	}
}

func TestLoadKeyring(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, file, "# comment\n\n  sk-plain = proj_p \n"+HashKey("sk-hashed")+"=proj_h\n"+
		strings.ToUpper(HashKey("sk-bare")[len("sha256:"):])+"\nsha256:"+HashKey("sk-upper")[len("sha256:"):]+"\n")
	k, err := LoadKeyring(KeySources{List: "sk-env=proj_e, sk-plain=proj_p", ListName: "SILO_API_KEYS", File: file})
	if err != nil {
		t.Fatal(err)
	}
	wantAuth(t, k, "sk-env", "proj_e", true)
	wantAuth(t, k, "sk-plain", "proj_p", true)
	wantAuth(t, k, "sk-hashed", "proj_h", true)
	wantAuth(t, k, "sk-upper", "default", true)
	wantAuth(t, k, HashKey("sk-hashed"), "", false) // the digest is not a key
	wantAuth(t, k, "", "", false)
	wantAuth(t, k, "sk-plai", "", false)
	if k.Len() != 5 {
		t.Errorf("Len: got %d, want 5 (sk-env, sk-plain once, the upper-case hex line, sk-hashed, sk-upper)", k.Len())
	}
}

func TestLoadKeyring_Malformed(t *testing.T) {
	for _, tc := range []struct {
		name, file, list, want string
	}{
		{"short digest", "sk-a\nsha256:abcd=p\n", "", "keys line 2: sha256: wants 64 hex digits, got 4"},
		{"not hex", "sha256:" + strings.Repeat("zz", 32) + "\n", "", "keys line 1: sha256: wants hex digits"},
		{"no key", "=proj\n", "", "keys line 1: no key before the ="},
		{"space in key", "sk a=proj\n", "", "keys line 1: the key holds a space"},
		{"space in project", "sk-a=my proj\n", "", `keys line 1: the project "my proj" holds a space`},
		{"two projects", "sk-a=p1\n# x\n" + HashKey("sk-a") + "=p2\n", "", `keys line 3: a key given before for project "p1", now for "p2"`},
		{"list against file", "sk-a=p2\n", "sk-a=p1", `keys line 1: a key given before for project "p1"`},
		{"in the list", "", "sk-a,=p", "KEYS entry 2: no key before the ="},
		{"long line", strings.Repeat("k", maxKeyLine+1), "", "keys line 1: longer than 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "keys")
			writeKeys(t, file, tc.file)
			_, err := LoadKeyring(KeySources{List: tc.list, ListName: "KEYS", File: file})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := LoadKeyring(KeySources{File: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing keys file loaded")
	}
}

// TestKeyring_Reload: a reload replaces the keys whole; a malformed or
// missing file keeps the old ones; the list stays.
func TestKeyring_Reload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, file, "sk-old=p\n")
	k, err := LoadKeyring(KeySources{List: "sk-env", File: file})
	if err != nil {
		t.Fatal(err)
	}
	writeKeys(t, file, HashKey("sk-new")+"=q\n")
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	wantAuth(t, k, "sk-old", "", false)
	wantAuth(t, k, "sk-new", "q", true)
	wantAuth(t, k, "sk-env", "default", true)

	writeKeys(t, file, "sk-newer\nsha256:00\n")
	if err := k.Reload(); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("malformed reload: got %v, want an error naming line 2", err)
	}
	wantAuth(t, k, "sk-new", "q", true)
	wantAuth(t, k, "sk-newer", "", false)
	os.Remove(file)
	if err := k.Reload(); err == nil {
		t.Fatal("reload of a missing file: no error")
	}
	wantAuth(t, k, "sk-new", "q", true)

	writeKeys(t, file, "")
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	wantAuth(t, k, "sk-new", "", false)
	if k.Len() != 1 {
		t.Errorf("Len after emptying the file: got %d, want 1 (the list)", k.Len())
	}
}

// TestKeyring_ReloadWhileServing: Auth and Reload run at once (for -race);
// every answer is one generation's or the other's, never a mix.
func TestKeyring_ReloadWhileServing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, file, "sk-a=p1\n")
	k, err := LoadKeyring(KeySources{File: file})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			if p, ok := k.Auth("sk-a"); !ok || p != "p1" && p != "p2" {
				t.Errorf("Auth during reloads: %q, %v", p, ok)
				return
			}
		}
	}()
	for i := range 50 {
		writeKeys(t, file, []string{"sk-a=p1\n", "sk-a=p2\n"}[i%2])
		if err := k.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}
