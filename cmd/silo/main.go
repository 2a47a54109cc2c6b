// Command silo is the Silo server (silo serve) and a command-line client whose
// commands mirror the official openai CLI's upload and file commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// env is what every command gets from run: its streams and environment.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the testable main: it runs the command line args with the given
// environment and streams, and returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "silo",
		Short:         "Silo: a self-hosted OpenAI Uploads and Files API server, and its client",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	// Without these, cobra treats an unknown command as a failure (exit 1) and
	// no command as a request for help (exit 0); both are usage errors.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, args []string) error {
		return usageError{errors.New("missing command")}
	}
	root.Version = version.Get().String()
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(serveCommand(e), versionCommand(e), keysCommand(e), healthcheckCommand(e))
	addClientCommands(root, e)
	cmd, err := root.ExecuteContextC(ctx)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Error: %v\n\n%s", err, cmd.UsageString())
		return usageError{err}
	}
	if err != nil && !errors.As(err, new(exitError)) {
		fmt.Fprintf(stderr, "Error: %v\n", err)
	}
	return err
}

// unknownCommand is the usage error for a command name that c does not have,
// with the nearest of its commands when one is near, as the official CLI
// suggests: Did you mean 'silo files list'?
func unknownCommand(c *cobra.Command, name string) error {
	err := fmt.Errorf("unknown command %q for %q", name, c.CommandPath())
	// The nearest first: one edit away, else two.
	for d := 1; d <= 2; d++ {
		c.SuggestionsMinimumDistance = d
		if s := c.SuggestionsFor(name); len(s) > 0 {
			return usageError{fmt.Errorf("%w. Did you mean '%s %s'?", err, c.CommandPath(), s[0])}
		}
	}
	return usageError{err}
}

// usageError is a command line the program does not understand: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// exitError ends the program with a status after the command has already said
// what went wrong (an API error: status 1).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ee):
		return ee.code
	default:
		return 1
	}
}
