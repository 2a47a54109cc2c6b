package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	shttp "github.com/silo-dev/silo/http"
)

// keysCommand is `silo keys`, the tools for API keys files.
func keysCommand(e *env) *cobra.Command {
	return groupCommand("keys", "Tools for API keys files", keysHashCommand(e))
}

// keysHashCommand is `silo keys hash`: the keys-file line of a key read from
// stdin, which holds the key's SHA-256 instead of the key.
func keysHashCommand(e *env) *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "hash [--project P] < KEY",
		Short: "Print the line of an API keys file that holds the SHA-256 of the key read from stdin, not the key",
		Long: `Read an API key from stdin (a terminal does not echo it) and print the line of
an --api-keys-file that admits it without holding it: sha256:<64 hex>[=project].
Such a file is no secret, as long as the keys are random rather than passwords.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := readKey(e)
			if err != nil {
				return err
			}
			line := shttp.HashKey(key)
			if project != "" {
				line += "=" + project
			}
			_, err = fmt.Fprintln(e.stdout, line)
			return err
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "project of the key (default: the project \"default\")")
	return cmd
}

// readKey reads one key from stdin: a line, or what a terminal types without echo.
func readKey(e *env) (string, error) {
	var line string
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "API key: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		line = string(b)
	} else {
		s, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", err
		}
		line = s
	}
	key := strings.TrimSpace(line)
	if key == "" {
		return "", usagef("no key on stdin: give it as the first line (silo keys hash < keyfile)")
	}
	return key, nil
}
