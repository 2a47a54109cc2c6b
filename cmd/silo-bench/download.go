package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/silo-dev/silo/internal/procstat"
)

// downloadResult is the download figure: MB/s of each run of a whole File
// from silo, and of the same bytes from the sink (http.ServeContent of each
// part's file, which sends with sendfile).
type downloadResult struct {
	Bytes int64  `json:"bytes"`
	Silo  series `json:"silo_mbps"`
	Sink  series `json:"sink_mbps"`
	// CPU seconds per GiB, medians: the server's and the client's.
	SiloServerCPU float64 `json:"silo_server_cpu_s_per_gib"`
	SinkServerCPU float64 `json:"sink_server_cpu_s_per_gib"`
	ClientCPU     float64 `json:"client_cpu_s_per_gib"`
}

// download reads the kept File --runs times with the SDK, alternating with
// reading the same number of bytes from the sink.
func (b *bench) download(ctx context.Context, rep *report) error {
	if err := b.keepFile(ctx); err != nil {
		return err
	}
	// The sink's copy of the bytes: one file per part, as silo keeps them;
	// with S3, one object per part straight in the bucket.
	put := b.sinkPart()
	if b.direct != nil {
		put = func(ctx context.Context, i int) (string, error) { return b.direct.put(ctx, b.data, i) }
	}
	names, _, err := sendAll(ctx, b.kept.parts, b.cfg.parallel, 0, put)
	if err != nil {
		return err
	}
	defer b.clearSink()
	if err := b.settle(ctx); err != nil {
		return err
	}
	res := &downloadResult{Bytes: b.kept.bytes}
	buf := make([]byte, 1<<20)
	var siloCPU, sinkCPU, clientCPU series
	gib := float64(b.kept.bytes) / (1 << 30)
	for r := range b.cfg.runs + 1 { // run 0 warms up and is not counted
		for k := range 2 {
			isSilo := (r+k)%2 == 0
			server, name := b.silo, "silo"
			if !isSilo {
				server, name = b.sink, "sink"
				if b.direct != nil {
					name = "direct"
				}
			}
			cpu0, self0, minio0 := serverCPU(server), procstat.Self(), procstat.CPU(b.cfg.minioPID)
			start := time.Now()
			var n int64
			var err error
			switch {
			case isSilo:
				n, err = b.readSiloFile(ctx, b.kept.id, buf)
			case b.direct != nil:
				n, err = b.direct.read(ctx, names, buf)
			default:
				n, err = b.readSinkFiles(ctx, names, buf)
			}
			d := time.Since(start)
			if err != nil {
				return err
			}
			if n != b.kept.bytes && isSilo {
				return fmt.Errorf("read %d bytes of file %s, want %d", n, b.kept.id, b.kept.bytes)
			}
			mbps := float64(n) / 1e6 / d.Seconds()
			scpu := (serverCPU(server) - cpu0).Seconds() / gib
			mcpu := (procstat.CPU(b.cfg.minioPID) - minio0).Seconds() / gib
			b.logf("download run %d %-6s %7.1f MB/s  server %.2f, minio %.2f CPU s/GiB", r, name, mbps, scpu, mcpu)
			if r == 0 {
				continue
			}
			clientCPU = append(clientCPU, (procstat.Self()-self0).Seconds()/gib)
			if isSilo {
				res.Silo = append(res.Silo, mbps)
				siloCPU = append(siloCPU, scpu)
			} else {
				res.Sink = append(res.Sink, mbps)
				sinkCPU = append(sinkCPU, scpu)
			}
		}
	}
	res.SiloServerCPU, res.SinkServerCPU, res.ClientCPU = siloCPU.median(), sinkCPU.median(), clientCPU.median()
	rep.Download = res
	return nil
}

// readSiloFile reads a File's content with the SDK into nothing.
func (b *bench) readSiloFile(ctx context.Context, id string, buf []byte) (int64, error) {
	resp, err := b.sdk.Files.Content(ctx, id)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return discard(resp.Body, buf)
}

// readSinkFiles reads the sink's files one after the other into nothing.
func (b *bench) readSinkFiles(ctx context.Context, names []string, buf []byte) (int64, error) {
	var total int64
	for _, name := range names {
		req, err := http.NewRequestWithContext(ctx, "GET", b.sink.baseURL+"/files/"+name, nil)
		if err != nil {
			return total, err
		}
		resp, err := b.hc.Do(req)
		if err != nil {
			return total, err
		}
		n, err := discard(resp.Body, buf)
		resp.Body.Close()
		total += n
		if err != nil {
			return total, err
		}
		if resp.StatusCode != 200 {
			return total, fmt.Errorf("sink GET %s: %s", name, resp.Status)
		}
	}
	// Each file holds a part's multipart body: some 200 bytes more than the
	// part, which do not change the figure.
	return total, nil
}

// discard reads r to its end in large reads and returns how many bytes it had.
func discard(r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
