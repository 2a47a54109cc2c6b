package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgress_Draw draws the bar as a terminal would get it, and checks that
// a message clears the bar's line and draws it again below.
func TestProgress_Draw(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, tty: true, width: 100, name: "train.jsonl", total: 4 << 20}
	p.add(1 << 20)
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
	p.logf("part %d failed", 3)
	if !strings.HasPrefix(b.String(), "\r\x1b[Ksilo: part 3 failed\n\r\x1b[K") {
		t.Errorf("message: %q", b.String())
	}
}

// TestProgress_NotTerminal draws nothing when stderr is not a terminal.
func TestProgress_NotTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "x", 10, 0)
	p.add(5)
	p.logf("hello")
	p.finish()
	if b.String() != "silo: hello\n" {
		t.Errorf("got %q", b.String())
	}
}
