package main

import (
	"context"
	"time"

	"github.com/openai/openai-go/v3"
)

// ingestResult is the ingest figure: MB/s of each run, per side, and the CPU
// seconds each side spent per GiB.
type ingestResult struct {
	Bytes int64 `json:"bytes"`
	Parts int   `json:"parts"`
	// Silo is silo driven by the streaming client, the one that drives the
	// sink: the like-for-like figure. SiloSDK is silo driven by openai-go.
	Silo    series `json:"silo_mbps"`
	SiloSDK series `json:"silo_sdk_mbps"`
	Sink    series `json:"sink_mbps"`
	// Ratio is the median of Silo over the median of Sink.
	Ratio    float64 `json:"ratio"`
	RatioSDK float64 `json:"ratio_sdk"`
	// CPU seconds per GiB sent, medians: the server's and the client's.
	SiloServerCPU    float64 `json:"silo_server_cpu_s_per_gib"`
	SiloClientCPU    float64 `json:"silo_client_cpu_s_per_gib"`
	SiloSDKClientCPU float64 `json:"silo_sdk_client_cpu_s_per_gib"`
	SinkServerCPU    float64 `json:"sink_server_cpu_s_per_gib"`
	SinkClientCPU    float64 `json:"sink_client_cpu_s_per_gib"`
}

// ingestRun is one measured send.
type ingestRun struct {
	mbps      float64
	serverCPU float64 // s per GiB
	clientCPU float64
}

// ingest sends the ingest size as parts, --parallel at a time, to silo (with
// the streaming client and with the SDK) and to the sink, --runs times each,
// in turns whose order rotates so that no side always goes first.
func (b *bench) ingest(ctx context.Context, rep *report) error {
	n := int(b.cfg.ingestSize / b.cfg.partSize)
	res := &ingestResult{Bytes: b.cfg.ingestSize, Parts: n}
	var silo, sdk, sink []ingestRun
	sides := []string{"silo", "sink", "silo-sdk"}
	// Run 0 of each side warms up (fresh processes, their first directories
	// and buffers) and is not counted.
	for r := range b.cfg.runs + 1 {
		for k := range sides {
			side := sides[(r+k)%len(sides)]
			var run ingestRun
			var err error
			switch side {
			case "silo":
				run, err = b.ingestSilo(ctx, n, b.rawPart)
			case "silo-sdk":
				run, err = b.ingestSilo(ctx, n, b.sdkPart)
			case "sink":
				run, err = b.ingestSink(ctx, n)
			}
			if err != nil {
				return err
			}
			b.logf("ingest run %d %-8s %7.1f MB/s  server %.2f, client %.2f CPU s/GiB", r, side, run.mbps, run.serverCPU, run.clientCPU)
			if r == 0 {
				continue
			}
			switch side {
			case "silo":
				silo = append(silo, run)
			case "silo-sdk":
				sdk = append(sdk, run)
			case "sink":
				sink = append(sink, run)
			}
		}
	}
	pick := func(runs []ingestRun, f func(ingestRun) float64) series {
		s := make(series, len(runs))
		for i, r := range runs {
			s[i] = f(r)
		}
		return s
	}
	mbps := func(r ingestRun) float64 { return r.mbps }
	server := func(r ingestRun) float64 { return r.serverCPU }
	client := func(r ingestRun) float64 { return r.clientCPU }
	res.Silo, res.SiloSDK, res.Sink = pick(silo, mbps), pick(sdk, mbps), pick(sink, mbps)
	res.Ratio = res.Silo.median() / res.Sink.median()
	res.RatioSDK = res.SiloSDK.median() / res.Sink.median()
	res.SiloServerCPU, res.SiloClientCPU = pick(silo, server).median(), pick(silo, client).median()
	res.SiloSDKClientCPU = pick(sdk, client).median()
	res.SinkServerCPU, res.SinkClientCPU = pick(sink, server).median(), pick(sink, client).median()
	rep.Ingest = res
	return nil
}

// ingestSilo sends n parts of a new Upload with the sender that mk makes, then
// cancels the Upload and waits for its blobs to be reaped.
func (b *bench) ingestSilo(ctx context.Context, n int, mk func(uploadID string) sender) (ingestRun, error) {
	id, err := b.newUpload(ctx, int64(n)*b.cfg.partSize)
	if err != nil {
		return ingestRun{}, err
	}
	return b.measureSend(ctx, b.silo, n, mk(id), func() error {
		_, err := b.sdk.Uploads.Cancel(ctx, id)
		return err
	})
}

// ingestSink sends n parts to the sink, then removes what it stored.
func (b *bench) ingestSink(ctx context.Context, n int) (ingestRun, error) {
	return b.measureSend(ctx, b.sink, n, b.sinkPart(), b.clearSink)
}

// measureSend sends n parts with send, then calls clean and settles. The rate
// is taken from the first byte sent to the last part acknowledged; the CPU
// time of the server until it has gone quiet after the last part, so that
// work it does after answering (silo hashes parts for md5 behind the
// requests) counts too, and that of this process until the last part.
func (b *bench) measureSend(ctx context.Context, server *child, n int, send sender, clean func() error) (ingestRun, error) {
	cpu0, self0 := server.cpu(), selfCPU()
	_, elapsed, err := sendAll(ctx, n, b.cfg.parallel, 0, send)
	if err != nil {
		return ingestRun{}, err
	}
	self1 := selfCPU()
	server.waitQuiet(ctx)
	cpu1 := server.cpu()
	if err := clean(); err != nil {
		return ingestRun{}, err
	}
	if err := b.settle(ctx); err != nil {
		return ingestRun{}, err
	}
	bytes := float64(int64(n) * b.cfg.partSize)
	gib := bytes / (1 << 30)
	return ingestRun{
		mbps:      bytes / 1e6 / elapsed.Seconds(),
		serverCPU: (cpu1 - cpu0).Seconds() / gib,
		clientCPU: (self1 - self0).Seconds() / gib,
	}, nil
}

// uploadFile sends a new Upload of n parts with the streaming client and
// completes it in upload order without md5, for phases that need a File.
func (b *bench) uploadFile(ctx context.Context, n int) (string, error) {
	id, err := b.newUpload(ctx, int64(n)*b.cfg.partSize)
	if err != nil {
		return "", err
	}
	ids, _, err := sendAll(ctx, n, b.cfg.parallel, 0, b.rawPart(id))
	if err != nil {
		return "", err
	}
	u, err := b.sdk.Uploads.Complete(ctx, id, openai.UploadCompleteParams{PartIDs: ids})
	if err != nil {
		return "", err
	}
	return u.File.ID, nil
}

// keepFile makes sure a completed File of the ingest size is kept for the
// downloads, uploading one if no phase did.
func (b *bench) keepFile(ctx context.Context) error {
	if b.kept.id != "" {
		return nil
	}
	n := int(b.cfg.ingestSize / b.cfg.partSize)
	start := time.Now()
	id, err := b.uploadFile(ctx, n)
	if err != nil {
		return err
	}
	b.kept = keptFile{id: id, bytes: b.cfg.ingestSize, parts: n}
	b.logf("uploaded %s for downloads in %s", id, time.Since(start).Round(time.Millisecond))
	return nil
}
