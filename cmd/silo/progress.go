package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/term"

	"github.com/silo-dev/silo/uploader"
)

// progress reports an upload's progress on stderr: a bar redrawn in place when
// stderr is a terminal (bytes sent, rate, time left), then what the complete
// is doing while it runs; nothing on the way otherwise. Messages go through
// it so that they do not tear the bar. Its event method is the uploader's
// Options.Progress.
type progress struct {
	w     io.Writer
	tty   bool
	width int
	name  string
	sent  atomic.Int64

	mu       sync.Mutex
	total    int64
	initial  int64     // bytes already sent by an earlier run
	start    time.Time // of the bar, for the rate
	status   string    // when not "", drawn instead of the bar: the complete's step
	since    time.Time // when status was set
	finished bool
	stop     chan struct{} // nil until the bar is drawn
	done     chan struct{}
}

// redrawEvery is how often the bar is redrawn.
const redrawEvery = 200 * time.Millisecond

// newProgress returns the progress of the upload of name on w.
func newProgress(w io.Writer, name string) *progress {
	p := &progress{w: w, name: name, width: 80}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			p.width = cols
		}
	}
	return p
}

// event takes an event of the uploader.
func (p *progress) event(e uploader.Event) {
	switch e.Kind {
	case uploader.EventStart:
		p.begin(e)
	case uploader.EventSent:
		p.sent.Add(e.Delta)
	case uploader.EventNotice:
		p.logf("%s", e.Message)
	case uploader.EventComplete:
		p.mu.Lock()
		defer p.mu.Unlock()
		p.status, p.since = "completing…", time.Now()
		if e.MD5 {
			p.status = "verifying md5…"
		}
		if p.tty {
			p.draw()
		}
	}
}

// begin starts the bar of an Upload's parts, saying first what an earlier
// run sent. An Upload started over begins again.
func (p *progress) begin(e uploader.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.PartsDone > 0 {
		p.printLocked(fmt.Sprintf("resuming upload %s: %d of %s (%s) already sent",
			e.UploadID, e.PartsDone, count(e.Parts, "part"), humanize.IBytes(uint64(e.Sent))))
	}
	p.total, p.initial, p.start, p.status = e.Bytes, e.Sent, time.Now(), ""
	p.sent.Store(e.Sent)
	if p.tty && p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.draw()
			p.mu.Unlock()
		}
	}
}

// logf prints a line of its own, above the bar.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(fmt.Sprintf(format, args...))
}

// printLocked prints msg as logf does; the caller holds p.mu.
func (p *progress) printLocked(msg string) {
	if p.tty {
		io.WriteString(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "silo: %s\n", msg)
	if p.tty && p.stop != nil && !p.finished {
		p.draw()
	}
}

// finish stops the bar and clears its line, for the summary to take it.
func (p *progress) finish() {
	p.mu.Lock()
	stop := p.stop
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-p.done
	p.mu.Lock()
	p.finished = true
	io.WriteString(p.w, "\r\x1b[K")
	p.mu.Unlock()
}

// draw writes the bar, or the complete's step, over the current line. The
// caller holds p.mu.
func (p *progress) draw() {
	if p.status != "" {
		fmt.Fprintf(p.w, "\r\x1b[K%s: %s sent, %s %s", p.name, humanize.IBytes(uint64(p.total)), p.status,
			time.Since(p.since).Round(time.Second))
		return
	}
	sent := min(max(p.sent.Load(), 0), p.total)
	frac := 1.0
	if p.total > 0 {
		frac = float64(sent) / float64(p.total)
	}
	rate := 0.0
	if el := time.Since(p.start).Seconds(); el > 0 {
		rate = float64(sent-p.initial) / el
	}
	eta := "--"
	if rate >= 1 {
		eta = (time.Duration(float64(p.total-sent)/rate) * time.Second).Round(time.Second).String()
	}
	info := fmt.Sprintf(" %3.0f%% %s/%s %s/s ETA %s", frac*100,
		humanize.IBytes(uint64(sent)), humanize.IBytes(uint64(p.total)), humanize.IBytes(uint64(max(rate, 0))), eta)
	name := p.name
	if len(name) > 24 {
		name = "…" + name[len(name)-23:]
	}
	barw := p.width - len(info) - len(name) - 5
	if barw < 5 {
		barw = 5
	}
	fill := int(frac * float64(barw))
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", barw-fill)
	fmt.Fprintf(p.w, "\r\x1b[K%s [%s]%s", name, bar, info)
}
