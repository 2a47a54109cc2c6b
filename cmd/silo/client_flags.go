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

// sizeFlag is a flag of a size written as parseSize takes it.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err == nil {
		*f.n = n
	}
	return err
}

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	n, unit := *f.n, 0
	for n != 0 && n%1024 == 0 && unit < 4 {
		n, unit = n/1024, unit+1
	}
	return fmt.Sprintf("%d%s", n, []string{"", "KiB", "MiB", "GiB", "TiB"}[unit])
}

func (f sizeFlag) Type() string { return "size" }

func purposeList() string { return strings.Join(silo.Purposes(), ", ") }
