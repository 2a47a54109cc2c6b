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
)

// progress reports an upload's progress on stderr: a bar redrawn in place when
// stderr is a terminal (bytes sent, rate, time left), nothing on the way
// otherwise. Messages go through it so that they do not tear the bar.
type progress struct {
	w       io.Writer
	tty     bool
	width   int
	name    string
	total   int64
	initial int64 // bytes already sent by an earlier run
	sent    atomic.Int64
	start   time.Time

	mu       sync.Mutex
	finished bool
	stop     chan struct{}
	done     chan struct{}
}

// redrawEvery is how often the bar is redrawn.
const redrawEvery = 200 * time.Millisecond

// newProgress starts reporting the sending of total bytes of name, of which
// initial were sent before.
func newProgress(w io.Writer, name string, total, initial int64) *progress {
	p := &progress{w: w, name: name, total: total, initial: initial, start: time.Now(), width: 80}
	p.sent.Store(initial)
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			p.width = cols
		}
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
	return p
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

// add counts n more bytes sent (n < 0 takes back the bytes of a failed try).
func (p *progress) add(n int64) { p.sent.Add(n) }

// logf prints a line of its own, above the bar.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		io.WriteString(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "silo: "+format+"\n", args...)
	if p.tty && !p.finished {
		p.draw()
	}
}

// finish stops the bar and clears it.
func (p *progress) finish() {
	if !p.tty {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	p.finished = true
	io.WriteString(p.w, "\r\x1b[K")
	p.mu.Unlock()
}

// rate returns the bytes per second sent by this run, and the time it took.
func (p *progress) rate() (float64, time.Duration) {
	el := time.Since(p.start)
	if el <= 0 {
		return 0, el
	}
	return float64(p.sent.Load()-p.initial) / el.Seconds(), el
}

// draw writes the bar over the current line. The caller holds p.mu.
func (p *progress) draw() {
	sent := min(max(p.sent.Load(), 0), p.total)
	frac := 1.0
	if p.total > 0 {
		frac = float64(sent) / float64(p.total)
	}
	rate, _ := p.rate()
	eta := "--"
	if rate >= 1 {
		eta = (time.Duration(float64(p.total-sent)/rate) * time.Second).Round(time.Second).String()
	}
	info := fmt.Sprintf(" %3.0f%% %s/%s %s/s ETA %s", frac*100,
		humanize.IBytes(uint64(sent)), humanize.IBytes(uint64(p.total)), humanize.IBytes(uint64(rate)), eta)
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
