package s3

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/silo-dev/silo"
)

// Open returns a reader of length bytes of the blob from offset (length below
// 0: to the end), streamed from one ranged GET; reading stops at the end of
// the blob, so an offset at or past it reads nothing. The reader reads under
// ctx. EINVALID, ENOTFOUND, EUNAVAILABLE.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := s.checkKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, silo.Errorf(silo.EINVALID, "", "Invalid blob offset %d: expected 0 or more.", offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if length == 0 {
		// No range reads nothing; the blob must still exist.
		_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
		if err != nil {
			return nil, s.openErr(ctx, key, err)
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))}
	if offset > 0 || length > 0 {
		r := "bytes=" + strconv.FormatInt(offset, 10) + "-"
		if length > 0 {
			r += strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = aws.String(r)
	}
	out, err := s.client.GetObject(ctx, in)
	if isStatus(err, http.StatusRequestedRangeNotSatisfiable) {
		// The range starts at or past the end (or the blob is empty): S3
		// answers 416 only for a blob that exists.
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, s.openErr(ctx, key, err)
	}
	return out.Body, nil
}

// openErr translates the error of reading key.
func (s *Store) openErr(ctx context.Context, key string, err error) error {
	if notFound(err) {
		return silo.Errorf(silo.ENOTFOUND, "", "No blob stored under key %q.", key)
	}
	return translate(ctx, "open", key, err)
}

// Delete removes the blob; deleting a missing key is not an error (S3's
// DeleteObject succeeds on one). EINVALID, EUNAVAILABLE.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil && !notFound(err) {
		return translate(ctx, "delete", key, err)
	}
	return nil
}

// List calls fn for every blob under the store's prefix, with the time S3
// gives as its last modification: for a blob stored by a multipart upload,
// the time the upload began. Objects whose names are not blob keys (not
// written by a Store) are left out. EUNAVAILABLE.
func (s *Store) List(ctx context.Context, fn func(key string, stored time.Time) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return translate(ctx, "list", s.prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || s.checkKey(key) != nil {
				continue
			}
			if err := fn(key, aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}
