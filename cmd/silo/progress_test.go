package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/uploader"
)

// TestProgress_Draw draws the bar as a terminal would get it, and checks that
// a message clears the bar's line and draws it again below.
func TestProgress_Draw(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, tty: true, width: 100, name: "train.jsonl", total: 4 << 20, start: time.Now()}
	p.event(uploader.Event{Kind: uploader.EventSent, Delta: 1 << 20})
	p.draw()
	line := b.String()
	for _, want := range []string{"\r\x1b[K", "train.jsonl [", " 25% 1.0 MiB/4.0 MiB ", "ETA "} {
		if !strings.Contains(line, want) {
			t.Errorf("bar %q does not contain %q", line, want)
		}
	}
	if n := len([]rune(strings.TrimPrefix(line, "\r\x1b[K"))); n > 100 {
		t.Errorf("bar is %d wide, more than the terminal's 100", n)
	}
	b.Reset()
	p.stop = make(chan struct{}) // as if the bar were running
	p.event(uploader.Event{Kind: uploader.EventNotice, Message: "part 3 failed"})
	if !strings.HasPrefix(b.String(), "\r\x1b[Ksilo: part 3 failed\n\r\x1b[K") {
		t.Errorf("message: %q", b.String())
	}
}

// TestProgress_Complete: on a terminal, once every part is sent, the bar
// gives way to what the complete does, which takes a while over S3 or with
// an md5 to check; at the end the line is cleared for the summary.
func TestProgress_Complete(t *testing.T) {
	for _, tc := range []struct {
		md5  bool
		want string
	}{{false, "completing…"}, {true, "verifying md5…"}} {
		var b bytes.Buffer
		p := &progress{w: &b, tty: true, width: 100, name: "big.bin"}
		// The bar's goroutine draws into b too: read it under the lock.
		read := func() string {
			p.mu.Lock()
			defer p.mu.Unlock()
			s := b.String()
			b.Reset()
			return s
		}
		p.event(uploader.Event{Kind: uploader.EventStart, Parts: 2, Bytes: 3 << 20})
		p.event(uploader.Event{Kind: uploader.EventSent, Delta: 3 << 20})
		read()
		p.event(uploader.Event{Kind: uploader.EventComplete, MD5: tc.md5})
		got := read()
		if !strings.HasPrefix(got, "\r\x1b[Kbig.bin: 3.0 MiB sent, "+tc.want+" 0s") || strings.Contains(got, "ETA") {
			t.Errorf("md5 %v: while completing the line is %q, want %q and no bar", tc.md5, got, tc.want)
		}
		p.finish()
		if got := read(); !strings.HasSuffix(got, "\r\x1b[K") || strings.Contains(got, "ETA") {
			t.Errorf("finish wrote %q, want the line cleared", got)
		}
	}
}

// TestProgress_NotTerminal draws nothing when stderr is not a terminal: the
// messages and the resume line only.
func TestProgress_NotTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "x")
	p.event(uploader.Event{Kind: uploader.EventStart, UploadID: "upload_a", Parts: 1, PartsDone: 1, Bytes: 10, Sent: 10})
	p.event(uploader.Event{Kind: uploader.EventSent, Delta: 5})
	p.event(uploader.Event{Kind: uploader.EventNotice, Message: "hello"})
	p.event(uploader.Event{Kind: uploader.EventComplete, MD5: true})
	p.finish()
	if want := "silo: resuming upload upload_a: 1 of 1 part (10 B) already sent\nsilo: hello\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestSummary checks the line left after an upload, and "1 part" rather
// than "1 parts" in every message that counts parts.
func TestSummary(t *testing.T) {
	up := &silo.Upload{ID: "upload_a", File: &silo.File{ID: "file-abc"}}
	for _, tc := range []struct {
		res  uploader.Result
		want string
	}{
		{uploader.Result{Upload: up, Parts: 24, Bytes: 1610612736, BytesSent: 1610612736, Elapsed: 8200 * time.Millisecond, MD5: "x"},
			"uploaded big.bin → file-abc (1.5 GiB in 8.2 s, 187 MiB/s, md5 ok)"},
		{uploader.Result{Upload: up, Parts: 1, Bytes: 10, BytesSent: 10, Elapsed: 2 * time.Second},
			"uploaded big.bin → file-abc (10 B in 2.0 s, 5 B/s)"},
		{uploader.Result{Upload: up, Parts: 1, PartsResumed: 1, Bytes: 10, Elapsed: 90 * time.Second},
			"uploaded big.bin → file-abc (10 B, 1 of 1 part resumed: 0 B in 1m30s, 0 B/s)"},
		{uploader.Result{Upload: up, Parts: 3, PartsResumed: 2, Bytes: 3 << 20, BytesSent: 1 << 20, Elapsed: time.Second, MD5: "x"},
			"uploaded big.bin → file-abc (3.0 MiB, 2 of 3 parts resumed: 1.0 MiB in 1.0 s, 1.0 MiB/s, md5 ok)"},
	} {
		if got := summary("big.bin", &tc.res); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}

	cmd := &cobra.Command{Use: "upload"}
	var b bytes.Buffer
	interrupted(&b, cmd, &uploader.Result{UploadID: "upload_a", Parts: 1, Bytes: 5, StatePath: "/s.json", ExpiresAt: 1})
	if !strings.HasPrefix(b.String(), "silo: interrupted: 0 of 1 part (0 B of 5 B) of upload upload_a are sent and recorded in /s.json\n") {
		t.Errorf("interrupted: %q", b.String())
	}
	if got := count(0, "part") + ", " + count(1, "part") + ", " + count(2, "part"); got != "0 parts, 1 part, 2 parts" {
		t.Errorf("count: %q", got)
	}
}
