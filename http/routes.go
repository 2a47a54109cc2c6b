package http

import (
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/silo-dev/silo"
)

// routes lists every endpoint. Paths are registered without methods and each
// dispatches on the method itself, because ServeMux's own 404 and 405 answers
// are text/plain and openai-go fails on anything but JSON.
func (s *server) routes() http.Handler {
	api := http.NewServeMux()
	api.Handle("/v1/uploads", s.methods(map[string]http.Handler{
		"POST": s.createUpload(),
	}))
	api.Handle("/v1/uploads/{upload_id}/parts", s.methods(map[string]http.Handler{
		"POST": s.addPart(),
	}))
	api.Handle("/v1/uploads/{upload_id}/complete", s.methods(map[string]http.Handler{
		"POST": s.completeUpload(),
	}))
	api.Handle("/v1/uploads/{upload_id}/cancel", s.methods(map[string]http.Handler{
		"POST": s.cancelUpload(),
	}))
	api.Handle("/v1/files", s.methods(map[string]http.Handler{
		"POST": s.createFile(),
		"GET":  s.listFiles(),
	}))
	api.Handle("/v1/files/{file_id}", s.methods(map[string]http.Handler{
		"GET":    s.getFile(),
		"DELETE": s.deleteFile(),
	}))
	api.Handle("/v1/files/{file_id}/content", s.methods(map[string]http.Handler{
		"GET":  s.fileContent(),
		"HEAD": s.fileContent(),
	}))
	api.Handle("/", s.notFound())

	root := http.NewServeMux()
	root.Handle("/healthz", s.methods(map[string]http.Handler{
		"GET":  healthz(),
		"HEAD": healthz(),
	}))
	s.opsRoutes(root)
	root.Handle("/", withAuth(s.auth, s.log)(noteProject(api)))
	if s.console != nil {
		// The console's page and assets need no key; the API under /v1 and
		// every other path still do.
		page := s.methods(map[string]http.Handler{"GET": s.console, "HEAD": s.console})
		root.Handle("/{$}", page)
		if s.conPfx != "" {
			root.Handle(s.conPfx, page)
		}
	}

	return withRequestID(withLogging(s.log, s.obs, routeOf(root, api))(withCORS(s.cors)(withStall(s.stall)(withRecover(s.log)(s.cleanPaths(root))))))
}

// cleanPaths answers 404 to a path with empty, "." or ".." segments, which
// ServeMux would otherwise redirect with an HTML body that no SDK follows.
func (s *server) cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "" || p[0] != '/' || (p != "/" && path.Clean(p) != p) {
			s.fail(w, r, silo.Errorf(silo.ENOTFOUND, "", "Invalid URL (%s %s).", silo.Clip(r.Method), silo.Clip(p)), "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// methods dispatches a path on the request's method; any other method gets a
// 405 envelope with an Allow header.
func (s *server) methods(byMethod map[string]http.Handler) http.Handler {
	allowed := make([]string, 0, len(byMethod))
	for m := range byMethod {
		allowed = append(allowed, m)
	}
	slices.Sort(allowed)
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := byMethod[r.Method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		s.fail(w, r, silo.Errorf(codeMethodNotAllowed, "",
			"Method %s is not allowed for %s; expected one of %s.", silo.Clip(r.Method), silo.Clip(r.URL.Path), allow), "")
	})
}

// notFound answers a path that is no endpoint, in OpenAI's words.
func (s *server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, silo.Errorf(silo.ENOTFOUND, "", "Invalid URL (%s %s).", silo.Clip(r.Method), silo.Clip(r.URL.Path)), "")
	})
}

// healthz answers 200 to anyone: it is for load balancers and for tests that
// wait for the server to come up.
func healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
