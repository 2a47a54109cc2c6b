package uploader

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
)

func TestRetryable(t *testing.T) {
	answer := func(status int, shouldRetry string, err error) error {
		return &shttp.ResponseError{StatusCode: status, ShouldRetry: shouldRetry, Err: err}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"network failure", errors.New("connection reset"), true},
		{"connection refused", &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1/uploads", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, true},
		{"connection reset", &url.Error{Op: "Post", URL: "u", Err: syscall.ECONNRESET}, true},
		{"answer cut short", &url.Error{Op: "Post", URL: "u", Err: io.ErrUnexpectedEOF}, true},
		{"cancelled", &url.Error{Op: "Post", URL: "u", Err: context.Canceled}, false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"untrusted certificate", &url.Error{Op: "Post", URL: "u", Err: x509.UnknownAuthorityError{}}, false},
		{"service: unavailable", &silo.Error{Code: silo.EUNAVAILABLE}, true},
		{"service: expired", &silo.Error{Code: silo.EUPLOADEXPIRED}, false},
		{"service: storage full", &silo.Error{Code: silo.ESTORAGEFULL}, false},
		{"503", answer(503, "", &silo.Error{Code: silo.EUNAVAILABLE}), true},
		{"500 marked final", answer(500, "false", &silo.Error{Code: silo.EINTERNAL}), false},
		{"507 marked final", answer(507, "false", &silo.Error{Code: silo.ESTORAGEFULL}), false},
		{"429", answer(429, "", &silo.Error{Code: "rate_limit_exceeded"}), true},
		{"400", answer(400, "", &silo.Error{Code: silo.EUPLOADEXPIRED}), false},
		{"a proxy's 413 page", answer(413, "", errors.New("unexpected answer")), false},
		{"a proxy's 502 page", answer(502, "", errors.New("unexpected answer")), true},
		{"400 the server says to retry", answer(400, "true", &silo.Error{Code: silo.EINVALID}), true},
		{"permanent", permanent{errors.New("file changed")}, false},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("%s: retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMD5Window(t *testing.T) {
	for _, tc := range []struct {
		parallel int
		partSize int64
		want     int
	}{
		{4, 64 << 20, 4}, {16, 64 << 20, 4}, {16, 8 << 20, 16}, {64, 1 << 20, 64}, {1, 64 << 20, 1}, {8, 1 << 30, 2},
	} {
		if got := md5Window(tc.parallel, tc.partSize); got != tc.want {
			t.Errorf("md5Window(%d, %d) = %d, want %d", tc.parallel, tc.partSize, got, tc.want)
		}
	}
}
