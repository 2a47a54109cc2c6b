package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/silo-dev/silo"
)

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

// summary is the line that stands for the progress bar when stderr is not a
// terminal.
func (u *uploader) summary(path string, up *silo.Upload, st *uploadState) {
	rate, took := u.prog.rate()
	fmt.Fprintf(u.stderr, "silo: sent %s (%s in %d parts", path, humanize.IBytes(uint64(st.Size)), len(st.Parts))
	if u.resumedParts > 0 {
		fmt.Fprintf(u.stderr, ", %d of them by an earlier run", u.resumedParts)
	}
	fmt.Fprintf(u.stderr, ") in %s at %s/s: %s", took.Round(time.Millisecond), humanize.IBytes(uint64(rate)), up.ID)
	if up.File != nil {
		fmt.Fprintf(u.stderr, ", %s", up.File.ID)
	}
	fmt.Fprintln(u.stderr)
}
