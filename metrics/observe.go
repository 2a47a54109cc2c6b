package metrics

import (
	"strconv"

	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/service"
)

var (
	_ shttp.Observer   = (*Metrics)(nil)
	_ service.Observer = (*Metrics)(nil)
)

// RequestStarted counts a request in flight.
func (m *Metrics) RequestStarted() { m.inFlight.Inc() }

// RequestDone counts an answered request; its values are bounded by the http
// package (route patterns, standard methods).
func (m *Metrics) RequestDone(r shttp.RequestInfo) {
	m.inFlight.Dec()
	m.requests.WithLabelValues(r.Route, r.Method, strconv.Itoa(r.Status)).Inc()
	m.latency.WithLabelValues(r.Route, r.Method).Observe(r.Duration.Seconds())
	if r.BytesIn > 0 {
		m.bytesIn.WithLabelValues(r.Route).Add(float64(r.BytesIn))
	}
	if r.BytesOut > 0 {
		m.bytesOut.WithLabelValues(r.Route).Add(float64(r.BytesOut))
	}
}

// Refused counts a refusal. An unknown reason is counted as "other", so that
// no caller can add label values by mistake.
func (m *Metrics) Refused(reason string) {
	switch reason {
	case shttp.RefusedAuth, shttp.RefusedQuota, shttp.RefusedFreeSpace, shttp.RefusedStall, shttp.RefusedTooLarge:
	default:
		reason = "other"
	}
	m.refusals.WithLabelValues(reason).Inc()
}

// Observe moves the metrics of a service event.
func (m *Metrics) Observe(e service.Event) {
	n := float64(e.Count)
	switch e.Kind {
	case service.UploadCreated:
		m.uploads.WithLabelValues("created").Add(n)
	case service.UploadCompleted:
		m.uploads.WithLabelValues("completed").Add(n)
	case service.UploadCancelled:
		m.uploads.WithLabelValues("cancelled").Add(n)
	case service.UploadsExpired:
		m.uploads.WithLabelValues("expired").Add(n)
	case service.FileCreated:
		m.files.WithLabelValues("created").Add(n)
		m.fileBytes.Add(float64(e.Bytes))
	case service.FileDeleted:
		m.files.WithLabelValues("deleted").Add(n)
	case service.FilesExpired:
		m.files.WithLabelValues("expired").Add(n)
	case service.PartStarted:
		m.parts.Add(n)
	case service.PartDone:
		m.parts.Sub(n)
	case service.ReapRun:
		if e.Err != nil {
			m.reaps.WithLabelValues("error").Inc()
		} else {
			m.reaps.WithLabelValues("ok").Inc()
			m.lastReap.Set(float64(m.now().UnixNano()) / 1e9)
		}
	case service.SweepRun:
		if e.Err != nil {
			m.sweeps.WithLabelValues("error").Inc()
		} else {
			m.sweeps.WithLabelValues("ok").Inc()
		}
	case service.BlobsDeleted:
		if e.Source == "sweep" {
			m.deleted.WithLabelValues("sweep").Add(n)
		} else {
			m.deleted.WithLabelValues("reaper").Add(n)
		}
	case service.GarbageClaimed:
		m.claimed.Add(n)
	case service.MD5OnArrival:
		m.md5.WithLabelValues("arrival").Add(float64(e.Bytes))
	case service.MD5ReadBack:
		m.md5.WithLabelValues("read_back").Add(float64(e.Bytes))
	case service.MD5OnComplete:
		m.md5.WithLabelValues("complete").Add(float64(e.Bytes))
	}
}
