package main

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/silo-dev/silo/internal/procstat"
)

// ingestResult is the ingest figure: MB/s of each run, per side, and the CPU
// seconds each side spent per GiB.
type ingestResult struct {
	Bytes int64 `json:"bytes"`
	Parts int   `json:"parts"`
	// Silo is silo driven by the streaming client, the one that drives the
	// sink: the like-for-like figure; SiloOff the same with
	// --md5-on-arrival=false. SiloSDK is silo driven by openai-go. Sink is
	// the fsync sink, or with S3 minio-go straight to the bucket.
	Silo    series `json:"silo_mbps"`
	SiloOff series `json:"silo_no_md5_mbps"`
	SiloSDK series `json:"silo_sdk_mbps"`
	Sink    series `json:"sink_mbps"`
	// Ratio is the median of Silo over the median of Sink.
	Ratio    float64 `json:"ratio"`
	RatioOff float64 `json:"ratio_no_md5"`
	RatioSDK float64 `json:"ratio_sdk"`
	// CPU seconds per GiB sent, medians: the server's and the client's.
	SiloServerCPU    float64 `json:"silo_server_cpu_s_per_gib"`
	SiloOffServerCPU float64 `json:"silo_no_md5_server_cpu_s_per_gib"`
	SiloClientCPU    float64 `json:"silo_client_cpu_s_per_gib"`
	SiloSDKClientCPU float64 `json:"silo_sdk_client_cpu_s_per_gib"`
	SinkServerCPU    float64 `json:"sink_server_cpu_s_per_gib"`
	SinkClientCPU    float64 `json:"sink_client_cpu_s_per_gib"`
	// MinIO's CPU seconds per GiB (with --minio-pid): for silo's ingest with
	// md5 on arrival, without, and for the direct baseline.
	MinioSilo    float64 `json:"minio_cpu_s_per_gib_silo,omitempty"`
	MinioSiloOff float64 `json:"minio_cpu_s_per_gib_silo_no_md5,omitempty"`
	MinioDirect  float64 `json:"minio_cpu_s_per_gib_direct,omitempty"`
	// ReadBack is the bytes silo (md5 on arrival) read back from the blob
	// store per GiB ingested to hash parts, median.
	ReadBack float64 `json:"silo_md5_read_back_bytes_per_gib"`
	// MD5PassCPU is the CPU seconds of one crypto/md5 pass over a GiB in
	// this process, taken during the run: the cost md5 on arrival may add.
	MD5PassCPU float64 `json:"md5_pass_cpu_s_per_gib"`
}

// ingestRun is one measured send.
type ingestRun struct {
	mbps      float64
	serverCPU float64 // s per GiB
	clientCPU float64
	minioCPU  float64
	readBack  float64 // bytes per GiB
}

// ingest sends the ingest size as parts, --parallel at a time, to silo (with
// the streaming client, with md5 on arrival and without, and with the SDK)
// and to the sink or the bucket directly, --runs times each, in turns whose
// order rotates so that no side always goes first.
func (b *bench) ingest(ctx context.Context, rep *report) error {
	n := int(b.cfg.ingestSize / b.cfg.partSize)
	res := &ingestResult{Bytes: b.cfg.ingestSize, Parts: n}
	runs := map[string][]ingestRun{}
	sides := []string{"silo", "sink", "silo-nomd5", "silo-sdk"}
	// Run 0 of each side warms up (fresh processes, their first directories
	// and buffers) and is not counted.
	for r := range b.cfg.runs + 1 {
		for k := range sides {
			side := sides[(r+k)%len(sides)]
			var run ingestRun
			var err error
			switch side {
			case "silo":
				run, err = b.ingestSilo(ctx, b.silo, n, b.rawPart)
			case "silo-nomd5":
				run, err = b.ingestSilo(ctx, b.siloOff, n, func(id string) sender { return b.rawPartTo(b.siloOff, id) })
			case "silo-sdk":
				run, err = b.ingestSilo(ctx, b.silo, n, b.sdkPart)
			case "sink":
				run, err = b.ingestSink(ctx, n)
			}
			if err != nil {
				return err
			}
			b.logf("ingest run %d %-10s %7.1f MB/s  server %.2f, client %.2f, minio %.2f CPU s/GiB; read back %.0f MB/GiB",
				r, side, run.mbps, run.serverCPU, run.clientCPU, run.minioCPU, run.readBack/1e6)
			if r > 0 {
				runs[side] = append(runs[side], run)
			}
		}
	}
	pick := func(side string, f func(ingestRun) float64) series {
		s := make(series, len(runs[side]))
		for i, r := range runs[side] {
			s[i] = f(r)
		}
		return s
	}
	mbps := func(r ingestRun) float64 { return r.mbps }
	server := func(r ingestRun) float64 { return r.serverCPU }
	client := func(r ingestRun) float64 { return r.clientCPU }
	minio := func(r ingestRun) float64 { return r.minioCPU }
	res.Silo, res.SiloOff, res.SiloSDK, res.Sink = pick("silo", mbps), pick("silo-nomd5", mbps), pick("silo-sdk", mbps), pick("sink", mbps)
	res.Ratio = res.Silo.median() / res.Sink.median()
	res.RatioOff = res.SiloOff.median() / res.Sink.median()
	res.RatioSDK = res.SiloSDK.median() / res.Sink.median()
	res.SiloServerCPU, res.SiloClientCPU = pick("silo", server).median(), pick("silo", client).median()
	res.SiloOffServerCPU = pick("silo-nomd5", server).median()
	res.SiloSDKClientCPU = pick("silo-sdk", client).median()
	res.SinkServerCPU, res.SinkClientCPU = pick("sink", server).median(), pick("sink", client).median()
	if b.cfg.minioPID > 0 {
		res.MinioSilo, res.MinioSiloOff, res.MinioDirect = pick("silo", minio).median(), pick("silo-nomd5", minio).median(), pick("sink", minio).median()
	}
	res.ReadBack = pick("silo", func(r ingestRun) float64 { return r.readBack }).median()
	res.MD5PassCPU = md5PassCPU(b.data)
	rep.Ingest = res
	return nil
}

// md5PassCPU times one crypto/md5 pass over 1 GiB of the payload's part, in
// CPU seconds of this process (which does nothing else meanwhile).
func md5PassCPU(data *payload) float64 {
	h := md5.New()
	part := data.base
	c0 := procstat.Self()
	for done := int64(0); done < 1<<30; done += int64(len(part)) {
		h.Write(part)
	}
	return (procstat.Self() - c0).Seconds()
}

// rawPartTo sends part i of an Upload of srv as a streamed multipart body.
func (b *bench) rawPartTo(srv *child, uploadID string) sender {
	return func(ctx context.Context, i int) (string, error) {
		out, err := b.postMultipart(ctx, srv.baseURL+"/v1/uploads/"+uploadID+"/parts", b.data.part(i), b.data.size())
		if err != nil {
			return "", err
		}
		var p struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(out, &p); err != nil || p.ID == "" {
			return "", fmt.Errorf("add part: unexpected answer %q", out)
		}
		return p.ID, nil
	}
}

// ingestSilo sends n parts of a new Upload of srv with the sender that mk
// makes, then cancels the Upload and waits for its blobs to be reaped.
func (b *bench) ingestSilo(ctx context.Context, srv *child, n int, mk func(uploadID string) sender) (ingestRun, error) {
	sdk := newSDK(srv.baseURL, b.hc)
	id, err := newUploadOf(ctx, sdk, int64(n)*b.cfg.partSize)
	if err != nil {
		return ingestRun{}, err
	}
	return b.measureSend(ctx, srv, n, mk(id), func() error {
		_, err := sdk.Uploads.Cancel(ctx, id)
		return err
	})
}

// ingestSink sends n parts to the sink, or to the bucket straight, then
// removes what it stored.
func (b *bench) ingestSink(ctx context.Context, n int) (ingestRun, error) {
	if b.direct != nil {
		return b.measureSend(ctx, nil, n, func(ctx context.Context, i int) (string, error) {
			return b.direct.put(ctx, b.data, i)
		}, b.clearSink)
	}
	return b.measureSend(ctx, b.sink, n, b.sinkPart(), b.clearSink)
}

// measureSend sends n parts with send, then calls clean and settles. The rate
// is taken from the first byte sent to the last part acknowledged; the CPU
// time of the server (nil: none but MinIO) until it has gone quiet after the
// last part, so that work it does after answering (silo hashes parts for md5
// behind the requests) counts too, and that of this process until the last
// part.
func (b *bench) measureSend(ctx context.Context, server *child, n int, send sender, clean func() error) (ingestRun, error) {
	var rb0, cb0 float64
	if server != nil && server != b.sink {
		rb0, cb0 = server.md5Bytes(ctx)
	}
	cpu0, self0, minio0 := serverCPU(server), procstat.Self(), procstat.CPU(b.cfg.minioPID)
	_, elapsed, err := sendAll(ctx, n, b.cfg.parallel, 0, send)
	if err != nil {
		return ingestRun{}, err
	}
	self1 := procstat.Self()
	if server != nil {
		server.waitQuiet(ctx)
	}
	cpu1, minio1 := serverCPU(server), procstat.CPU(b.cfg.minioPID)
	var rb1, cb1 float64
	if server != nil && server != b.sink {
		rb1, cb1 = server.md5Bytes(ctx)
	}
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
		minioCPU:  (minio1 - minio0).Seconds() / gib,
		readBack:  (rb1 - rb0 + cb1 - cb0) / gib,
	}, nil
}

// serverCPU is the CPU time of server so far, 0 for none.
func serverCPU(server *child) time.Duration {
	if server == nil {
		return 0
	}
	return server.cpu()
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
