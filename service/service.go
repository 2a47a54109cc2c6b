// Package service is the upload state machine written once over the two store
// interfaces: size, order and md5 checks, expiry, and the reaper. It implements
// silo.UploadService and silo.FileService.
package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/silo-dev/silo"
)

// Config is the optional tuning of a Service. Zero fields take the defaults.
type Config struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewID makes ids from a prefix; default silo.NewID.
	NewID func(prefix string) string
	// UploadTTL is how long an Upload stays pending; default silo.DefaultUploadTTL.
	UploadTTL time.Duration
	// GarbageGrace is how long the blobs of a deleted File (and of left-out parts)
	// are kept before the reaper deletes them, so that reads already under way
	// finish: a download opens a File's blobs one after another, so even on
	// local disk, where an open file outlives its name, the blobs it has not
	// reached yet must stay.
	GarbageGrace time.Duration
	// NoArrivalMD5 turns off hashing parts as they arrive. That hashing makes a
	// complete with md5 and the parts in upload order find the digest ready,
	// at the cost of about one CPU second per GiB ingested whether or not a
	// complete ever sends an md5; without it, such a complete reads the bytes
	// once.
	NoArrivalMD5 bool
	// NoMD5ReadBack keeps the arrival hashing inline: a part that overtook
	// the md5 chain (it arrived while an earlier one was still arriving) is
	// not read back from the blob store to hash it; the chain ends there,
	// and a complete with md5 reads the bytes from that part on. Over a
	// remote blob store a read-back is a second GET of every such byte.
	NoMD5ReadBack bool
	// GarbageLease is how long a reaper holds the garbage it claimed before
	// another reaper may claim it again; default one minute.
	GarbageLease time.Duration
	// Observer hears what the service does, for metrics. Nil: nobody.
	Observer Observer
	// Quota is what each project may hold; the zero value is no limit.
	Quota silo.Quota
	// ReapInterval, SweepInterval and OrphanGrace are Run's schedule;
	// defaults DefaultReapInterval, DefaultSweepInterval, DefaultOrphanGrace.
	ReapInterval, SweepInterval, OrphanGrace time.Duration
	// SharedStores says that other instances may use the stores at once
	// (PostgreSQL, S3): no sweep at start, where their writes may be under way.
	SharedStores bool
	// Logger gets what Run's rounds did and the errors they met, which have
	// nobody else to go to. Nil: discarded.
	Logger *slog.Logger
}

// Service implements silo.UploadService and silo.FileService over a MetaStore
// and a BlobStore.
type Service struct {
	meta  silo.MetaStore
	blobs silo.BlobStore
	cfg   Config
	md5   *chains
	sums  *digests
	life  *lifetime
	log   *slog.Logger
}

var (
	_ silo.UploadService = (*Service)(nil)
	_ silo.FileService   = (*Service)(nil)
)

// New returns a Service over the two stores.
func New(meta silo.MetaStore, blobs silo.BlobStore, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = silo.NewID
	}
	if cfg.UploadTTL <= 0 {
		cfg.UploadTTL = silo.DefaultUploadTTL
	}
	if cfg.GarbageLease <= 0 {
		cfg.GarbageLease = time.Minute
	}
	if cfg.ReapInterval <= 0 {
		cfg.ReapInterval = DefaultReapInterval
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.OrphanGrace <= 0 {
		cfg.OrphanGrace = DefaultOrphanGrace
	}
	log := cfg.Logger
	if log == nil {
		log = discardLogger
	}
	return &Service{
		meta: meta, blobs: blobs, cfg: cfg,
		md5: newChains(cfg.NoArrivalMD5, !cfg.NoMD5ReadBack), sums: newDigests(), life: newLifetime(), log: log,
	}
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// project returns the project of the request, which the HTTP layer put in ctx.
func project(ctx context.Context) (string, error) {
	p := silo.ProjectFrom(ctx)
	if p == "" {
		return "", silo.Errorf(silo.EUNAUTHORIZED, "", "No project: the request carried no valid API key.")
	}
	return p, nil
}

// checkRoom refuses, before any byte of its body is read, a request that
// would add add to a project already at its quota. It is only a first look:
// the metadata store checks the quota again, exactly, when it records what
// the request made.
func (s *Service) checkRoom(ctx context.Context, project string, add silo.Usage) error {
	if s.cfg.Quota == (silo.Quota{}) {
		return nil
	}
	used, err := s.meta.Usage(ctx, project)
	if err != nil {
		return err
	}
	return s.cfg.Quota.Check(used, add)
}

// notFound gives a store's ENOTFOUND the parameter and message of the API.
func notFound(err error, param, kind, id string) error {
	if silo.ErrorCode(err) == silo.ENOTFOUND {
		return silo.Errorf(silo.ENOTFOUND, param, "No %s found with id '%s'.", kind, silo.Clip(id))
	}
	return err
}

// Every blob the service writes has a key under one of these prefixes; a sweep
// of a shared bucket leaves every other key alone.
const (
	partKeys = "parts/"
	fileKeys = "files/"
)

// KeyPrefixes returns the prefixes of every blob key the service writes.
func KeyPrefixes() []string { return []string{partKeys, fileKeys} }

// ownKey reports whether key is one the service may have written.
func ownKey(key string) bool {
	return strings.HasPrefix(key, partKeys) || strings.HasPrefix(key, fileKeys)
}

// refused reports whether a store's error says for sure that the write was not
// made. After any other failure (a connection lost around the commit, a
// cancelled request) the record may exist, so its blob must stay: if the record
// was not made, the orphan sweep removes the blob later.
func refused(err error) bool {
	code := silo.ErrorCode(err)
	return code != silo.EUNAVAILABLE && code != silo.EINTERNAL
}

// commitTimeout bounds a record's commit once its bytes are stored.
const commitTimeout = 30 * time.Second

// commitContext returns the context for recording bytes already stored: not
// cancelled when the client hangs up, so that the commit's outcome is known
// (made, or refused and its blob deleted) instead of left for the orphan sweep.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
}

// limitReader reads at most max bytes from r and fails with err as soon as r has
// more, so a put of an oversized body stops at the limit and stores nothing.
type limitReader struct {
	r   io.Reader
	n   int64 // bytes still allowed
	err error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return 0, l.err
	}
	return n, err
}

// The modes of hashing parts as they arrive, as SetMD5OnArrival takes them.
const (
	MD5OnArrivalAuto   = "auto"
	MD5OnArrivalOn     = "on"
	MD5OnArrivalInline = "inline"
	MD5OnArrivalOff    = "off"
)

// SetMD5OnArrival sets NoArrivalMD5 and NoMD5ReadBack from mode: "on" hashes
// each part inline as it arrives when it is next in its Upload's md5 chain,
// and reads back the parts that overtook the chain; "inline" only hashes
// inline; "off" neither; "auto", the default, is "inline" (with disk blobs
// too: there, "on" cost the parts of a parallel client a second md5 pass and
// a copy out of the page cache on every upload, sending md5 or not, and
// saved a complete with md5 less than that pass). "true" and "false" are
// "on" and "off". See docs/PERFORMANCE.md for what each costs.
func (c *Config) SetMD5OnArrival(mode string) error {
	switch mode {
	case MD5OnArrivalAuto:
		return c.SetMD5OnArrival(MD5OnArrivalInline)
	case MD5OnArrivalOn, "true":
		c.NoArrivalMD5, c.NoMD5ReadBack = false, false
	case MD5OnArrivalInline:
		c.NoArrivalMD5, c.NoMD5ReadBack = false, true
	case MD5OnArrivalOff, "false":
		c.NoArrivalMD5, c.NoMD5ReadBack = true, true
	default:
		return fmt.Errorf("invalid md5-on-arrival mode %q: expected auto, on, inline or off", mode)
	}
	return nil
}
