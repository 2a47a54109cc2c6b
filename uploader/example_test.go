package uploader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
	"github.com/silo-dev/silo/uploader"
)

// Example sends 10 MB in parts of 4 MiB, four at a time, with their MD5
// checked by the server, to a Silo server with an in-memory store. A program
// would open a file instead (an *os.File is an io.ReaderAt) and give the
// client the server's base URL and its API key.
func Example() {
	svc := service.New(inmem.NewMetaStore(), inmem.NewBlobStore(), service.Config{})
	defer svc.Close()
	srv := httptest.NewServer(shttp.NewHandler(shttp.Config{
		Uploads: svc, Files: svc, Auth: shttp.NewKeyring(map[string]string{"sk-example": "p1"}),
	}))
	defer srv.Close()

	client := shttp.NewClient(srv.URL+"/v1", "sk-example", nil)
	up := uploader.New(client, uploader.Options{
		PartSize: 4 << 20,
		Parallel: 4,
		MD5:      true,
		// StateDir: a directory kept between runs, to resume an interrupted upload.
	})
	data := bytes.Repeat([]byte("0123456789"), 1_000_000)
	res, err := up.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), uploader.Request{
		Filename: "train.jsonl", Purpose: "fine-tune", MimeType: "application/jsonl",
	})
	var apiErr *silo.Error
	switch {
	case errors.As(err, &apiErr):
		fmt.Println("the server refused:", apiErr.Code, apiErr.Message)
		return
	case err != nil:
		fmt.Println("upload failed:", err)
		return
	}
	fmt.Printf("%s: %d bytes in %d parts, md5 %s checked\n", res.Upload.Status, res.Upload.File.Bytes, res.Parts, res.MD5)
	// Output:
	// completed: 10000000 bytes in 3 parts, md5 7233cd2eaf78da883a54bc81513f021f checked
}
