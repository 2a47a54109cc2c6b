package main

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
)

// expiresAfterFlags are --expires-after.anchor and --expires-after.seconds,
// the official CLI's spelling of the expires_after object.
type expiresAfterFlags struct {
	anchor  string
	seconds int64
}

func (x *expiresAfterFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&x.anchor, "expires-after.anchor", "created_at", "anchor of the expiry of the File")
	cmd.Flags().Int64Var(&x.seconds, "expires-after.seconds", 0, "seconds after the anchor when the File expires (3600 to 2592000)")
}

// value returns the expires_after object, or nil when neither flag was given.
func (x *expiresAfterFlags) value(cmd *cobra.Command) *silo.ExpiresAfter {
	f := cmd.Flags()
	if !f.Changed("expires-after.seconds") && !f.Changed("expires-after.anchor") {
		return nil
	}
	return &silo.ExpiresAfter{Anchor: x.anchor, Seconds: x.seconds}
}

// parseSize parses a size such as 1048576, 64MiB or 8MB.
func parseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (such as 1048576, 64MiB or 8MB)", s)
	}
	if n > 1<<62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(n), nil
}

func purposeList() string { return strings.Join(silo.Purposes, ", ") }
