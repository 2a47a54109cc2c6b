package main

import (
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
)

// uploadsCommand is `silo uploads create|complete|cancel`.
func uploadsCommand(c *clientConfig) *cobra.Command {
	return groupCommand("uploads", "Create, complete and cancel Uploads (the official CLI's grammar)",
		uploadsCreateCommand(c), uploadsCompleteCommand(c), uploadsCancelCommand(c))
}

// uploadPartsCommand is `silo uploads:parts create`.
func uploadPartsCommand(c *clientConfig) *cobra.Command {
	return groupCommand("uploads:parts", "Add parts to an Upload", uploadPartsCreateCommand(c))
}

func uploadsCreateCommand(c *clientConfig) *cobra.Command {
	var req silo.UploadCreate
	var bytes string
	var exp expiresAfterFlags
	cmd := &cobra.Command{
		Use:   "create --bytes N --filename F --mime-type M --purpose P",
		Short: "Create a pending Upload to which parts can be added",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("bytes", bytes, "filename", req.Filename, "mime-type", req.MimeType, "purpose", req.Purpose); err != nil {
				return err
			}
			n, err := parseSize(bytes)
			if err != nil {
				return usagef("invalid --bytes: %v", err)
			}
			req.Bytes = n
			req.ExpiresAfter = exp.value(cmd)
			cl, err := c.client()
			if err != nil {
				return err
			}
			u, err := cl.CreateUpload(cmd.Context(), &req)
			if err != nil {
				return c.fail(err)
			}
			return c.print("uploads create", shttp.NewUploadJSON(u, time.Now()))
		},
	}
	f := cmd.Flags()
	f.StringVar(&bytes, "bytes", "", "number of bytes of the file to upload")
	f.StringVar(&req.Filename, "filename", "", "name of the file")
	f.StringVar(&req.MimeType, "mime-type", "", "MIME type of the file")
	f.StringVar(&req.Purpose, "purpose", "", "purpose: "+purposeList())
	exp.add(cmd)
	return cmd
}

func uploadsCompleteCommand(c *clientConfig) *cobra.Command {
	var id, md5 string
	var partIDs []string
	cmd := &cobra.Command{
		Use:   "complete [UPLOAD_ID] --upload-id ID --part-id P1 --part-id P2 ...",
		Short: "Complete an Upload with its parts, in the order given",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := idArg(args, "upload-id", &id); err != nil {
				return err
			}
			if len(partIDs) == 0 {
				return usagef("missing required flag --part-id")
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			u, err := cl.CompleteUpload(cmd.Context(), id, partIDs, md5)
			if err != nil {
				return c.fail(err)
			}
			return c.print("uploads complete", shttp.NewUploadJSON(u, time.Now()))
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "upload-id", "", "id of the Upload")
	f.StringArrayVar(&partIDs, "part-id", nil, "id of a part; repeat in the order of the file")
	f.StringVar(&md5, "md5", "", "MD5 digest of the whole file, 32 hex digits, checked by the server")
	return cmd
}

func uploadsCancelCommand(c *clientConfig) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "cancel [UPLOAD_ID] --upload-id ID",
		Short: "Cancel a pending Upload",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := idArg(args, "upload-id", &id); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			u, err := cl.CancelUpload(cmd.Context(), id)
			if err != nil {
				return c.fail(err)
			}
			return c.print("uploads cancel", shttp.NewUploadJSON(u, time.Now()))
		},
	}
	cmd.Flags().StringVar(&id, "upload-id", "", "id of the Upload")
	return cmd
}

func uploadPartsCreateCommand(c *clientConfig) *cobra.Command {
	var id, data string
	cmd := &cobra.Command{
		Use:   "create [UPLOAD_ID] --upload-id ID --data PATH",
		Short: "Add a part (at most 64 MiB) to an Upload; --data - reads stdin",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := idArg(args, "upload-id", &id); err != nil {
				return err
			}
			if err := required("data", data); err != nil {
				return err
			}
			r, closeFn, err := c.openInput(data)
			if err != nil {
				return err
			}
			defer closeFn()
			cl, err := c.client()
			if err != nil {
				return err
			}
			p, err := cl.AddPart(cmd.Context(), id, r)
			if err != nil {
				return c.fail(err)
			}
			return c.print("uploads:parts create", shttp.NewPartJSON(p))
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "upload-id", "", "id of the Upload")
	f.StringVar(&data, "data", "", "file holding the part's bytes, or - for stdin")
	return cmd
}

// openInput opens the file at path for reading, or stdin for "-". A file is
// returned as a section reader so that its size is known before sending.
func (c *clientConfig) openInput(path string) (io.Reader, func() error, error) {
	if path == "-" {
		return c.e.stdin, func() error { return nil }, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return io.NewSectionReader(f, 0, fi.Size()), f.Close, nil
}
