package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo/internal/version"
)

// versionCommand is `silo version`, the same as `silo --version`.
func versionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and build time of this silo",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(e.stdout, version.Get())
			return err
		},
	}
}
