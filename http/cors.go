package http

import (
	"net/http"
	"slices"
	"strings"
)

// corsMethods are the API's methods, answered to a preflight.
const corsMethods = "GET, POST, DELETE, HEAD"

// corsMaxAge is how long, in seconds, a browser may cache a preflight answer.
const corsMaxAge = "7200"

// corsHeaders are the request headers a browser app may send: those the
// official SDKs set (openai-node adds X-Stainless-*, see corsAllowedHeader).
var corsHeaders = []string{
	"authorization", "content-type", "accept", "openai-organization", "openai-project",
	"openai-beta", "idempotency-key", "range", "retry-after-ms",
}

// corsAllowedHeader reports whether a browser app may send the header name
// (lower case).
func corsAllowedHeader(name string) bool {
	return slices.Contains(corsHeaders, name) || strings.HasPrefix(name, "x-stainless-")
}

// maxCORSRequestHeaders bounds how many names of a preflight's
// Access-Control-Request-Headers are looked at.
const maxCORSRequestHeaders = 64

// withCORS lets pages on the listed origins call /v1 from a browser. Only
// /v1 answers CORS: the console needs none, being served from the same
// origin. An empty list sends no CORS header at all; "*" admits any origin.
// Credentials (cookies) are never allowed, since the API takes a bearer key,
// so a wildcard is never combined with them.
func withCORS(origins []string) func(http.Handler) http.Handler {
	allowed := make(map[string]bool, len(origins))
	anyOrigin := false
	for _, o := range origins {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		switch o {
		case "":
		case "*":
			anyOrigin = true
		default:
			allowed[strings.ToLower(o)] = true
		}
	}
	return func(next http.Handler) http.Handler {
		if !anyOrigin && len(allowed) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1" && !strings.HasPrefix(r.URL.Path, "/v1/") {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			if origin == "" || !anyOrigin && !allowed[strings.ToLower(origin)] {
				next.ServeHTTP(w, r)
				return
			}
			allowOrigin := origin
			if anyOrigin {
				allowOrigin = "*"
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Origin", allowOrigin)
				h.Set("Access-Control-Allow-Methods", corsMethods)
				if names := preflightHeaders(r.Header.Get("Access-Control-Request-Headers")); names != "" {
					h.Set("Access-Control-Allow-Headers", names)
				}
				h.Set("Access-Control-Max-Age", corsMaxAge)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Allow-Origin", allowOrigin)
			h.Set("Access-Control-Expose-Headers", "x-request-id, content-disposition, content-length, retry-after, retry-after-ms, x-should-retry")
			next.ServeHTTP(w, r)
		})
	}
}

// preflightHeaders returns those of the requested header names a browser app
// may send, comma-separated; a browser refuses the request if any is missing.
func preflightHeaders(requested string) string {
	var ok []string
	for i, name := range strings.Split(requested, ",") {
		if i == maxCORSRequestHeaders {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "" && corsAllowedHeader(name) {
			ok = append(ok, name)
		}
	}
	return strings.Join(ok, ", ")
}
