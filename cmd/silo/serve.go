package main

import "github.com/spf13/cobra"

// serveCommand is `silo serve`.
func serveCommand(e *env) *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "Run the server"}
}
