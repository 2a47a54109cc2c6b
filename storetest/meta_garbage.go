package storetest

import (
	"slices"
	"strings"
	"time"
)

// trash queues the blob of a new file as garbage at now and returns its key.
func (f *metaFixture) trash(now time.Time) string {
	f.Helper()
	file := f.file("proj", "batch", 0)
	if err := f.s.DeleteFile(f.ctx, "proj", file.ID, now); err != nil {
		f.Fatalf("DeleteFile: %v", err)
	}
	return file.Blobs[0].Key
}

// claim calls ClaimGarbage and returns the keys sorted, as one string.
func (f *metaFixture) claim(queuedBefore, now time.Time, lease time.Duration, n int) string {
	f.Helper()
	keys, err := f.s.ClaimGarbage(f.ctx, queuedBefore, now, lease, n)
	if err != nil {
		f.Fatalf("ClaimGarbage: %v", err)
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// metaKeys returns keys sorted, as one string.
func metaKeys(keys ...string) string {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// testClaimGarbage checks the queuedBefore filter and the bound n.
func testClaimGarbage(f *metaFixture) {
	t1, t2 := metaT0, metaT0.Add(time.Hour)
	early, late := f.trash(t1), f.trash(t2)
	now := t2.Add(time.Hour)
	if got := f.claim(t1, now, time.Minute, 10); got != "" {
		f.Errorf("ClaimGarbage queued before %v: got %q, want nothing", t1, got)
	}
	if got, want := f.claim(t2, now, time.Minute, 10), early; got != want {
		f.Errorf("ClaimGarbage queued before %v: got %q, want %q", t2, got, want)
	}
	if got, want := f.claim(t2.Add(time.Nanosecond), now, time.Minute, 10), late; got != want {
		f.Errorf("ClaimGarbage queued before %v: got %q, want %q", t2.Add(time.Nanosecond), got, want)
	}

	keys := []string{early}
	for range 5 {
		keys = append(keys, f.trash(t1))
	}
	now = now.Add(time.Hour)
	seen := make(map[string]bool)
	for _, want := range []int{2, 2, 2, 0} {
		got, err := f.s.ClaimGarbage(f.ctx, t2, now, time.Minute, 2)
		if err != nil {
			f.Fatalf("ClaimGarbage: %v", err)
		}
		if len(got) != want {
			f.Errorf("ClaimGarbage(n=2): got %d keys, want %d", len(got), want)
		}
		for _, k := range got {
			if seen[k] {
				f.Errorf("ClaimGarbage: %s claimed twice within its lease", k)
			}
			seen[k] = true
		}
	}
	for _, k := range keys {
		if !seen[k] {
			f.Errorf("ClaimGarbage: %s never claimed", k)
		}
	}
}

// testClaimGarbageLease checks that a claimed key is withheld from every claim
// until its lease ends, and offered again from then on.
func testClaimGarbageLease(f *metaFixture) {
	k := f.trash(metaT0)
	now := metaT0.Add(time.Hour)
	const lease = time.Minute
	if got := f.claim(metaFar, now, lease, 10); got != k {
		f.Fatalf("ClaimGarbage: got %q, want %q", got, k)
	}
	if got := f.claim(metaFar, now, lease, 10); got != "" {
		f.Errorf("ClaimGarbage again at once: got %q, want nothing", got)
	}
	if got := f.claim(metaFar, now.Add(lease-time.Nanosecond), lease, 10); got != "" {
		f.Errorf("ClaimGarbage just before the lease ends: got %q, want nothing", got)
	}
	now = now.Add(lease)
	if got := f.claim(metaFar, now, lease, 10); got != k {
		f.Errorf("ClaimGarbage when the lease ends: got %q, want %q", got, k)
	}
	// The new lease runs from the new claim.
	if got := f.claim(metaFar, now.Add(lease/2), lease, 10); got != "" {
		f.Errorf("ClaimGarbage within the renewed lease: got %q, want nothing", got)
	}
	if known := f.known(k); !known[k] {
		f.Errorf("KnownBlobs(%s) of leased garbage: got false, want true", k)
	}
}

func testForgetGarbage(f *metaFixture) {
	a, b, c := f.trash(metaT0), f.trash(metaT0), f.trash(metaT0)
	if err := f.s.ForgetGarbage(f.ctx, nil); err != nil {
		f.Errorf("ForgetGarbage of no keys: %v", err)
	}
	now := metaT0.Add(time.Hour)
	if got, want := f.claim(metaFar, now, time.Minute, 10), metaKeys(a, b, c); got != want {
		f.Fatalf("ClaimGarbage: got %q, want %q", got, want)
	}
	if err := f.s.ForgetGarbage(f.ctx, []string{a, c, "files/never-queued"}); err != nil {
		f.Fatalf("ForgetGarbage: %v", err)
	}
	if got, want := f.claim(metaFar, now.Add(time.Hour), time.Minute, 10), b; got != want {
		f.Errorf("ClaimGarbage after ForgetGarbage: got %q, want %q", got, want)
	}
	if k := f.known(a, b, c); k[a] || !k[b] || k[c] {
		f.Errorf("KnownBlobs after ForgetGarbage: got %v, want only %s", k, b)
	}
}

// testKnownBlobs checks each way a store references a blob, and that a blob
// it let go of is unknown.
func testKnownBlobs(f *metaFixture) {
	u := f.upload("proj")
	part := f.part(u, 10, 1)
	file := f.file("proj", "batch", 0)
	cancelled := f.upload("proj")
	trashed := f.part(cancelled, 10, 1)
	if _, err := f.s.CancelUpload(f.ctx, "proj", cancelled.ID, metaT0); err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	unknown := "parts/unknown"
	k := f.known(part.BlobKey, file.Blobs[0].Key, trashed.BlobKey, unknown)
	if !k[part.BlobKey] || !k[file.Blobs[0].Key] || !k[trashed.BlobKey] || k[unknown] {
		f.Errorf("KnownBlobs: got %v, want all but %s", k, unknown)
	}
	if k := f.known(); len(k) != 0 {
		f.Errorf("KnownBlobs of no keys: got %v, want none", k)
	}
	if err := f.s.ForgetGarbage(f.ctx, []string{trashed.BlobKey}); err != nil {
		f.Fatalf("ForgetGarbage: %v", err)
	}
	if k := f.known(trashed.BlobKey); k[trashed.BlobKey] {
		f.Errorf("KnownBlobs of a forgotten part of a cancelled upload: got true, want false")
	}
}
