package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/silo-dev/silo/uploader"
)

// count returns n and the noun, plural unless n is 1: "1 part", "3 parts".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// interrupted tells how far the upload got and how to resume it.
func interrupted(w io.Writer, cmd *cobra.Command, res *uploader.Result) {
	if res == nil {
		fmt.Fprintln(w, "silo: interrupted before the upload was created; nothing was sent")
		return
	}
	fmt.Fprintf(w, "silo: interrupted: %d of %s (%s of %s) of upload %s are sent",
		res.PartsDone, count(res.Parts, "part"), humanize.IBytes(uint64(res.BytesDone)), humanize.IBytes(uint64(res.Bytes)), res.UploadID)
	if res.StatePath == "" {
		fmt.Fprintln(w, "; no resume state could be saved, so the next run starts over")
		return
	}
	fmt.Fprintf(w, " and recorded in %s\n", res.StatePath)
	fmt.Fprintf(w, "silo: to resume before %s, run the same command again:\n  %s\n",
		time.Unix(res.ExpiresAt, 0).Format(time.Kitchen), commandLine(cmd))
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

// summary is the line left on stderr once the upload completed, terminal or
// not, as `aws s3 cp` leaves `upload: …`:
//
//	uploaded big.bin → file-abc (1.5 GiB in 8.2 s, 187 MiB/s, md5 ok)
//
// The rate is of the bytes this run sent; a resumed upload says how many
// parts an earlier run had sent.
func summary(path string, res *uploader.Result) string {
	id := res.Upload.ID
	if res.Upload.File != nil {
		id = res.Upload.File.ID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "uploaded %s → %s (%s", path, id, humanize.IBytes(uint64(res.Bytes)))
	if res.PartsResumed > 0 {
		fmt.Fprintf(&b, ", %d of %s resumed: %s", res.PartsResumed, count(res.Parts, "part"), humanize.IBytes(uint64(res.BytesSent)))
	}
	rate := 0.0
	if s := res.Elapsed.Seconds(); s > 0 {
		rate = float64(res.BytesSent) / s
	}
	fmt.Fprintf(&b, " in %s, %s/s", seconds(res.Elapsed), humanize.IBytes(uint64(rate)))
	if res.MD5 != "" {
		b.WriteString(", md5 ok")
	}
	b.WriteString(")")
	return b.String()
}

// seconds renders d as "8.2 s" under a minute, else as "2m5s".
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}
