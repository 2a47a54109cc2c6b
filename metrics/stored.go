package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/silo-dev/silo"
)

// Totals reads what is stored over every project. UsageTotals makes one
// from the metadata store's usage counters.
type Totals func(ctx context.Context) (silo.Usage, error)

// UsageTotals returns Totals that read the metadata store's usage counters
// summed over every project (MetaStore.Usage with project ""): one small
// read, not a scan of the records, shared by every instance over the store.
func UsageTotals(meta silo.MetaStore) Totals {
	return func(ctx context.Context) (silo.Usage, error) { return meta.Usage(ctx, "") }
}

// StoredOptions says how often TrackStored reads the totals.
type StoredOptions struct {
	// Every is the period of the reads. Default 5 seconds.
	Every time.Duration
	// Timeout bounds one read. Default 10 seconds.
	Timeout time.Duration
}

// stored keeps the silo_stored_* gauges, read with a Totals now and then,
// so that a scrape reads numbers in memory and never the store.
type stored struct {
	files, bytes, pending prometheus.Gauge
	errors                prometheus.Counter

	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

func newStored(f factory) *stored {
	return &stored{
		files:   f.gauge("silo_stored_files", "Files stored (not deleted), over every project, from the metadata store's usage counters."),
		bytes:   f.gauge("silo_stored_bytes", "Bytes stored over every project: those of the Files and of the recorded parts of pending uploads."),
		pending: f.gauge("silo_pending_uploads", "Uploads stored as pending, over every project."),
		errors:  f.counter("silo_stored_read_errors_total", "Reads of the stored totals that failed."),
	}
}

// TrackStored keeps silo_stored_files, silo_stored_bytes and
// silo_pending_uploads with totals, read at once and every opts.Every in a
// goroutine that Close stops. Call it at most once.
func (m *Metrics) TrackStored(totals Totals, opts StoredOptions) {
	if opts.Every <= 0 {
		opts.Every = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
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
			u, err := totals(rctx)
			rcancel()
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				s.errors.Inc()
			default:
				s.files.Set(float64(u.Files))
				s.bytes.Set(float64(u.Bytes))
				s.pending.Set(float64(u.PendingUploads))
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
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
