package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sinkCommand is the first argument that makes this program the sink, which
// the benchmark starts as a child process like silo.
const sinkCommand = "sink"

// sinkBufSize is the size of the sink's writes: as large as silo's blob
// store makes them, so that the reference is not held back by small ones.
const sinkBufSize = 1 << 20

// runSink serves the fsync sink until the process is killed:
//
//	POST /anything    the body goes to a new file, fsynced; answers {"id":NAME}
//	GET /files/NAME   the file, through http.ServeContent (sendfile)
//	GET /healthz      200
//
// It is the practical limit of durable ingest: one write path, no metadata,
// no checks, no multipart parsing.
func runSink(args []string) error {
	fs := flag.NewFlagSet("silo-bench sink", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory the bodies are written to")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	plain := fs.Bool("plain", false, "write with io.Copy(file, body): 32KiB writes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("-dir is required")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	s := &sink{dir: *dir, plain: *plain, bufs: sync.Pool{New: func() any { return bufio.NewWriterSize(nil, sinkBufSize) }}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /files/{name}", s.get)
	mux.HandleFunc("POST /", s.put)
	fmt.Printf("sink listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// sink writes request bodies to files in dir.
type sink struct {
	dir   string
	plain bool
	seq   atomic.Int64
	bufs  sync.Pool
}

func (s *sink) put(w http.ResponseWriter, r *http.Request) {
	name := "body-" + strconv.FormatInt(s.seq.Add(1), 10)
	f, err := os.Create(filepath.Join(s.dir, name))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	n, err := s.write(f, r.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"id\":%q,\"bytes\":%d}\n", name, n)
}

// write copies body to f: by default in writes of sinkBufSize bytes, as
// silo's blob store makes them (a struct hides the file's ReadFrom, which
// would copy through 32KiB); plain, with io.Copy, the most trivial way.
func (s *sink) write(f *os.File, body io.Reader) (int64, error) {
	if s.plain {
		return io.Copy(f, body)
	}
	bw := s.bufs.Get().(*bufio.Writer)
	defer s.bufs.Put(bw)
	bw.Reset(struct{ io.Writer }{f})
	defer bw.Reset(nil)
	n, err := io.Copy(bw, body)
	if err == nil {
		err = bw.Flush()
	}
	return n, err
}

func (s *sink) get(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if filepath.Base(name) != name {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}
