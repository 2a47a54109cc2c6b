package silo

import (
	"context"
	"io"
	"time"
)

// MetaStore keeps the records of uploads, parts and files. Every state change is
// one compare-and-set operation, so parallel requests (and several server
// instances over one database) need no other lock and races settle here.
//
// Methods that take a project return ENOTFOUND for a record of another project.
// Blobs that stop being referenced (parts of cancelled, expired or completed
// uploads left out of the File, blobs of deleted or expired files) are queued as
// garbage in the same operation, and deleted later by the reaper.
//
// The store keeps each project's Usage, changed in the same operation as the
// records it counts. The methods that add to it take the project's Quota and
// refuse, with the error of Quota.Check, a change that would go over it: the
// check and the change are one compare-and-set as well.
type MetaStore interface {
	// CreateUpload inserts the pending Upload u, if its project stays within
	// q with one more pending Upload. EQUOTA.
	CreateUpload(ctx context.Context, u *Upload, q Quota) error

	// GetUpload returns the Upload, with its File when completed. ENOTFOUND.
	GetUpload(ctx context.Context, project, id string) (*Upload, error)

	// AddPart records p if its Upload is pending and not expired at now, and the
	// Upload's recorded parts with p stay within max: at most max.Bytes bytes
	// and max.Count parts, and the project stays within q with p.Size more bytes.
	// ENOTFOUND; EUPLOADCOMPLETED, EUPLOADCANCELLED, EUPLOADEXPIRED (NotPendingError);
	// EUPLOADTOOLARGE (param "data", a message that names the limit) when over max;
	// EQUOTA when over q.
	AddPart(ctx context.Context, p *Part, now time.Time, max PartLimits, q Quota) error

	// ListParts returns the recorded parts of a pending Upload ordered by
	// (Started, ID). ENOTFOUND for an unknown Upload.
	ListParts(ctx context.Context, project, uploadID string) ([]*Part, error)

	// CompleteUpload, if the Upload is pending and not expired at c.Now, marks it
	// completed with c.PartIDs and c.MD5, inserts c.File, drops the Upload's part
	// records and queues the blobs of the parts not among c.File.Blobs as garbage,
	// all at once, and returns the completed Upload. Otherwise it changes nothing
	// and returns the Upload as stored with NotPendingError for its status.
	// ENOTFOUND; EQUOTA (and no Upload) if the project would go over c.Quota
	// with one more File.
	CompleteUpload(ctx context.Context, c *Completion) (*Upload, error)

	// CancelUpload, if the Upload is pending and not expired at now, marks it
	// cancelled, drops its part records and queues their blobs as garbage, and
	// returns it. Otherwise it returns the Upload as stored with NotPendingError
	// for its status. ENOTFOUND.
	CancelUpload(ctx context.Context, project, id string, now time.Time) (*Upload, error)

	// ExpireUploads marks at most n pending Uploads whose expires_at has come at
	// now as expired, dropping their part records and queueing their blobs as
	// garbage. It returns how many it marked.
	ExpireUploads(ctx context.Context, now time.Time, n int) (int, error)

	// CreateFile inserts f, if its project stays within q with one more File
	// of f.Bytes. Files are listed in the order they were created. EQUOTA.
	CreateFile(ctx context.Context, f *File, q Quota) error

	// GetFile returns a File that is neither deleted nor expired at now. ENOTFOUND.
	GetFile(ctx context.Context, project, id string, now time.Time) (*File, error)

	// ListFiles returns a page of the project's files that are neither deleted
	// nor expired at now, in creation order ("asc") or its reverse ("desc"),
	// starting strictly after the file q.After (which may have been deleted or
	// expired since; EINVALID with param "after" if it never was a file of the
	// project), of at most q.Limit files, and whether more follow. Listed Files
	// carry no Blobs: a page of large files would otherwise load every part.
	ListFiles(ctx context.Context, project string, q FileQuery, now time.Time) (*FileList, error)

	// DeleteFile deletes a File that is not deleted or expired at now, queueing
	// its blobs as garbage; a deleted File still anchors list cursors. ENOTFOUND.
	DeleteFile(ctx context.Context, project, id string, now time.Time) error

	// ExpireFiles deletes at most n Files whose expires_at has come at now, as
	// DeleteFile does, and returns how many it deleted.
	ExpireFiles(ctx context.Context, now time.Time, n int) (int, error)

	// Usage returns what the project holds, or with project "" the sum over
	// every project; one cheap read of the counters the store keeps.
	Usage(ctx context.Context, project string) (Usage, error)

	// ClaimGarbage returns at most n blob keys queued as garbage before queuedBefore
	// and not leased at now, and leases them until now+lease so that no other
	// caller gets them meanwhile.
	ClaimGarbage(ctx context.Context, queuedBefore, now time.Time, lease time.Duration, n int) ([]string, error)

	// ForgetGarbage removes keys from the garbage queue once their blobs are gone.
	ForgetGarbage(ctx context.Context, keys []string) error

	// KnownBlobs returns which of keys the store references: as a part, as a
	// File's blob, or as queued garbage. Blobs it does not know are orphans.
	KnownBlobs(ctx context.Context, keys []string) (map[string]bool, error)

	// Close releases the store.
	Close() error
}

// PartLimits bound what the recorded parts of one Upload may hold.
type PartLimits struct {
	Bytes int64
	Count int
}

// Check returns EUPLOADTOOLARGE (param "data"), naming the limit hit, if an
// Upload that has recorded parts parts would, with one more part that brings
// its bytes to total, hold more than the limits allow; nil otherwise.
func (m PartLimits) Check(uploadID string, parts int, total int64) error {
	if parts >= m.Count {
		return Errorf(EUPLOADTOOLARGE, "data",
			"Upload %s already has %d parts, the most one upload takes; complete it with the parts sent.", uploadID, m.Count)
	}
	if total > m.Bytes {
		return Errorf(EUPLOADTOOLARGE, "data",
			"The parts of upload %s would hold %d bytes with this one, more than the limit of %d bytes.", uploadID, total, m.Bytes)
	}
	return nil
}

// Completion is one compare-and-set completion of an Upload.
type Completion struct {
	Project  string
	UploadID string
	PartIDs  []string
	MD5      string
	File     *File
	Now      time.Time
	// Quota is the project's quota, which the File must fit in.
	Quota Quota
}

// BlobStore keeps bytes under opaque keys. It knows nothing of uploads.
// Keys are made of [A-Za-z0-9_-] and "/". A key is never stored while one
// that is its parent path is ("a" and "a/b"): S3 servers over a file system
// (versitygw's posix backend) cannot hold both, and Silo's keys never nest.
type BlobStore interface {
	// Put stores the bytes read from r under key, durably, and returns how many
	// there were. If reading r fails, nothing is stored under key and the error
	// from r is returned as it is (a size limit enforced by r aborts the Put).
	// ESTORAGEFULL when the store is out of space.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)

	// Open returns a reader of length bytes of the blob from offset; a length
	// below 0 reads to the end. ENOTFOUND for a missing key.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Delete removes the blob; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// Close releases the store.
	Close() error
}

// PutBufferer is a BlobStore that holds a buffer of a known size while a Put
// streams: the server admits as many parts at once as its memory allows.
type PutBufferer interface {
	// PutBufferBytes is the memory one Put in flight holds, in bytes.
	PutBufferBytes() int
}

// UnfinishedAborter is a BlobStore that can drop what Puts of processes that
// died left half made (an S3 multipart upload never completed nor aborted).
type UnfinishedAborter interface {
	// AbortUnfinished drops the unfinished Puts of keys under keyPrefixes
	// begun before startedBefore, and returns how many it dropped.
	AbortUnfinished(ctx context.Context, keyPrefixes []string, startedBefore time.Time) (int, error)
}

// BlobLister is a BlobStore that can list its blobs, for the orphan sweep.
type BlobLister interface {
	// List calls fn for every stored blob with the time it was stored; a
	// non-nil error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(key string, stored time.Time) error) error
}

// Pinger is a store (MetaStore or BlobStore) that answers a cheap probe, for
// a readiness check: Ping returns nil when the store can serve a call now.
// Its error is for the operator's log; it may name hosts and paths.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Ballast is a BlobStore that holds back some space (a ballast file) on the
// volume it may share with the metadata store, so that the writes that free
// space — deletes, cancels, the reaper — can still be recorded when something
// else filled the volume.
type Ballast interface {
	// DropBallast gives the space held back to the volume if the volume has
	// fewer than below bytes free (math.MaxInt64: whatever it has). The store
	// takes the space back by itself once the volume has room again.
	DropBallast(below int64)
}
