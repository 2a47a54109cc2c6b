package main

import "github.com/spf13/cobra"

// addClientCommands adds the client commands (uploads, uploads:parts, files,
// upload) to root.
func addClientCommands(root *cobra.Command, e *env) {}
