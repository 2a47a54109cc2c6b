package s3

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// multipart is one multipart upload of a Put: its goroutine sends the
// buffers it receives on jobs as parts, in order, and hands each buffer back
// on free once sent.
type multipart struct {
	s      *Store
	key    string
	id     *string
	ctx    context.Context // ends when the Put's does, or when a part fails
	cancel context.CancelFunc
	jobs   chan []byte
	free   chan []byte // room for both buffers, so that run never blocks on it
	done   chan struct{}

	// Written by run, read once done is closed.
	parts []types.CompletedPart
	err   error
}

// run uploads every buffer received until jobs is closed. After the first
// failure it uploads nothing more, and cancels ctx so that the Put stops
// reading.
func (m *multipart) run() {
	defer close(m.done)
	for buf := range m.jobs {
		if m.err == nil {
			m.err = m.upload(buf)
			if m.err != nil {
				m.cancel()
			}
		}
		m.free <- buf
	}
}

// upload sends buf as the next part.
func (m *multipart) upload(buf []byte) error {
	num := int32(len(m.parts) + 1)
	if num > maxParts {
		return fmt.Errorf("blob larger than %d parts of %d bytes", maxParts, m.s.opts.PartSize)
	}
	out, err := m.s.client.UploadPart(m.ctx, &s3.UploadPartInput{
		Bucket:            aws.String(m.s.bucket),
		Key:               aws.String(m.s.objectKey(m.key)),
		UploadId:          m.id,
		PartNumber:        aws.Int32(num),
		Body:              bytes.NewReader(buf),
		ContentLength:     aws.Int64(int64(len(buf))),
		ContentMD5:        m.s.contentMD5(buf),
		ChecksumAlgorithm: m.s.checksumAlgorithm(),
	}, unsignedPayload)
	if err != nil {
		return err
	}
	m.parts = append(m.parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	return nil
}

// complete makes the object of the parts sent.
func (m *multipart) complete() error {
	_, err := m.s.client.CompleteMultipartUpload(m.ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(m.s.bucket),
		Key:             aws.String(m.s.objectKey(m.key)),
		UploadId:        m.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: m.parts},
	})
	return err
}

// abort drops the upload and the parts sent, even when the Put's context has
// ended. Should the abort fail too, the parts stay invisible (no object is
// made of them) until a lifecycle rule on the bucket removes them.
func (m *multipart) abort() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), cleanupTimeout)
	defer cancel()
	m.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(m.s.bucket),
		Key:      aws.String(m.s.objectKey(m.key)),
		UploadId: m.id,
	})
}

// AbortUnfinished aborts the multipart uploads under the store's prefix that
// began before startedBefore, and returns how many it aborted. They are what
// Puts leave when their process dies midway: invisible to Open and List, yet
// stored (and paid for) until aborted. Give startedBefore a margin longer
// than any Put takes, since other processes sharing the bucket may be
// uploading right now. EUNAVAILABLE.
func (s *Store) AbortUnfinished(ctx context.Context, keyPrefixes []string, startedBefore time.Time) (int, error) {
	// The whole bucket is listed and the prefix applied here: MinIO lists
	// the uploads of one exact key for a prefix, not those under it.
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)}
	aborted := 0
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, translate(ctx, "list uploads", s.prefix, err)
		}
		for _, u := range out.Uploads {
			if !underAny(aws.ToString(u.Key), s.prefix, keyPrefixes) || u.Initiated == nil || !u.Initiated.Before(startedBefore) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId,
			})
			if err != nil && !isStatus(err, http.StatusNotFound) {
				return aborted, translate(ctx, "abort", aws.ToString(u.Key), err)
			}
			aborted++
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// underAny reports whether the object key is the store's prefix followed by
// one of keyPrefixes.
func underAny(key, prefix string, keyPrefixes []string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return false
	}
	for _, p := range keyPrefixes {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}
