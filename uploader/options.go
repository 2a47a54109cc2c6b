package uploader

import (
	"errors"
	"fmt"
	"time"

	"github.com/silo-dev/silo"
)

// Defaults of Options.
const (
	DefaultPartSize = silo.MaxPartBytes
	DefaultParallel = 4
	DefaultAttempts = 5
)

// Options is the optional tuning of an Uploader. Zero fields take the defaults.
type Options struct {
	// PartSize is the size of every part but the last, from 1 byte to
	// silo.MaxPartBytes; default DefaultPartSize (64 MiB). A resumed Upload
	// keeps the part size it began with.
	PartSize int64

	// Parallel is how many parts are sent at once; default DefaultParallel.
	Parallel int

	// MD5 computes the source's MD5 digest while the parts are read and sends
	// it with the complete, where the server checks it.
	MD5 bool

	// Attempts is how many times each request is tried before its error is
	// returned; default DefaultAttempts. Only errors that Retryable accepts
	// are tried again.
	Attempts int

	// Backoff returns the wait after the attempt-th failed try of a request
	// (attempt counts from 1); default Backoff.
	Backoff func(attempt int) time.Duration

	// StateDir is where the resume state of each upload is kept while it is
	// under way (created if missing, a file per source, deleted once the
	// Upload completes). "" keeps no state: an interrupted upload starts over.
	StateDir string

	// Progress, when set, hears what the upload does (see Event). It is called
	// from up to Parallel+1 goroutines at once (the part senders, the HTTP
	// transport reading their bodies, and Upload's own), so it must be safe
	// for concurrent use, and quick: byte counts come with every read of the
	// source. It is never called after Upload returns.
	Progress func(Event)
}

// ErrInvalidOptions is wrapped by the error of Upload for options or a
// request that cannot work, before anything is sent.
var ErrInvalidOptions = errors.New("uploader: invalid options")

// withDefaults returns o with the zero fields set, or an error wrapping
// ErrInvalidOptions.
func (o Options) withDefaults() (Options, error) {
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.Attempts == 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
	switch {
	case o.PartSize < 1 || o.PartSize > silo.MaxPartBytes:
		return o, fmt.Errorf("%w: part size %d: expected 1 byte to %d", ErrInvalidOptions, o.PartSize, silo.MaxPartBytes)
	case o.Parallel < 1:
		return o, fmt.Errorf("%w: parallel %d: expected at least 1", ErrInvalidOptions, o.Parallel)
	case o.Attempts < 1:
		return o, fmt.Errorf("%w: attempts %d: expected at least 1", ErrInvalidOptions, o.Attempts)
	}
	return o, nil
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventStart: the parts of Upload UploadID begin to be sent. Parts and
	// Bytes are the whole Upload's; PartsDone and Sent are what an earlier
	// run had sent (a resumed Upload). A resumed Upload the server no longer
	// takes is started over, with a second EventStart.
	EventStart EventKind = iota + 1

	// EventSent: Delta more bytes of the source were read into a part
	// request; a negative Delta takes back the bytes of a try that failed.
	// Sent is the total after it, counting parts sent by an earlier run.
	// Events of parallel parts may arrive out of order, so Sent may briefly
	// go back; the sum of the Deltas is exact.
	EventSent

	// EventNotice: something a person may want to know, in Message: a
	// request that failed and will be tried again (its error in Err), a saved
	// state that cannot be resumed, an Upload started over.
	EventNotice

	// EventComplete: every part is acknowledged and the complete is being
	// sent; MD5 says whether it carries a digest for the server to check
	// (which may take the server a while).
	EventComplete
)

// Event is what Options.Progress hears; which fields are set depends on Kind.
type Event struct {
	Kind      EventKind
	UploadID  string
	Parts     int
	PartsDone int
	Bytes     int64
	Sent      int64
	Delta     int64
	MD5       bool
	Message   string
	Err       error
}

// Request is what to create the Upload with, and how to find it again.
type Request struct {
	Filename     string // required: the File's name
	Purpose      string // required
	MimeType     string // required by the API
	ExpiresAfter *silo.ExpiresAfter

	// ResumeKey names the source across runs for Options.StateDir: an upload
	// with the same key, size and fields continues the saved Upload. Default:
	// the absolute path of the source's Name() (an *os.File's). Uploads of
	// one file to several servers that share a StateDir need keys of their
	// own (silo upload prefixes the server's base URL). With neither a key
	// nor a name, no state is kept.
	ResumeKey string
}

// Result says how far an upload got. Upload returns it also with an error,
// once an Upload exists, so that a caller can say what an interruption left.
type Result struct {
	// Upload is the completed Upload, with its File; nil with an error.
	Upload    *silo.Upload
	UploadID  string
	ExpiresAt int64 // Unix seconds

	Parts        int   // parts of the Upload
	PartsDone    int   // parts acknowledged, by this run or an earlier one
	PartsResumed int   // parts an earlier run had sent
	Bytes        int64 // size of the source
	BytesDone    int64 // bytes of the parts acknowledged
	BytesSent    int64 // bytes of the parts this run sent

	MD5       string        // the digest sent with the complete, if Options.MD5
	StatePath string        // the resume state's file; "" without one
	Elapsed   time.Duration // the time Upload took
}
