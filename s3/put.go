package s3

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// bufferPool keeps Put buffers of one size for reuse, so that a busy server
// does not make the garbage collector sweep 8 MiB per part it receives.
type bufferPool struct {
	size int
	pool sync.Pool
}

func newBufferPool(size int) *bufferPool {
	p := &bufferPool{size: size}
	p.pool.New = func() any { b := make([]byte, size); return &b }
	return p
}

func (p *bufferPool) get() *[]byte  { return p.pool.Get().(*[]byte) }
func (p *bufferPool) put(b *[]byte) { p.pool.Put(b) }

// cleanupTimeout bounds the requests that undo a failed Put, which run even
// when the Put's context has ended.
const cleanupTimeout = 30 * time.Second

// Put stores the bytes read from r under key and returns how many there were.
// A blob that fits one buffer is one PutObject; a larger one is a multipart
// upload, its parts sent as the buffers fill. When reading r fails, Put
// returns r's error as it is; when ctx ends, ctx's error; either way the
// multipart upload is aborted and nothing is stored under key. EINVALID,
// EUNAVAILABLE, ESTORAGEFULL.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := s.checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	first := s.bufs.get()
	defer s.bufs.put(first)
	n, eof, err := fill(r, *first)
	if err != nil {
		return 0, err
	}
	if eof {
		return s.putObject(ctx, key, (*first)[:n])
	}
	// The first buffer is full: only one more byte tells a blob of exactly
	// one buffer from a larger one.
	second := s.bufs.get()
	defer s.bufs.put(second)
	m, eof, err := fillSome(r, *second)
	if err != nil {
		return 0, err
	}
	if eof && m == 0 {
		return s.putObject(ctx, key, *first)
	}
	return s.putMultipart(ctx, key, r, *first, (*second)[:m], eof)
}

// fillSome reads from r into buf until it has at least one byte or r ends,
// with fill's errors.
func fillSome(r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n == 0 {
		m, err := r.Read(buf)
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return 0, false, err
		}
	}
	return n, false, nil
}

// fill reads from r until buf is full or r ends (eof). It returns r's error
// other than io.EOF as it is, dropping whatever came with it.
func fill(r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return 0, false, err
		}
	}
	return n, false, nil
}

// putObject stores data under key in one request.
func (s *Store) putObject(ctx context.Context, key string, data []byte) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(s.objectKey(key)),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		ContentMD5:        s.contentMD5(data),
		ChecksumAlgorithm: s.checksumAlgorithm(),
	}, unsignedPayload)
	if err != nil {
		if !answered(err) {
			// Cut off before the answer, the object may have been made.
			s.deleteQuietly(ctx, key)
		}
		return 0, translate(ctx, "put", key, err)
	}
	return int64(len(data)), nil
}

// deleteQuietly removes key after a Put failed in a way that may have
// stored it anyway; any object left there is an orphan the sweep removes.
func (s *Store) deleteQuietly(ctx context.Context, key string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	s.client.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
}

// putMultipart stores first, then second (a buffer begun, of full capacity),
// then the rest of r (unless eof) as a multipart upload. One goroutine
// uploads a full buffer while this one fills the other: the client's bytes
// keep flowing in while the last part flows out, and no more than the two
// buffers are held.
func (s *Store) putMultipart(ctx context.Context, key string, r io.Reader, first, second []byte, eof bool) (int64, error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(s.objectKey(key)),
		ChecksumAlgorithm: s.checksumAlgorithm(),
	})
	if err != nil {
		return 0, translate(ctx, "put", key, err)
	}
	up := &multipart{s: s, key: key, id: created.UploadId, jobs: make(chan []byte), free: make(chan []byte, 2), done: make(chan struct{})}
	up.ctx, up.cancel = context.WithCancel(ctx)
	defer up.cancel()
	go up.run()

	total := int64(len(first))
	up.jobs <- first
	cur := second
	var rerr error
	for !eof && up.ctx.Err() == nil {
		var n int
		n, eof, rerr = fill(r, cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		if rerr != nil || eof || up.ctx.Err() != nil {
			break
		}
		up.jobs <- cur // waits for the previous part to be sent
		total += int64(len(cur))
		cur = (<-up.free)[:0]
	}
	if rerr == nil && up.ctx.Err() == nil && len(cur) > 0 {
		up.jobs <- cur
		total += int64(len(cur))
	}
	close(up.jobs)
	<-up.done

	switch {
	case rerr != nil:
		up.abort()
		return 0, rerr
	case ctx.Err() != nil:
		up.abort()
		return 0, ctx.Err()
	case up.err != nil:
		up.abort()
		return 0, translate(ctx, "put", key, up.err)
	}
	if err := up.complete(); err != nil {
		up.abort()
		if !answered(err) {
			s.deleteQuietly(ctx, key)
		}
		return 0, translate(ctx, "put", key, err)
	}
	return total, nil
}
