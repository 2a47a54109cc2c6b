package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/silo-dev/silo"
)

// status returns the HTTP status of the endpoint's answer to the request
// that failed with err, or 0 if no answer came.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isStatus reports whether err is the endpoint's answer with HTTP status code.
func isStatus(err error, code int) bool { return status(err) == code }

// answered reports whether the endpoint answered the request that failed with
// err, so that the request's effect, if any, is known: an error answer made
// nothing.
func answered(err error) bool { return status(err) != 0 }

// notFound reports whether err says the object does not exist.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || isStatus(err, http.StatusNotFound) && !noBucket(err)
}

// noBucket reports whether err says the bucket does not exist.
func noBucket(err error) bool {
	var nb *types.NoSuchBucket
	return errors.As(err, &nb)
}

// translate turns the error of a request into what the caller may act on, by
// type and HTTP status, never by message: the caller's cancellation as ctx's
// error; an endpoint that cannot be reached, drops the connection or answers
// 5xx (after the SDK's retries) as EUNAVAILABLE; a full store (507) as
// ESTORAGEFULL. Anything else stays internal.
func translate(ctx context.Context, what, key string, err error) error {
	if err == nil {
		return nil
	}
	var se *silo.Error
	if errors.As(err, &se) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if code := status(err); code != 0 {
		switch {
		case code == http.StatusInsufficientStorage:
			return silo.Errorf(silo.ESTORAGEFULL, "", "The blob store is out of space; try again once space is freed.")
		case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
			return unavailable()
		}
		return fmt.Errorf("s3: %s %s: %w", what, key, err)
	}
	if connectionLost(err) {
		return unavailable()
	}
	return fmt.Errorf("s3: %s %s: %w", what, key, err)
}

// unavailable is the error of a blob store that cannot serve the call now but
// may shortly: the HTTP layer answers 503 with Retry-After, and clients retry.
func unavailable() error {
	return silo.Errorf(silo.EUNAVAILABLE, "", "The blob store is unavailable; try again shortly.")
}

// connectionLost reports whether err says no answer came: the connection
// could not be made, broke, or timed out.
func connectionLost(err error) bool {
	var rse *smithyhttp.RequestSendError
	var ne net.Error
	return errors.As(err, &rse) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
