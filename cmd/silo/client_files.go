package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/internal/atomicfile"
)

// filesCommand is `silo files create|retrieve|delete|list|content`.
func filesCommand(c *clientConfig) *cobra.Command {
	return groupCommand("files", "Create, list, read and delete Files (the official CLI's grammar)",
		filesCreateCommand(c), filesRetrieveCommand(c), filesDeleteCommand(c),
		filesListCommand(c), filesContentCommand(c))
}

func filesCreateCommand(c *clientConfig) *cobra.Command {
	var path, purpose string
	var exp expiresAfterFlags
	cmd := &cobra.Command{
		Use:   "create --file PATH --purpose P",
		Short: "Upload a file of at most 512 MiB in one request; --file - reads stdin",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("file", path, "purpose", purpose); err != nil {
				return err
			}
			path = strings.TrimPrefix(path, "@") // the official CLI's @file form
			r, closeFn, err := c.openInput(path)
			if err != nil {
				return err
			}
			defer closeFn()
			name := filepath.Base(path)
			if path == "-" {
				name = "stdin"
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			req := &silo.FileCreate{Filename: name, Purpose: purpose, ExpiresAfter: exp.value(cmd), Data: r}
			f, err := cl.CreateFile(cmd.Context(), req)
			if err != nil {
				return c.fail(err)
			}
			return c.print("files create", shttp.NewFileJSON(f))
		},
	}
	cmd.Flags().StringVar(&path, "file", "", "file to upload, or - for stdin")
	cmd.Flags().StringVar(&purpose, "purpose", "", "purpose: "+purposeList())
	exp.add(cmd)
	return cmd
}

func filesRetrieveCommand(c *clientConfig) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "retrieve [FILE_ID] --file-id ID",
		Short: "Show a File",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := idArg(args, "file-id", &id); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			f, err := cl.GetFile(cmd.Context(), id)
			if err != nil {
				return c.fail(err)
			}
			return c.print("files retrieve", shttp.NewFileJSON(f))
		},
	}
	cmd.Flags().StringVar(&id, "file-id", "", "id of the File")
	return cmd
}

func filesDeleteCommand(c *clientConfig) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "delete [FILE_ID] --file-id ID",
		Short: "Delete a File",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := idArg(args, "file-id", &id); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteFile(cmd.Context(), id); err != nil {
				return c.fail(err)
			}
			return c.print("files delete", shttp.NewFileDeletedJSON(id))
		},
	}
	cmd.Flags().StringVar(&id, "file-id", "", "id of the File")
	return cmd
}

// maxListPages bounds the pages files list asks for, so that a server whose
// cursor never ends cannot keep the command running forever.
const maxListPages = 1 << 20

func filesListCommand(c *clientConfig) *cobra.Command {
	var q silo.FileQuery
	var maxItems int
	cmd := &cobra.Command{
		Use:   "list [--purpose P] [--limit N] [--order asc|desc] [--after ID]",
		Short: "List Files, one object after the other, paging through all of them",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			shown := 0
			for page := 0; page < maxListPages; page++ {
				l, err := cl.ListFiles(cmd.Context(), q)
				if err != nil {
					return c.fail(err)
				}
				for _, f := range l.Files {
					if maxItems >= 0 && shown >= maxItems {
						return nil
					}
					if err := c.print("files list", shttp.NewFileJSON(f)); err != nil {
						return err
					}
					shown++
				}
				n := len(l.Files)
				if !l.HasMore || n == 0 || l.Files[n-1].ID == q.After {
					return nil
				}
				q.After = l.Files[n-1].ID
			}
			return fmt.Errorf("files list: stopped after %d pages", maxListPages)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Purpose, "purpose", "", "only files of this purpose")
	f.IntVar(&q.Limit, "limit", 0, "page size, 1 to 10000 (default 10000)")
	f.StringVar(&q.Order, "order", "", "asc or desc by created_at (default desc)")
	f.StringVar(&q.After, "after", "", "start after this file id")
	f.IntVar(&maxItems, "max-items", -1, "stop after this many files (-1: all)")
	return cmd
}

func filesContentCommand(c *clientConfig) *cobra.Command {
	var id, output string
	cmd := &cobra.Command{
		Use:   "content [FILE_ID] --file-id ID [--output PATH|-]",
		Short: "Write a File's bytes to PATH, or to stdout",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := idArg(args, "file-id", &id); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			_, rc, err := cl.OpenFile(cmd.Context(), id, 0, -1)
			if err != nil {
				return c.fail(err)
			}
			defer rc.Close()
			if output == "" || output == "-" {
				_, err := io.Copy(c.e.stdout, rc)
				return err
			}
			// Through a temporary file renamed into place: an interrupted
			// download leaves no partial file under that name.
			if err := atomicfile.Write(output, rc, 0o644, false); err != nil {
				return err
			}
			fmt.Fprintf(c.e.stderr, "Wrote output to: %s\n", output)
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "file-id", "", "id of the File")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write, or - for stdout (default stdout)")
	return cmd
}
