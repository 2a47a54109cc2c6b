package http

import (
	"context"
	"io"
	"net/http"

	"github.com/silo-dev/silo"
)

// expiresAfterWire is expires_after as the client sends it.
type expiresAfterWire struct {
	Anchor  string `json:"anchor"`
	Seconds int64  `json:"seconds"`
}

// CreateUpload creates a pending Upload.
func (c *Client) CreateUpload(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
	body := struct {
		Filename     string            `json:"filename"`
		Purpose      string            `json:"purpose"`
		Bytes        int64             `json:"bytes"`
		MimeType     string            `json:"mime_type"`
		ExpiresAfter *expiresAfterWire `json:"expires_after,omitempty"`
	}{Filename: r.Filename, Purpose: r.Purpose, Bytes: r.Bytes, MimeType: r.MimeType}
	if e := r.ExpiresAfter; e != nil {
		body.ExpiresAfter = &expiresAfterWire{Anchor: e.Anchor, Seconds: e.Seconds}
	}
	var u UploadJSON
	if err := c.postJSON(ctx, "/uploads", body, &u); err != nil {
		return nil, err
	}
	return u.Upload(), nil
}

// AddPart sends the bytes of data as one part, streamed: data is read as the
// request goes out, never held in memory. When data's size is known (see
// sizeOf) the request has an exact Content-Length instead of being chunked.
// The returned Part has no Size; the wire does not carry it.
func (c *Client) AddPart(ctx context.Context, uploadID string, data io.Reader) (*silo.Part, error) {
	body, err := newMultipartBody(nil, "data", fileName(data, "data"), data)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, idPath("/uploads", uploadID, "/parts"), body.r)
	if err != nil {
		return nil, err
	}
	body.prepare(req)
	var p PartJSON
	if err := c.do(req, &p); err != nil {
		return nil, err
	}
	return p.Part(), nil
}

// CompleteUpload completes the Upload with the parts in order, checking md5
// when it is not empty.
func (c *Client) CompleteUpload(ctx context.Context, uploadID string, partIDs []string, md5 string) (*silo.Upload, error) {
	if partIDs == nil {
		// No parts is [] on the wire; null would read as a missing field.
		partIDs = []string{}
	}
	body := struct {
		PartIDs []string `json:"part_ids"`
		MD5     string   `json:"md5,omitempty"`
	}{partIDs, md5}
	var u UploadJSON
	if err := c.postJSON(ctx, idPath("/uploads", uploadID, "/complete"), body, &u); err != nil {
		return nil, err
	}
	return u.Upload(), nil
}

// CancelUpload cancels the Upload.
func (c *Client) CancelUpload(ctx context.Context, uploadID string) (*silo.Upload, error) {
	req, err := c.newRequest(ctx, http.MethodPost, idPath("/uploads", uploadID, "/cancel"), nil)
	if err != nil {
		return nil, err
	}
	var u UploadJSON
	if err := c.do(req, &u); err != nil {
		return nil, err
	}
	return u.Upload(), nil
}
