package main

import (
	"fmt"
	"io"
	"strings"
)

// Issue 12's goals.
const (
	goalNoMD5CPURatio  = 1.15 // silo's CPU per GiB without md5 work, × the sink's
	goalNoMD5Ingest    = 0.90 // silo's ingest without md5 work, × the sink's
	goalSequentialMS   = 50   // complete with md5 after a sequential client, 1 GiB
	goalS3CPU          = 1.5  // silo's CPU s per GiB ingested over S3
	goalS3Ratio        = 0.8  // silo over S3, × minio-go straight to the bucket
	goalManyPartsMS    = 1000 // complete without md5 of 10,000 parts
	goalCreatesPerSec2 = 2000
)

// writeMarkdown writes issue 12's table of goals, then every other figure of
// the run, as markdown.
func (r *report) writeMarkdown(w io.Writer) {
	s3 := strings.HasPrefix(r.Config["backend"], "S3")
	fmt.Fprintf(w, "silo-bench on %s: %v CPUs, %s; load average %s before, %s after; MB = 10⁶ bytes; `%s`\n\n",
		r.Config["backend"], r.Machine.CPUs, r.Machine.Disk, r.Machine.LoadBefore, r.Machine.LoadAfter, r.Config["command"])
	fmt.Fprintln(w, "| figure | goal | measured | result |")
	fmt.Fprintln(w, "|---|---|---|---|")
	row := func(figure, goal, measured string, ok bool) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", figure, goal, measured, verdict(ok))
	}
	in := r.Ingest
	if in != nil && !s3 {
		row("server CPU per GiB ingested, no md5 work", fmt.Sprintf("≤ %.2f × the fsync sink's", goalNoMD5CPURatio),
			fmt.Sprintf("%.2f s, sink %.2f s: %.2f ×", in.SiloOffServerCPU, in.SinkServerCPU, in.SiloOffServerCPU/in.SinkServerCPU),
			in.SiloOffServerCPU <= goalNoMD5CPURatio*in.SinkServerCPU)
		row("server CPU per GiB, md5 on arrival", "≤ the above + one md5 pass",
			fmt.Sprintf("%.2f s; no md5 work %.2f s + one md5 pass %.2f s = %.2f s", in.SiloServerCPU, in.SiloOffServerCPU, in.MD5PassCPU, in.SiloOffServerCPU+in.MD5PassCPU),
			in.SiloServerCPU <= in.SiloOffServerCPU+in.MD5PassCPU)
		row("ingest, streaming client, no md5 work", fmt.Sprintf("≥ %.0f%% of the sink", 100*goalNoMD5Ingest),
			fmt.Sprintf("%.0f MB/s, sink %.0f MB/s: %.0f%% (md5 on arrival: %.0f MB/s, %.0f%%)", in.SiloOff.median(), in.Sink.median(), 100*in.RatioOff, in.Silo.median(), 100*in.Ratio),
			in.RatioOff >= goalNoMD5Ingest)
	}
	if sq := r.Sequential; sq != nil {
		row("bytes read back to hash parts that arrived while next in the md5 chain (sequential client)", "0",
			fmt.Sprintf("%.0f bytes per GiB", sq.ReadBack), sq.ReadBack == 0)
		row(fmt.Sprintf("complete with md5, sequential client, %s", fmtBytes(sq.Bytes)), fmt.Sprintf("≤ %d ms", goalSequentialMS),
			fmt.Sprintf("%.1f ms, median of %d (`--md5-on-arrival=false`: %.0f ms)", sq.MD5MS, sq.Runs, sq.OffMD5MS), sq.MD5MS <= goalSequentialMS)
	}
	if in != nil && s3 {
		row("over S3: silo CPU per GiB ingested", fmt.Sprintf("≤ %.1f s", goalS3CPU),
			fmt.Sprintf("%.2f s with md5 on arrival, %.2f s without", in.SiloServerCPU, in.SiloOffServerCPU), in.SiloServerCPU <= goalS3CPU)
		row("over S3: ingest through silo (streaming client) vs minio-go straight to the bucket", fmt.Sprintf("≥ %.1f ×", goalS3Ratio),
			fmt.Sprintf("%.0f vs %.0f MB/s: %.2f × (without md5 on arrival %.2f ×, openai-go SDK %.2f ×)", in.Silo.median(), in.Sink.median(), in.Ratio, in.RatioOff, in.RatioSDK),
			in.Ratio >= goalS3Ratio)
	}
	if d := r.Download; d != nil && s3 {
		ratio := d.Silo.median() / d.Sink.median()
		row("over S3: download through silo vs minio-go", fmt.Sprintf("≥ %.1f ×", goalS3Ratio),
			fmt.Sprintf("%.0f vs %.0f MB/s: %.2f ×", d.Silo.median(), d.Sink.median(), ratio), ratio >= goalS3Ratio)
	}
	if m := r.ManyParts; m != nil {
		row(fmt.Sprintf("a %d-part upload: complete without md5", m.Parts), fmt.Sprintf("≤ %d ms", goalManyPartsMS),
			fmt.Sprintf("%.0f ms, median of %d (runs %s)", m.Latency.median(), len(m.Latency), spread(m.Latency, "%.0f")), m.Latency.median() <= goalManyPartsMS)
	}
	if l := r.List; l != nil {
		worst := max(l.First.P50, l.Asc.P50, l.Middle.P50)
		row(fmt.Sprintf("list page of 100 at %d files", l.Files), fmt.Sprintf("≤ %d ms p50", goalListMS),
			fmt.Sprintf("%.2f ms (newest %.2f, oldest %.2f, middle %.2f; p99 %.2f)", worst, l.First.P50, l.Asc.P50, l.Middle.P50, max(l.First.P99, l.Asc.P99, l.Middle.P99)),
			worst <= goalListMS)
	}
	if c := r.Creates; c != nil {
		row(fmt.Sprintf("durable creates, %d clients", c.Clients), fmt.Sprintf("≥ %d/s", goalCreatesPerSec2),
			fmt.Sprintf("%.0f/s (p50 %.1f ms, p99 %.1f ms)", c.PerSecond, c.Latency.P50, c.Latency.P99), c.PerSecond >= goalCreatesPerSec2)
	}
	r.writeMarkdownOthers(w, s3)
}

// writeMarkdownOthers writes the run's other figures.
func (r *report) writeMarkdownOthers(w io.Writer, s3 bool) {
	fmt.Fprintln(w, "\n| other figures | measured |")
	fmt.Fprintln(w, "|---|---|")
	row := func(figure, measured string, args ...any) {
		fmt.Fprintf(w, "| %s | %s |\n", figure, fmt.Sprintf(measured, args...))
	}
	ref := "fsync sink"
	if s3 {
		ref = "minio-go straight to the bucket"
	}
	if in := r.Ingest; in != nil {
		what := fmt.Sprintf("%s as %d parts, %s in flight, median of %d", fmtBytes(in.Bytes), in.Parts, r.Config["parallel"], len(in.Silo))
		row("ingest, "+ref+" ("+what+")", "%.0f MB/s (runs %s); server CPU %.2f s/GiB, client %.2f", in.Sink.median(), spread(in.Sink, "%.0f"), in.SinkServerCPU, in.SinkClientCPU)
		row("ingest, silo, md5 on arrival, streaming client", "%.0f MB/s (runs %s), %.0f%%; server CPU %.2f s/GiB, client %.2f; read back for md5 %.0f MB/GiB",
			in.Silo.median(), spread(in.Silo, "%.0f"), 100*in.Ratio, in.SiloServerCPU, in.SiloClientCPU, in.ReadBack/1e6)
		row("ingest, silo, `--md5-on-arrival=false`, streaming client", "%.0f MB/s (runs %s), %.0f%%; server CPU %.2f s/GiB",
			in.SiloOff.median(), spread(in.SiloOff, "%.0f"), 100*in.RatioOff, in.SiloOffServerCPU)
		row("ingest, silo, md5 on arrival, openai-go SDK", "%.0f MB/s (runs %s), %.0f%%; client CPU %.2f s/GiB",
			in.SiloSDK.median(), spread(in.SiloSDK, "%.0f"), 100*in.RatioSDK, in.SiloSDKClientCPU)
		row("one crypto/md5 pass, CPU per GiB (this process)", "%.2f s", in.MD5PassCPU)
		if in.MinioDirect > 0 {
			row("MinIO CPU per GiB ingested", "silo with md5 on arrival %.2f s, without %.2f s; direct %.2f s", in.MinioSilo, in.MinioSiloOff, in.MinioDirect)
		}
	}
	if sq := r.Sequential; sq != nil {
		row(fmt.Sprintf("sequential client, %s, md5 on arrival", fmtBytes(sq.Bytes)), "%.0f MB/s; server CPU %.2f s/GiB; complete with md5 %.1f ms; read back %.0f MB/GiB", sq.MBps, sq.CPU, sq.MD5MS, sq.ReadBack/1e6)
		row(fmt.Sprintf("sequential client, %s, `--md5-on-arrival=false`", fmtBytes(sq.Bytes)), "%.0f MB/s; server CPU %.2f s/GiB; complete with md5 %.1f ms; read back %.0f MB/GiB", sq.OffMBps, sq.OffCPU, sq.OffMD5MS, sq.OffReadBack/1e6)
	}
	for _, c := range r.Complete {
		size := fmtBytes(c.Bytes)
		row("complete, no md5, "+size, "%.1f ms", c.NoMD5)
		row(fmt.Sprintf("complete, md5, %s, %s parts in flight: upload order / staggered starts / reverse order", size, r.Config["parallel"]),
			"%.0f / %.0f / %.0f ms (one md5 pass %.0f ms)", c.MD5InOrder, c.MD5Staggered, c.MD5Reverse, c.OnePassMS)
	}
	if m := r.ManyParts; m != nil {
		row(fmt.Sprintf("complete of %d parts: silo CPU; seeding the parts through the store", m.Parts), "%.0f ms; %.0f parts/s", m.ServerCPU, m.SeedPerSecond)
	}
	if d := r.Download; d != nil {
		row(fmt.Sprintf("download %s, median of %d", fmtBytes(d.Bytes), len(d.Silo)), "silo %.0f MB/s (runs %s), %s %.0f MB/s; server CPU %.2f s/GiB, %s %.2f",
			d.Silo.median(), spread(d.Silo, "%.0f"), ref, d.Sink.median(), d.SiloServerCPU, ref, d.SinkServerCPU)
	}
	if m := r.Memory; m != nil {
		row(fmt.Sprintf("silo peak RSS, %d × %s in flight", m.Parts, fmtBytes(m.PartSize)), "%.0f MB", mb(m.Peak))
	}
	if c := r.Creates; c != nil {
		row("creates: silo CPU per create", "%.3f ms (client %.3f)", c.ServerCPU, c.ClientCPU)
	}
	if l := r.List; l != nil {
		row("list: silo CPU per page", "%.2f ms", l.ServerCPU)
		if l.Seeded > 0 {
			row("list: seeding, records straight through the store", "%d files in %.0f s (%.0f/s)", l.Seeded, l.SeedSeconds, l.SeedPerSecond)
		}
	}
	if r.SiloPeakRSS > 0 {
		row("silo VmHWM at the end", "%.0f MB", mb(r.SiloPeakRSS))
	}
}

// spread is "lo–hi" of s.
func spread(s series, format string) string {
	lo, hi := s.spread()
	return fmt.Sprintf(format+"–"+format, lo, hi)
}
