package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

// uploader runs one silo upload.
type uploader struct {
	svc       silo.UploadService
	opts      *uploadOptions
	f         *os.File
	stderr    io.Writer
	statePath string
	want      *uploadState // the state a new Upload of this file starts with
	prog      *progress

	mu         sync.Mutex // guards the state's parts and its file
	saveFailed bool
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
	start := time.Now()
	up, st, err := u.run(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		u.interrupted(cmd, st)
		return exitError{130}
	case err != nil:
		return c.fail(err)
	}
	if !u.prog.tty {
		fmt.Fprintf(c.e.stderr, "silo: sent %s (%s) as %s in %s", o.path, humanize.IBytes(uint64(fi.Size())), up.ID,
			time.Since(start).Round(time.Millisecond))
		if up.File != nil {
			fmt.Fprintf(c.e.stderr, ": %s", up.File.ID)
		}
		fmt.Fprintln(c.e.stderr)
	}
	return c.print("upload", shttp.NewUploadJSON(up, time.Now()))
}

// guessMIME returns the MIME type of path's extension, or application/octet-stream.
func guessMIME(path string) string {
	if t := mime.TypeByExtension(filepath.Ext(path)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// interrupted tells how far the upload got and how to resume it.
func (u *uploader) interrupted(cmd *cobra.Command, st *uploadState) {
	if st == nil {
		fmt.Fprintln(u.stderr, "silo: interrupted before the upload was created; nothing was sent")
		return
	}
	u.mu.Lock()
	parts, bytes := st.acknowledged()
	u.mu.Unlock()
	fmt.Fprintf(u.stderr, "silo: interrupted: %d of %d parts (%s of %s) of upload %s are sent and recorded in %s\n",
		parts, len(st.Parts), humanize.IBytes(uint64(bytes)), humanize.IBytes(uint64(st.Size)), st.UploadID, u.statePath)
	fmt.Fprintf(u.stderr, "silo: to resume before %s, run the same command again:\n  %s\n",
		time.Unix(st.ExpiresAt, 0).Format(time.Kitchen), commandLine(cmd))
}

// commandLine renders the command as run, for the user to run it again. The
// API key is not repeated on the screen.
func commandLine(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	for _, a := range cmd.Flags().Args() {
		parts = append(parts, shellQuote(a))
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		v := f.Value.String()
		if f.Name == "api-key" {
			v = "KEY"
		}
		if f.Value.Type() == "bool" {
			parts = append(parts, "--"+f.Name)
			return
		}
		parts = append(parts, "--"+f.Name, shellQuote(v))
	})
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// run resumes the saved Upload of the file or creates one, sends the parts
// and completes it. A resumed Upload that the server no longer takes
// (expired, cancelled, unknown) is started over once. It returns the state
// last used, for the message of an interruption.
func (u *uploader) run(ctx context.Context) (*silo.Upload, *uploadState, error) {
	st := u.resume(ctx)
	resumed := st != nil
	for {
		if st == nil {
			var err error
			if st, err = u.create(ctx); err != nil {
				return nil, nil, err
			}
		}
		up, err := u.send(ctx, st)
		if err == nil {
			os.Remove(u.statePath)
			return up, st, nil
		}
		if !resumed || ctx.Err() != nil || !restartable(err) {
			return nil, st, err
		}
		u.prog.logf("upload %s can no longer be continued (%s); starting a new upload", st.UploadID, silo.ErrorMessage(err))
		os.Remove(u.statePath)
		st, resumed = nil, false
	}
}

// restartable reports whether err says the resumed Upload is gone for good.
func restartable(err error) bool {
	switch silo.ErrorCode(err) {
	case silo.EUPLOADEXPIRED, silo.EUPLOADCANCELLED, silo.ENOTFOUND:
		return true
	}
	return false
}

// resume returns the saved state if it can continue this upload, or nil
// after saying why a saved state cannot.
func (u *uploader) resume(ctx context.Context) *uploadState {
	s, err := loadState(u.statePath)
	if err != nil {
		fmt.Fprintf(u.stderr, "silo: %v; starting a new upload\n", err)
		os.Remove(u.statePath)
		return nil
	}
	if s == nil || s.BaseURL != u.want.BaseURL || s.Path != u.want.Path {
		return nil
	}
	if why := staleReason(s, u.want, time.Now()); why != "" {
		fmt.Fprintf(u.stderr, "silo: %s; starting a new upload\n", why)
		if time.Now().Unix() < s.ExpiresAt {
			// Free the old Upload's parts on the server; it cannot be completed now.
			_, _ = u.svc.CancelUpload(ctx, s.UploadID)
		}
		os.Remove(u.statePath)
		return nil
	}
	parts, bytes := s.acknowledged()
	fmt.Fprintf(u.stderr, "silo: resuming upload %s: %d of %d parts (%s) already sent\n",
		s.UploadID, parts, len(s.Parts), humanize.IBytes(uint64(bytes)))
	if s.PartSize != u.want.PartSize {
		fmt.Fprintf(u.stderr, "silo: keeping the part size of upload %s: %d bytes\n", s.UploadID, s.PartSize)
	}
	return s
}

// create creates a new Upload of the file and saves its state.
func (u *uploader) create(ctx context.Context) (*uploadState, error) {
	w := u.want
	var up *silo.Upload
	err := u.retry(ctx, "creating the upload", func() (err error) {
		up, err = u.svc.CreateUpload(ctx, &silo.UploadCreate{
			Filename: w.Filename, Purpose: w.Purpose, Bytes: w.Size, MimeType: w.MimeType, ExpiresAfter: u.opts.expiresAfter,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	st := *w
	st.UploadID, st.ExpiresAt = up.ID, up.ExpiresAt
	st.Parts = make([]string, partCount(st.Size, st.PartSize))
	u.mu.Lock()
	u.saveLocked(&st)
	u.mu.Unlock()
	return &st, nil
}

// send sends the parts not yet acknowledged and completes the Upload.
func (u *uploader) send(ctx context.Context, st *uploadState) (*silo.Upload, error) {
	_, before := st.acknowledged()
	u.prog = newProgress(u.stderr, st.Filename, st.Size, before)
	defer u.prog.finish()
	sum, err := u.sendParts(ctx, st)
	if err != nil {
		return nil, err
	}
	ids := u.snapshot(st)
	var up *silo.Upload
	err = u.retry(ctx, "completing the upload", func() (err error) {
		up, err = u.svc.CompleteUpload(ctx, st.UploadID, ids, sum)
		return err
	})
	return up, err
}

// saveLocked saves the state; the caller holds u.mu. A state that cannot be
// saved costs only the ability to resume, so the upload goes on after a warning.
func (u *uploader) saveLocked(st *uploadState) {
	if err := st.save(u.statePath); err != nil && !u.saveFailed {
		u.saveFailed = true
		u.prog.logf("cannot save the resume state (%v); an interrupted upload will start over", err)
	}
}
