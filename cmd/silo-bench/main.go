// Command silo-bench measures a silo server against the practical limit of
// durable ingest on the same machine: a plain HTTP sink that writes each
// request body to its own file and fsyncs it.
//
// In one run it builds `silo serve`, starts it and the sink as child
// processes on 127.0.0.1 with data directories on the same file system, and
// reports ingest MB/s (silo, the sink, their ratio), complete latency with and
// without md5, download MB/s, the server's peak resident memory with many
// parts in flight, durable creates per second and the latency of a list page
// over many stored files. Silo is driven with the official openai-go SDK;
// the ingest figure is also taken with a streaming multipart client, the
// same one that drives the sink, so that the SDK's in-memory buffering of
// each part does not skew the comparison. See docs/PERFORMANCE.md.
//
// Usage:
//
//	go run ./cmd/silo-bench [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == sinkCommand {
		if err := runSink(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "silo-bench sink:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "silo-bench:", err)
		os.Exit(1)
	}
}

// run parses args, runs the selected phases and writes the report to stdout;
// progress goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	rep := &report{Config: cfg.summary()}
	rep.Machine = machineInfo(cfg.dir)
	b.logf("data under %s (%s)", cfg.dir, rep.Machine.Disk)
	phases := []struct {
		name string
		run  func(context.Context, *report) error
	}{
		{"ingest", b.ingest},
		{"sequential", b.sequential},
		{"complete", b.complete},
		{"manyparts", b.manyParts},
		{"download", b.download},
		{"memory", b.memory},
		{"creates", b.creates},
		{"list", b.list},
		{"profile", b.profile},
	}
	for _, p := range phases {
		if !cfg.selected(p.name) {
			continue
		}
		b.logf("== %s", p.name)
		if err := p.run(ctx, rep); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	rep.Machine.LoadAfter = loadAverage()
	rep.SiloPeakRSS = b.silo.peakRSS()
	if cfg.jsonPath != "" {
		if err := rep.writeJSON(cfg.jsonPath, stdout); err != nil {
			return err
		}
		if cfg.jsonPath == "-" {
			return nil
		}
	}
	if cfg.markdown {
		rep.writeMarkdown(stdout)
		return nil
	}
	rep.writeTable(stdout)
	return nil
}
