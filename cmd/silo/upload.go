package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
)

// uploadOptions are the flags of silo upload.
type uploadOptions struct {
	path, purpose, mimeType, filename string
	partSize                          int64
	parallel                          int
	md5                               bool
	attempts                          int
	expiresAfter                      *silo.ExpiresAfter
}

// maxParallel bounds --parallel.
const maxParallel = 64

// uploadCommand is `silo upload PATH`: the whole Uploads flow in one command.
func uploadCommand(c *clientConfig) *cobra.Command {
	var o uploadOptions
	var partSize string
	var exp expiresAfterFlags
	cmd := &cobra.Command{
		Use:   "upload PATH --purpose P [--part-size 64MiB] [--parallel 4] [--md5]",
		Short: "Send a file of up to 8 GiB as an Upload of parallel parts; run it again to resume",
		Long: `Send a file of up to 8 GiB as an Upload: create it, send the parts in parallel
(retrying failed ones), complete it with the parts in file order, and print the
completed Upload. If it is interrupted, the same command run again continues
the same Upload without sending acknowledged parts again. The resume state is
kept in $SILO_CACHE_DIR, else in silo/ under the user cache directory.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("upload takes exactly one PATH, got %d arguments", len(args))
			}
			o.path = args[0]
			if err := required("purpose", o.purpose); err != nil {
				return err
			}
			n, err := parseSize(partSize)
			if err != nil || n < 1 || n > silo.MaxPartBytes {
				return usagef("invalid --part-size %q: expected a size from 1 byte to 64MiB", partSize)
			}
			o.partSize = n
			if o.parallel < 1 || o.parallel > maxParallel {
				return usagef("invalid --parallel %d: expected 1 to %d", o.parallel, maxParallel)
			}
			if o.attempts < 1 {
				return usagef("invalid --attempts %d: expected at least 1", o.attempts)
			}
			o.expiresAfter = exp.value(cmd)
			cl, err := c.client()
			if err != nil {
				return err
			}
			return c.runUpload(cmd, cl, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.purpose, "purpose", "", "purpose: "+purposeList())
	f.StringVar(&o.mimeType, "mime-type", "", "MIME type (default: guessed from the extension)")
	f.StringVar(&o.filename, "filename", "", "name of the File (default: the base name of PATH)")
	f.StringVar(&partSize, "part-size", "64MiB", "size of each part, such as 8MB or 64MiB (at most 64MiB)")
	f.IntVar(&o.parallel, "parallel", 4, "parts sent at the same time")
	f.BoolVar(&o.md5, "md5", false, "compute the file's MD5 while sending and have the server check it")
	f.IntVar(&o.attempts, "attempts", 5, "tries of each request before giving up")
	exp.add(cmd)
	return cmd
}

// runUpload sends the file and prints the completed Upload.
func (c *clientConfig) runUpload(cmd *cobra.Command, svc silo.UploadService, o *uploadOptions) error {
	ctx := cmd.Context()
	abs, err := filepath.Abs(o.path)
	if err != nil {
		return err
	}
	f, err := os.Open(abs)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", o.path)
	}
	if parts := (fi.Size() + o.partSize - 1) / o.partSize; parts > silo.MaxUploadParts {
		return usagef("--part-size %d would cut %s into %d parts; an upload takes at most %d: use parts of at least %d bytes",
			o.partSize, o.path, parts, silo.MaxUploadParts, (fi.Size()+silo.MaxUploadParts-1)/silo.MaxUploadParts)
	}
	want := &uploadState{
		Version: stateVersion, BaseURL: c.url(), Path: abs, Size: fi.Size(), ModTime: fi.ModTime().UnixNano(),
		PartSize: o.partSize, Filename: o.filename, Purpose: o.purpose, MimeType: o.mimeType,
	}
	if want.Filename == "" {
		want.Filename = filepath.Base(abs)
	}
	if want.MimeType == "" {
		want.MimeType = guessMIME(abs)
	}
	dir, err := stateDir(c.e.getenv)
	if err != nil {
		return err
	}
	u := &uploader{svc: svc, opts: o, f: f, stderr: c.e.stderr, statePath: statePath(dir, want.BaseURL, abs), want: want,
		prog: &progress{w: c.e.stderr}}
	up, st, err := u.run(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		u.interrupted(cmd, st)
		return exitError{130}
	case err != nil:
		return c.fail(err)
	}
	if !u.prog.tty {
		u.summary(o.path, up, st)
	}
	return c.print("upload", shttp.NewUploadJSON(up, time.Now()))
}

// guessMIME returns the MIME type of path's extension, or application/octet-stream.
func guessMIME(path string) string { return silo.MimeType(path) }
