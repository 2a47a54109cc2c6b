package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/silo-dev/silo"
)

// Totals reads how many Files are stored and how many bytes they hold, over
// every project. ListedTotals makes one; a store that keeps running usage
// counters can give a cheap one.
type Totals func(ctx context.Context) (files, bytes int64, err error)

// StoredOptions says how often TrackStored re-reads the totals.
type StoredOptions struct {
	// Every is the period of a full re-read, which also brings in what other
	// instances sharing the stores did. Default 10 minutes.
	Every time.Duration
	// AfterChange is how soon after a File was deleted or expired (whose
	// size the service does not know) the totals are re-read; re-reads are
	// at least this far apart. Default one minute.
	AfterChange time.Duration
	// Timeout bounds one read. Default one minute.
	Timeout time.Duration
}

// stored keeps the silo_stored_files and silo_stored_bytes gauges: read with
// a Totals at start and now and then, and moved in between by the service's
// FileCreated events, so that a scrape reads two numbers and never a table.
type stored struct {
	files, bytes prometheus.Gauge
	errors       prometheus.Counter

	mu       sync.Mutex
	nfiles   int64
	nbytes   int64
	known    bool // a read succeeded: the gauges are set
	dirty    chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

func newStored(f factory) *stored {
	return &stored{
		files:  f.gauge("silo_stored_files", "Files stored (neither deleted nor expired), over every project; see docs/METRICS.md for how it is kept."),
		bytes:  f.gauge("silo_stored_bytes", "Bytes of the Files stored, over every project."),
		errors: f.counter("silo_stored_read_errors_total", "Reads of the stored totals that failed."),
		dirty:  make(chan struct{}, 1),
	}
}

// add moves the totals by a File created (or removed, negative).
func (s *stored) add(files, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known {
		return // the first read will count it
	}
	s.nfiles += files
	s.nbytes += bytes
	s.files.Set(float64(s.nfiles))
	s.bytes.Set(float64(s.nbytes))
}

// set replaces the totals with a fresh read.
func (s *stored) set(files, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nfiles, s.nbytes, s.known = files, bytes, true
	s.files.Set(float64(files))
	s.bytes.Set(float64(bytes))
}

// changed asks for a re-read soon: a File left whose size is unknown here.
func (s *stored) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// TrackStored starts keeping silo_stored_files and silo_stored_bytes with
// totals: it reads them at once, after deletions and expiries, and every
// opts.Every, in a goroutine that Close stops. Between reads the gauges
// follow the Files this process creates. Call it at most once.
func (m *Metrics) TrackStored(totals Totals, opts StoredOptions) {
	if opts.Every <= 0 {
		opts.Every = 10 * time.Minute
	}
	if opts.AfterChange <= 0 {
		opts.AfterChange = time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	s := m.stored
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(opts.Every)
		defer tick.Stop()
		for {
			rctx, rcancel := context.WithTimeout(ctx, opts.Timeout)
			files, bytes, err := totals(rctx)
			rcancel()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.errors.Inc()
			} else {
				s.set(files, bytes)
			}
			// Re-reads are at least AfterChange apart.
			select {
			case <-ctx.Done():
				return
			case <-time.After(opts.AfterChange):
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-s.dirty:
			}
		}
	}()
}

// stop ends the goroutine of TrackStored, if it runs.
func (s *stored) stop() {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.done
		}
	})
}

// ListedTotals returns Totals that page through the Files of each of
// projects with the metadata store's ListFiles: one pass over the Files,
// fine now and then, not per scrape. Files of a project not in projects (one
// whose keys were removed) are not counted.
func ListedTotals(meta silo.MetaStore, projects []string, now func() time.Time) Totals {
	return func(ctx context.Context) (files, bytes int64, err error) {
		for _, p := range projects {
			q := silo.FileQuery{Limit: silo.MaxListLimit, Order: "asc"}
			for {
				page, err := meta.ListFiles(ctx, p, q, now())
				if err != nil {
					return 0, 0, err
				}
				for _, f := range page.Files {
					files++
					bytes += f.Bytes
				}
				if !page.HasMore || len(page.Files) == 0 {
					break
				}
				q.After = page.Files[len(page.Files)-1].ID
			}
		}
		return files, bytes, nil
	}
}
