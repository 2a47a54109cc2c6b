package s3

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/internal/faultnet"
)

// throughProxy returns a store on a fresh prefix whose requests go through a
// fault proxy, and the proxy.
func throughProxy(t *testing.T, opts Options) (*Store, *faultnet.Proxy) {
	t.Helper()
	u, err := url.Parse(freshURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	ep, err := url.Parse(q.Get("endpoint"))
	if err != nil || ep.Host == "" || ep.Scheme != "http" {
		t.Skip("SILO_TEST_S3_URL has no http endpoint to put a proxy in front of")
	}
	p := faultnet.NewProxy(t, ep.Host)
	ep.Host = p.Addr
	q.Set("endpoint", ep.String())
	u.RawQuery = q.Encode()
	return open(t, u.String(), opts), p
}

// wantUnavailable fails the test unless err is EUNAVAILABLE.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if got := silo.ErrorCode(err); got != silo.EUNAVAILABLE {
		t.Errorf("%s with the endpoint down: got %v (code %q), want %s", what, err, got, silo.EUNAVAILABLE)
	}
}

// TestUnavailable cuts the connection to the endpoint: every method fails
// with EUNAVAILABLE, a Put leaves nothing, and the same store works again
// once the endpoint can be reached.
func TestUnavailable(t *testing.T) {
	s, p := throughProxy(t, Options{MaxAttempts: 2})
	ctx := context.Background()
	if _, err := s.Put(ctx, "kept", bytes.NewReader([]byte("kept"))); err != nil {
		t.Fatalf("Put: %v", err)
	}

	p.Cut()
	_, err := s.Put(ctx, "small", bytes.NewReader([]byte("small")))
	wantUnavailable(t, "Put", err)
	_, err = s.Put(ctx, "large", newStream(3*MinPartSize))
	wantUnavailable(t, "Put of several parts", err)
	_, err = s.Open(ctx, "kept", 0, -1)
	wantUnavailable(t, "Open", err)
	_, err = s.Open(ctx, "kept", 0, 0)
	wantUnavailable(t, "Open of no bytes", err)
	wantUnavailable(t, "Delete", s.Delete(ctx, "kept"))
	wantUnavailable(t, "List", s.List(ctx, func(string, time.Time) error { return nil }))

	p.Restore()
	var rc io.ReadCloser
	for i := 0; ; i++ {
		if rc, err = s.Open(ctx, "kept", 0, -1); err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("Open once the endpoint is back: still %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "kept" {
		t.Errorf("Open once the endpoint is back: got %q, %v; want %q", got, err, "kept")
	}
	var keys []string
	if err := s.List(ctx, func(k string, _ time.Time) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(keys) != 1 || keys[0] != "kept" {
		t.Errorf("List once the endpoint is back: got %q, want only the blob stored before", keys)
	}
}

// TestUnavailable_Stalled makes the endpoint accept connections and never
// answer: requests fail within the store's time limits instead of hanging.
func TestUnavailable_Stalled(t *testing.T) {
	s, p := throughProxy(t, Options{MaxAttempts: 1, ResponseTimeout: 500 * time.Millisecond})
	p.Stall()
	_, err := s.Open(context.Background(), "any", 0, -1)
	wantUnavailable(t, "Open", err)
}
