package http

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/silo-dev/silo"
)

// Observer hears about every request, for metrics. Its methods are called
// from many goroutines and must be quick.
type Observer interface {
	// RequestStarted is called as a request arrives; RequestDone follows.
	RequestStarted()
	// RequestDone is called once a request is answered.
	RequestDone(RequestInfo)
	// Refused counts a request refused for reason: one of the Refused*
	// constants. The handler calls it for every answer whose error code
	// refusalReason maps; code that refuses without such an answer (a
	// stalled body cut off) calls it itself.
	Refused(reason string)
}

// RequestInfo describes an answered request with bounded values only, fit
// for metric labels.
type RequestInfo struct {
	// Route is the pattern of routes.go that matched ("/v1/files/{file_id}"),
	// never the raw path; "other" if none did.
	Route string
	// Method is the request's method if it is a standard one, else "OTHER".
	Method string
	// Status is the status answered; StatusClientClosed when the client went
	// away and the answer was an error (which it never saw).
	Status   int
	BytesIn  int64
	BytesOut int64
	Duration time.Duration
}

// StatusClientClosed is the status logged and counted for a request whose
// client hung up before it was answered (nginx's 499): not a server error.
const StatusClientClosed = 499

// Reasons a request is refused, for Observer.Refused.
const (
	RefusedAuth      = "auth"
	RefusedQuota     = "quota"
	RefusedFreeSpace = "free_space"
	RefusedStall     = "stall"
	RefusedTooLarge  = "too_large"
)

// refusalReason maps the error code answered to a refusal reason, or "".
// This is the one place refusals are derived from codes.
func refusalReason(code string) string {
	switch code {
	case silo.EUNAUTHORIZED:
		return RefusedAuth
	case silo.EQUOTA:
		return RefusedQuota
	case codeStalled:
		return RefusedStall
	case silo.ESTORAGEFULL:
		return RefusedFreeSpace
	case silo.EPARTTOOLARGE, silo.EFILETOOLARGE, silo.EUPLOADTOOLARGE:
		return RefusedTooLarge
	}
	return ""
}

// nopObserver is the Observer of a Config without one.
type nopObserver struct{}

func (nopObserver) RequestStarted()         {}
func (nopObserver) RequestDone(RequestInfo) {}
func (nopObserver) Refused(string)          {}

// reqState is what the layers of one request learn about it for its log line
// and its metrics; withLogging puts it in the context.
type reqState struct {
	project string
	code    string // the silo code of the error answered, if any
	cause   error  // the error behind an internal answer
}

type reqStateKey struct{}

// stateOf returns the reqState of ctx, or nil outside withLogging.
func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(reqStateKey{}).(*reqState)
	return st
}

// noteProject records the project of an authenticated request, for its log
// line; it wraps the handlers behind withAuth.
func noteProject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateOf(r.Context()); st != nil {
			st.project = silo.ProjectFrom(r.Context())
		}
		next.ServeHTTP(w, r)
	})
}

// routeOf returns a function giving the pattern that serves a request: of
// root, or of api for what root sends to its catch-all "/".
func routeOf(root, api *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		_, p := root.Handler(r)
		if p == "/" {
			_, p = api.Handler(r)
		}
		if p == "" {
			return "other"
		}
		return p
	}
}

// method returns m if it is a standard method, else "OTHER", so that a
// client cannot invent label values.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
