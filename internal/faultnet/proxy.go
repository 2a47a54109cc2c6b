// Package faultnet plays the faults of a network between a test and a server
// it depends on (PostgreSQL, S3): a TCP proxy that can cut or stall.
package faultnet

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a server, and
// plays the faults of a network: cut (every connection closed, new ones
// refused, as when the server is down) and stall (connections accepted but
// nothing forwarded, as in a partition).
type Proxy struct {
	t      testing.TB
	target string
	Addr   string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]bool
	stalled bool
}

// NewProxy starts a proxy to target on a free loopback port; it stops
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: make(map[net.Conn]bool)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

// forward joins the client connection c to a new connection to the target,
// unless the proxy is stalled, when it holds c open and silent.
func (p *Proxy) forward(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = true
	stalled := p.stalled
	p.mu.Unlock()
	if stalled {
		return // closed by cut
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// Cut closes every connection and stops accepting new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Stall cuts, then accepts connections again but forwards nothing.
func (p *Proxy) Stall() {
	p.Cut()
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
	p.listen()
}

// Restore ends a cut or a stall: connections are forwarded again.
func (p *Proxy) Restore() {
	p.Cut()
	p.mu.Lock()
	p.stalled = false
	p.mu.Unlock()
	p.listen()
}

// listen accepts connections on the proxy's address again.
func (p *Proxy) listen() {
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		p.t.Fatalf("proxy: listening again on %s: %v", p.Addr, err)
	}
	p.serve(ln)
}
