// Package console serves Silo's web console: static assets embedded in the
// binary, a page that calls the /v1 API with a bearer key like any client.
// It holds no state and sets no cookie.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// Prefix is the path under which the console's assets are served; the page
// itself is served at "/".
const Prefix = "/console/"

// policy is the Content-Security-Policy of every console response: scripts,
// styles and workers only from the server itself, no inline script, calls
// only to the same origin, and never inside a frame. 'wasm-unsafe-eval'
// lets the md5 worker compile hash-wasm's WebAssembly; it allows no eval of
// JavaScript.
const policy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console: GET or HEAD of "/" is the page and of
// Prefix+name an asset. Any other path is 404 in plain text; the caller
// routes only "/" and Prefix here.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Assets are small and change with the binary: revalidate each time,
		// so that an upgraded server never runs a stale script.
		h.Set("Cache-Control", "no-cache")
		name := ""
		switch {
		case r.URL.Path == "/":
			name = "index.html"
		case strings.HasPrefix(r.URL.Path, Prefix):
			name = strings.TrimPrefix(r.URL.Path, Prefix)
		}
		if name == "" || name == "index.html" && r.URL.Path != "/" || path.Clean("/"+name) != "/"+name {
			http.NotFound(w, r)
			return
		}
		if fi, err := fs.Stat(sub, name); err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(name, ".wasm") {
			h.Set("Content-Type", "application/wasm")
		}
		http.ServeFileFS(w, r, sub, name)
	})
}
