package http

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"unicode"
)

// keyDigestPrefix starts an entry that holds a key's SHA-256 rather than the key.
const keyDigestPrefix = "sha256:"

// HashKey returns the form of key that a keys file may hold instead of the
// key itself: "sha256:" and 64 hex digits. Such a file is not a secret, as
// long as the keys are random (an unsalted digest does not protect a
// guessable password).
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return keyDigestPrefix + hex.EncodeToString(sum[:])
}

// KeySources says where a Keyring's entries come from. An entry is
// key[=project] or sha256:<64 hex digits>[=project]; a key without a project
// belongs to project "default". The key ends at the first "=".
type KeySources struct {
	// List holds entries separated by commas. It is read once.
	List string
	// ListName names List in errors (e.g. the variable it came from).
	ListName string
	// File holds one entry per line; blank lines and lines starting with #
	// are skipped. Reload reads it again.
	File string
}

// Keyring is the set of API keys a server accepts, which Reload replaces at
// once and whole while requests are being served. Its Auth is the Auth of
// Config.
type Keyring struct {
	src  KeySources
	list []keyEntry // parsed once: List cannot change
	set  atomic.Pointer[keySet]
}

// keyEntry is one key: the SHA-256 of the key, never the key itself.
type keyEntry struct {
	sum     [sha256.Size]byte
	project string
}

// keySet is one generation of a Keyring's keys.
type keySet []keyEntry

// LoadKeyring reads the keys of src. A malformed entry is an error that names
// its line (or its position in the list).
func LoadKeyring(src KeySources) (*Keyring, error) {
	list, err := parseKeys(strings.Split(src.List, ","), func(n int) string {
		return fmt.Sprintf("%s entry %d", src.ListName, n)
	}, nil)
	if err != nil {
		return nil, err
	}
	k := &Keyring{src: src, list: list}
	if err := k.Reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload reads the keys file again and, if it is well formed, replaces the
// keys: a request that starts after Reload returns is checked against the new
// keys only. On an error the keys stay as they were.
func (k *Keyring) Reload() error {
	set := keySet(k.list)
	if k.src.File != "" {
		lines, err := readLines(k.src.File)
		if err != nil {
			return fmt.Errorf("reading API keys: %w", err)
		}
		set, err = parseKeys(lines, func(n int) string {
			return fmt.Sprintf("%s line %d", k.src.File, n)
		}, k.list)
		if err != nil {
			return err
		}
	}
	k.set.Store(&set)
	return nil
}

// Len returns the number of keys.
func (k *Keyring) Len() int { return len(*k.set.Load()) }

// Projects returns how many projects the keys belong to now.
func (k *Keyring) Projects() int {
	seen := map[string]bool{}
	for _, e := range *k.set.Load() {
		seen[e.project] = true
	}
	return len(seen)
}

// Auth returns the project of token if it is one of the keys. It compares the
// token's digest with every key's, always all of them and in constant time,
// so that neither a key nor its length shows in the timing. An empty token is
// never a key.
func (k *Keyring) Auth(token string) (project string, ok bool) {
	return k.set.Load().auth(token)
}

func (s keySet) auth(token string) (string, bool) {
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range s {
		eq := subtle.ConstantTimeCompare(sum[:], s[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if token == "" || found < 0 {
		return "", false
	}
	return s[found].project, true
}

// NewKeyring returns an Auth function for Config that knows the API keys of
// keys (key → project), compared as Keyring.Auth does. An empty key is skipped.
func NewKeyring(keys map[string]string) func(token string) (project string, ok bool) {
	set := make(keySet, 0, len(keys))
	for k, p := range keys {
		if k != "" {
			set = append(set, keyEntry{sha256.Sum256([]byte(k)), p})
		}
	}
	return set.auth
}

// maxKeyLine bounds a line of a keys file.
const maxKeyLine = 4096

// readLines returns the lines of a keys file.
func readLines(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 256), maxKeyLine)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("%s line %d: longer than %d bytes", name, len(lines)+1, maxKeyLine)
	}
	return lines, sc.Err()
}

// parseKeys parses entries (numbered from 1, named in errors by where) after
// the entries of base. A key given twice must name the same project.
func parseKeys(entries []string, where func(n int) string, base []keyEntry) (keySet, error) {
	set := append(keySet(nil), base...)
	seen := make(map[[sha256.Size]byte]int, len(set)+len(entries))
	for i, e := range set {
		seen[e.sum] = i
	}
	for n, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		e, err := parseKey(entry)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(n+1), err)
		}
		if i, ok := seen[e.sum]; ok {
			if set[i].project != e.project {
				return nil, fmt.Errorf("%s: a key given before for project %q, now for %q", where(n+1), set[i].project, e.project)
			}
			continue
		}
		seen[e.sum] = len(set)
		set = append(set, e)
	}
	return set, nil
}

// parseKey parses one entry, key[=project] or sha256:<hex>[=project].
func parseKey(entry string) (keyEntry, error) {
	key, project, _ := strings.Cut(entry, "=")
	key, project = strings.TrimSpace(key), strings.TrimSpace(project)
	if project == "" {
		project = "default"
	}
	switch {
	case key == "":
		return keyEntry{}, errors.New("no key before the =")
	case !printable(key):
		return keyEntry{}, errors.New("the key holds a space or a control character")
	case !printable(project):
		return keyEntry{}, fmt.Errorf("the project %q holds a space or a control character", project)
	}
	digest, hashed := strings.CutPrefix(key, keyDigestPrefix)
	if !hashed {
		return keyEntry{sha256.Sum256([]byte(key)), project}, nil
	}
	e := keyEntry{project: project}
	if len(digest) != hex.EncodedLen(sha256.Size) {
		return keyEntry{}, fmt.Errorf("%s wants %d hex digits, got %d (make the line with `silo keys hash`)", keyDigestPrefix, hex.EncodedLen(sha256.Size), len(digest))
	}
	if _, err := hex.Decode(e.sum[:], []byte(digest)); err != nil {
		return keyEntry{}, fmt.Errorf("%s wants hex digits: %v", keyDigestPrefix, err)
	}
	return e, nil
}

// printable reports whether s has no spaces and no control characters, so
// that it can travel in an Authorization header as one token.
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}
