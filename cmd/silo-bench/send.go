package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"

	shttp "github.com/silo-dev/silo/http"
)

// newTransport returns the HTTP transport of every client of the run: enough
// idle connections that parallel requests never reconnect, and large buffers.
func newTransport() *http.Transport {
	return &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
	}
}

// postMultipart streams data as the multipart field "data" to url and
// returns the response body; any status but 200 is an error.
func (b *bench) postMultipart(ctx context.Context, url string, data io.Reader, size int64) ([]byte, error) {
	body, n, ct, err := shttp.MultipartBody("data", "part", data, size)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer sk-bench")
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// sender sends part i and returns the id the server gave it.
type sender func(ctx context.Context, i int) (string, error)

// rawPart sends part i of an Upload as a streamed multipart body.
func (b *bench) rawPart(uploadID string) sender { return b.rawPartTo(b.silo, uploadID) }

// sdkPart sends part i of an Upload with openai-go, which builds the whole
// multipart body in memory before it sends a byte.
func (b *bench) sdkPart(uploadID string) sender {
	return func(ctx context.Context, i int) (string, error) {
		p, err := b.sdk.Uploads.Parts.New(ctx, uploadID, openai.UploadPartNewParams{Data: b.data.part(i)})
		if err != nil {
			return "", err
		}
		return p.ID, nil
	}
}

// sinkPart sends part i to the sink, in the same body as rawPart sends it.
func (b *bench) sinkPart() sender {
	return func(ctx context.Context, i int) (string, error) {
		out, err := b.postMultipart(ctx, b.sink.baseURL+"/put", b.data.part(i), b.data.size())
		if err != nil {
			return "", err
		}
		var p struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(out, &p); err != nil || p.ID == "" {
			return "", fmt.Errorf("sink: unexpected answer %q", out)
		}
		return p.ID, nil
	}
}

// sendAll sends parts 0..n-1, at most parallel at a time, started in index
// order as workers free up and at least gap apart, and returns their ids by
// index and the time from the first start to the last answer. The first
// failure stops it.
//
// With no gap, the first parallel parts start together, as a simple parallel
// client starts them, and the server may see them begin in any order. A gap
// longer than the server takes to begin a part makes the order in which the
// server sees the parts begin the index order.
func sendAll(ctx context.Context, n, parallel int, gap time.Duration, send sender) ([]string, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ids := make([]string, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(parallel, n) {
		wg.Go(func() {
			for i := range jobs {
				id, err := send(ctx, i)
				if err != nil {
					cancel(fmt.Errorf("part %d: %w", i, err))
					return
				}
				ids[i] = id
			}
		})
	}
dispatch:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break dispatch
		}
		if gap > 0 && i < n-1 {
			select {
			case <-time.After(gap):
			case <-ctx.Done():
				break dispatch
			}
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	return ids, elapsed, nil
}
