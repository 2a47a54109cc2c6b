package http

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/silo-dev/silo"
)

type requestIDKey struct{}

// RequestID returns the id the server gave the request of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives every request a random, unguessable id, sent back as
// x-request-id and put in the context for the logs: a user quoting it lets us
// find the one log line of their failure.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := silo.NewID("req_")
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// withLogging logs one line per request once it is answered, and tells obs
// about it: route pattern, status, bytes in and out, duration, client, project
// and, for an error, its code and cause, so that a 5xx line says why. A
// client that hung up before its answer was an error (its body broke off, or
// a store call gave up with it) is logged and counted as 499 at info, as nginx
// does: no server error, and no client error worth an alert either. Successful probes (/healthz, /readyz,
// /metrics) are logged at debug, as balancers ask every few seconds.
func withLogging(log *slog.Logger, obs Observer, route func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			st := &reqState{}
			tw := track(w)
			body := &countingBody{ReadCloser: r.Body}
			r2 := r.WithContext(context.WithValue(r.Context(), reqStateKey{}, st))
			r2.Body = body
			obs.RequestStarted()
			finished := false
			defer func() {
				// Also runs while a panic unwinds (an aborted response).
				status := tw.status()
				reason := refusalReason(st.code)
				if r.Context().Err() != nil && (!finished || status >= 400 && reason == "") {
					// The client is gone (its connection broke): whatever
					// error followed is no fault of either side worth an
					// alert. A refusal (a stalled body, a bad key) stays one.
					status = StatusClientClosed
				}
				rt := route(r)
				obs.RequestDone(RequestInfo{
					Route: rt, Method: method(r.Method), Status: status,
					BytesIn: body.n, BytesOut: tw.written, Duration: time.Since(start),
				})
				if reason != "" {
					obs.Refused(reason)
				}
				level := slog.LevelInfo
				switch {
				case status >= 500:
					level = slog.LevelError
				case status < 400 && (rt == "/healthz" || rt == "/readyz" || rt == "/metrics"):
					level = slog.LevelDebug
				}
				if !log.Enabled(r.Context(), level) {
					return
				}
				attrs := []slog.Attr{
					slog.String("request_id", RequestID(r.Context())),
					slog.String("method", silo.Clip(r.Method)),
					slog.String("route", rt),
					slog.String("path", silo.Clip(r.URL.Path)),
					slog.Int("status", status),
					slog.Int64("bytes_in", body.n),
					slog.Int64("bytes_out", tw.written),
					slog.Duration("duration", time.Since(start)),
					slog.String("client", r.RemoteAddr),
					slog.String("project", silo.Clip(st.project)),
					slog.String("user_agent", silo.Clip(r.UserAgent())),
				}
				if st.code != "" {
					attrs = append(attrs, slog.String("code", st.code))
				}
				if !finished {
					attrs = append(attrs, slog.Bool("aborted", true))
				}
				if st.cause != nil {
					attrs = append(attrs, slog.String("err", boundedCause(st.cause.Error())))
				}
				log.LogAttrs(r.Context(), level, "request", attrs...)
			}()
			next.ServeHTTP(tw, r2)
			finished = true
		})
	}
}

// maxLoggedCause bounds the cause of a 5xx in its log line (a panic's stack
// fits).
const maxLoggedCause = 16 << 10

// boundedCause returns the cause of a 5xx cut to maxLoggedCause bytes.
func boundedCause(s string) string { return cut(s, maxLoggedCause) }

// cut returns s cut to at most n bytes and a marker, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(cut)"
}

// withRecover turns a panic into a logged 500, so one bad request cannot take
// the server down. http.ErrAbortHandler is net/http's own way to abort a
// response and passes through.
func withRecover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tw := track(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if tw.wroteHeader {
					// Too late for an error answer: cut the response short so
					// the client does not take it for a whole one.
					if st := stateOf(r.Context()); st != nil {
						st.code, st.cause = silo.EINTERNAL, err
					} else {
						log.Error("internal error", "request_id", RequestID(r.Context()),
							"method", silo.Clip(r.Method), "path", silo.Clip(r.URL.Path), "err", err)
					}
					panic(http.ErrAbortHandler)
				}
				writeError(tw, r, log, err, "")
			}()
			next.ServeHTTP(tw, r)
		})
	}
}

// withAuth admits a request whose bearer token auth knows, with the token's
// project in the context; any other request gets 401. A nil auth admits none.
func withAuth(auth func(string) (string, bool), log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearer(r.Header.Get("Authorization"))
			if !ok {
				writeError(w, r, log, silo.Errorf(silo.EUNAUTHORIZED, "",
					"You didn't provide an API key. Provide it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."), "")
				return
			}
			project, ok := "", false
			if auth != nil {
				project, ok = auth(token)
			}
			if !ok {
				writeError(w, r, log, silo.Errorf(silo.EUNAUTHORIZED, "",
					"Incorrect API key provided. Check the key you set for this server."), "")
				return
			}
			next.ServeHTTP(w, r.WithContext(silo.WithProject(r.Context(), project)))
		})
	}
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// trackWriter remembers the status and size of a response for the log and for
// withRecover. It forwards ReadFrom, so that io.Copy from a disk blob still
// reaches net/http's sendfile path, and Unwrap, for http.ResponseController.
type trackWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	written     int64
}

// track returns w as a *trackWriter, wrapping it only once.
func track(w http.ResponseWriter) *trackWriter {
	if tw, ok := w.(*trackWriter); ok {
		return tw
	}
	return &trackWriter{ResponseWriter: w}
}

func (t *trackWriter) WriteHeader(code int) {
	if !t.wroteHeader && code >= 200 {
		t.code, t.wroteHeader = code, true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackWriter) Write(b []byte) (int, error) {
	if !t.wroteHeader {
		t.code, t.wroteHeader = http.StatusOK, true
	}
	n, err := t.ResponseWriter.Write(b)
	t.written += int64(n)
	return n, err
}

func (t *trackWriter) ReadFrom(r io.Reader) (int64, error) {
	if !t.wroteHeader {
		t.code, t.wroteHeader = http.StatusOK, true
	}
	var n int64
	var err error
	if rf, ok := t.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{t.ResponseWriter}, r)
	}
	t.written += n
	return n, err
}

// Flush lets a handler push what it wrote so far.
func (t *trackWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		if !t.wroteHeader {
			t.code, t.wroteHeader = http.StatusOK, true
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *trackWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// status returns the status sent, 200 if the handler wrote nothing.
func (t *trackWriter) status() int {
	if !t.wroteHeader {
		return http.StatusOK
	}
	return t.code
}

// writerOnly hides every method but Write, so io.Copy cannot loop back into
// trackWriter.ReadFrom.
type writerOnly struct{ io.Writer }
