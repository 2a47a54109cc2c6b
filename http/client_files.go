package http

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/silo-dev/silo"
)

// CreateFile sends a file of at most silo.MaxFileBytes in one request, the
// fields first and the data streamed after them. req.Rest is the server's
// business and is not called.
func (c *Client) CreateFile(ctx context.Context, r *silo.FileCreate) (*silo.File, error) {
	fields := [][2]string{{"purpose", r.Purpose}}
	if e := r.ExpiresAfter; e != nil {
		fields = append(fields,
			[2]string{"expires_after[anchor]", e.Anchor},
			[2]string{"expires_after[seconds]", strconv.FormatInt(e.Seconds, 10)})
	}
	data := r.Data
	if data == nil {
		data = strings.NewReader("")
	}
	body, err := newMultipartBody(fields, "file", r.Filename, data)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/files", body.r)
	if err != nil {
		return nil, err
	}
	body.prepare(req)
	var f FileJSON
	if err := c.do(req, &f); err != nil {
		return nil, err
	}
	return f.File(), nil
}

// GetFile returns the File.
func (c *Client) GetFile(ctx context.Context, id string) (*silo.File, error) {
	var f FileJSON
	if err := c.get(ctx, idPath("/files", id, ""), &f); err != nil {
		return nil, err
	}
	return f.File(), nil
}

// ListFiles returns one page of files; zero fields of q are left to the
// server's defaults.
func (c *Client) ListFiles(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
	v := url.Values{}
	if q.Purpose != "" {
		v.Set("purpose", q.Purpose)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Order != "" {
		v.Set("order", q.Order)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	path := "/files"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var l FileListJSON
	if err := c.get(ctx, path, &l); err != nil {
		return nil, err
	}
	return l.FileList(), nil
}

// DeleteFile deletes the File.
func (c *Client) DeleteFile(ctx context.Context, id string) error {
	req, err := c.newRequest(ctx, http.MethodDelete, idPath("/files", id, ""), nil)
	if err != nil {
		return err
	}
	var d FileDeletedJSON
	if err := c.do(req, &d); err != nil {
		return err
	}
	if !d.Deleted {
		return fmt.Errorf("silo: DELETE file %s: the server answered deleted: false", id)
	}
	return nil
}

// OpenFile returns the File and a reader of length of its bytes from offset
// (length below 0: to the end). It asks for the File first, since the content
// answer carries no metadata, then for the bytes with a Range header. A server
// that ignores Range gets its answer skipped and cut to the range.
func (c *Client) OpenFile(ctx context.Context, id string, offset, length int64) (*silo.File, io.ReadCloser, error) {
	f, err := c.GetFile(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if offset < 0 || offset > f.Bytes {
		return nil, nil, silo.Errorf(silo.ERANGE, "", "Offset %d is outside file %s of %d bytes.", offset, id, f.Bytes)
	}
	if length < 0 || length > f.Bytes-offset {
		length = f.Bytes - offset
	}
	if length == 0 {
		// No Range can ask for nothing; there is nothing to fetch.
		return f, io.NopCloser(strings.NewReader("")), nil
	}
	req, err := c.newRequest(ctx, http.MethodGet, idPath("/files", id, "/content"), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/binary")
	ranged := offset > 0 || length < f.Bytes
	if ranged {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent:
		want := fmt.Sprintf("bytes %d-%d/", offset, offset+length-1)
		if got := resp.Header.Get("Content-Range"); !strings.HasPrefix(got, want) {
			resp.Body.Close()
			return nil, nil, fmt.Errorf("silo: GET file %s content: asked for %s…, got Content-Range %q", id, want, got)
		}
	case ranged:
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, nil, fmt.Errorf("silo: GET file %s content: %w", id, err)
		}
	}
	return f, readCloser{io.LimitReader(resp.Body, length), resp.Body}, nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
