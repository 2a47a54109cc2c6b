package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/uploader"
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
	req := uploader.Request{
		Filename: o.filename, Purpose: o.purpose, MimeType: o.mimeType, ExpiresAfter: o.expiresAfter,
		// One file sent to two servers has a state for each.
		ResumeKey: c.url() + "\x00" + abs,
	}
	if req.Filename == "" {
		req.Filename = filepath.Base(abs)
	}
	if req.MimeType == "" {
		req.MimeType = guessMIME(abs)
	}
	dir, err := stateDir(c.e.getenv)
	if err != nil {
		return err
	}
	prog := newProgress(c.e.stderr, req.Filename)
	up := uploader.New(svc, uploader.Options{
		PartSize: o.partSize, Parallel: o.parallel, MD5: o.md5, Attempts: o.attempts, StateDir: dir, Progress: prog.event,
	})
	res, err := up.Upload(ctx, f, fi.Size(), req)
	prog.finish()
	switch {
	case err != nil && ctx.Err() != nil:
		interrupted(c.e.stderr, cmd, res)
		return exitError{130}
	case errors.Is(err, uploader.ErrInvalidOptions):
		return usageError{err}
	case errors.Is(err, uploader.ErrSourceChanged):
		return fmt.Errorf("%w: run the command again to send the file as it is now", err)
	case err != nil:
		return c.fail(err)
	}
	fmt.Fprintln(c.e.stderr, summary(o.path, res))
	return c.print("upload", shttp.NewUploadJSON(res.Upload, time.Now()))
}

// stateDir is where upload states live: $SILO_CACHE_DIR, else silo/ in the
// user cache directory.
func stateDir(getenv func(string) string) (string, error) {
	if d := getenv("SILO_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the resume state (set SILO_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "silo"), nil
}

// guessMIME returns the MIME type of path's extension, or application/octet-stream.
func guessMIME(path string) string { return silo.MimeType(path) }
