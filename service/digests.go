package service

import (
	"crypto/sha256"
	"sync"

	"github.com/silo-dev/silo"
)

// Bounds of the digests remembered for pending Uploads.
const (
	// maxListsPerUpload is how many distinct part lists of one Upload have
	// their digest remembered; a client fixing its list rarely tries more.
	maxListsPerUpload = 8
	// maxDigestUploads is how many Uploads have digests remembered at once.
	maxDigestUploads = 10000
)

// digests remembers the md5 that a complete computed for a part list of a
// pending Upload. A complete that fails its md5 check leaves the Upload
// pending, so without this a client repeating it (or an attacker) would make
// the server read every byte again each time: with it, each distinct part
// list costs at most one pass while the Upload is pending. The parts of a
// list never change, so neither does its digest. Like the md5 chains, this
// lives in one process; another instance computes its own.
type digests struct {
	mu sync.Mutex
	m  map[string]*listDigests // by Upload id
}

// listDigests are the remembered digests of one Upload's part lists.
type listDigests struct {
	expires int64
	sums    map[[sha256.Size]byte]string
	order   [][sha256.Size]byte // oldest first, for eviction
}

func newDigests() *digests { return &digests{m: make(map[string]*listDigests)} }

// listKey identifies a part list; ids cannot contain a NUL byte.
func listKey(partIDs []string) [sha256.Size]byte {
	h := sha256.New()
	for _, id := range partIDs {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// get returns the remembered digest of u's part list, if any.
func (d *digests) get(u *silo.Upload, partIDs []string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.m[u.ID]
	if l == nil {
		return "", false
	}
	sum, ok := l.sums[listKey(partIDs)]
	return sum, ok
}

// put remembers the digest of u's part list, forgetting the oldest list of u
// (or, when too many Uploads have digests, another Upload's) to stay bounded.
func (d *digests) put(u *silo.Upload, partIDs []string, sum string) {
	k := listKey(partIDs)
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.m[u.ID]
	if l == nil {
		if len(d.m) >= maxDigestUploads {
			for id := range d.m {
				delete(d.m, id) // any one: a later complete only reads again
				break
			}
		}
		l = &listDigests{expires: u.ExpiresAt, sums: make(map[[sha256.Size]byte]string)}
		d.m[u.ID] = l
	}
	if _, ok := l.sums[k]; ok {
		return
	}
	if len(l.order) >= maxListsPerUpload {
		delete(l.sums, l.order[0])
		l.order = l.order[1:]
	}
	l.sums[k] = sum
	l.order = append(l.order, k)
}

// forget drops the digests of an Upload that left pending.
func (d *digests) forget(uploadID string) {
	d.mu.Lock()
	delete(d.m, uploadID)
	d.mu.Unlock()
}

// prune drops the digests of Uploads expired at now (Unix seconds).
func (d *digests) prune(now int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, l := range d.m {
		if l.expires <= now {
			delete(d.m, id)
		}
	}
}
