package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/silo-dev/silo/internal/faultnet"
)

// linPartBytes is the size of every part of the linearizability test.
const linPartBytes = 32 << 10

// TestE2E_Linearizable records histories of 12 clients calling three
// instances over one PostgreSQL and one S3 server, each call through a
// random instance, on a few Uploads and their Files: create, parts,
// completes of random subsets in random orders with a right, a wrong or no
// md5, cancels, and the File's retrieve, download, delete and list. Meanwhile
// it kills and restarts instances, cuts PostgreSQL and S3 off and restores
// them, and loses the answers of some calls the server did receive. Each
// history must be linearizable against the model of the API (linModel); a
// call whose outcome is unknown may have happened, or not. Three short
// histories by default; SILO_LINEARIZABILITY_HISTORIES=N checks N.
func TestE2E_Linearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	histories := 3
	if v := os.Getenv("SILO_LINEARIZABILITY_HISTORIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SILO_LINEARIZABILITY_HISTORIES=%q: want a number above 0", v)
		}
		histories = n
	}
	pg, blobs := testPostgres(t), testS3(t)
	pgURL, err := url.Parse(pg)
	fatalIf(t, err)
	pgProxy := faultnet.NewProxy(t, pgURL.Host)
	pgURL.Host = pgProxy.Addr
	blobsURL, err := url.Parse(blobs)
	fatalIf(t, err)
	q := blobsURL.Query()
	ep, err := url.Parse(q.Get("endpoint"))
	fatalIf(t, err)
	s3Proxy := faultnet.NewProxy(t, ep.Host)
	ep.Host = s3Proxy.Addr
	q.Set("endpoint", ep.String())
	blobsURL.RawQuery = q.Encode()
	c := startCluster(t, 3, crashFlags(pgURL.String(), blobsURL.String())...)

	var total linTotals
	for h := range histories {
		r := runHistory(t, c, h, pgProxy, s3Proxy)
		total.add(r)
		if !checkHistory(t, h, r.ops, r.faults) {
			total.undecided++
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("%d histories checked (%d undecided: the check timed out): %d operations (%d of unknown outcome), faults: %d kills, %d PostgreSQL cuts, %d S3 cuts, %d lost answers",
		total.histories, total.undecided, total.operations, total.maybe, total.kills, total.pgCuts, total.s3Cuts, total.lost)
	t.Logf("calls by outcome: %v", total.outcomes)
}

// linTotals counts what the histories held.
type linTotals struct {
	histories, undecided, operations, maybe, kills, pgCuts, s3Cuts, lost int
	ops                                                                  []porcupine.Operation
	faults                                                               []porcupine.Annotation
	outcomes                                                             map[string]int // "op outcome" -> calls
}

func (t *linTotals) add(r *linTotals) {
	t.histories++
	t.operations += len(r.ops)
	if t.outcomes == nil {
		t.outcomes = map[string]int{}
	}
	for _, op := range r.ops {
		out := op.Output.(linOut)
		if out.maybe {
			t.maybe++
		}
		k := op.Input.(linIn).op + " "
		switch {
		case out.maybe:
			k += "unknown"
		case out.err != "":
			k += out.err
		default:
			k += "ok"
		}
		t.outcomes[k]++
	}
	t.kills += r.kills
	t.pgCuts += r.pgCuts
	t.s3Cuts += r.s3Cuts
	t.lost += r.lost
}

// checkHistory checks one history; on a violation it writes porcupine's
// visualisation and prints the calls of the Upload whose history fails. It
// reports whether the check came to an end.
func checkHistory(t *testing.T, h int, ops []porcupine.Operation, faults []porcupine.Annotation) bool {
	t.Helper()
	model := linModel(linPartBytes)
	res, info := porcupine.CheckOperationsVerbose(model, ops, time.Minute)
	switch res {
	case porcupine.Ok:
		return true
	case porcupine.Unknown:
		t.Logf("history %d: the check timed out after a minute (%d operations): neither proven nor refuted", h, len(ops))
		return false
	}
	dir, err := os.MkdirTemp("", "silo-linearizability-")
	fatalIf(t, err)
	path := filepath.Join(dir, fmt.Sprintf("history-%d.html", h))
	info.AddAnnotations(faults)
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		t.Errorf("writing the visualisation: %v", err)
	}
	for _, part := range model.Partition(ops) {
		if !porcupine.CheckOperations(model, part) {
			t.Errorf("history %d is not linearizable (visualisation: %s); the calls on the Upload that fails, and the faults:\n%s", h, path, describeOps(model, part, faults))
			return true
		}
	}
	t.Errorf("history %d is not linearizable (visualisation: %s)", h, path)
	return true
}

// linSlot is what the clients know of the Upload they work on in one slot:
// only what answers said. Once the Upload is done with (cancelled, or its
// File deleted), a client creates another in the slot, under a new key.
type linSlot struct {
	mu       sync.Mutex
	key      int // the model's partition: one per Upload
	upload   string
	parts    []string          // acknowledged parts
	contents map[string][]byte // part id -> bytes
	file     string
	settled  bool // no call on this Upload can change anything more
	creating bool
}

// settle notes that the Upload of key is done with.
func (s *linSlot) settle(key int) {
	s.mu.Lock()
	if s.key == key {
		s.settled = true
	}
	s.mu.Unlock()
}

// linRecorder collects a history.
type linRecorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
	lost  int
	// internal lists the answers 5xx other than 503.
	internal []string
}

func (r *linRecorder) now() int64 { return int64(time.Since(r.start)) }

// afterAnswer bounds how long after its 503 answer a call may still take
// effect: the instance answered after its statement to PostgreSQL failed,
// and a statement that had reached the database ends within moments. It
// keeps the check fast: an unknown call may take effect anywhere in its
// span, and a span to the end of the history makes the orders to try grow
// with every later call.
const afterAnswer = int64(5 * time.Second)

// record adds a call that began at call and got out. A call whose answer
// was lost had ended on the server when the answer was thrown away; one
// answered 503 may take effect up to afterAnswer later; one without an
// answer (its instance killed, or a timeout) up to the end of the history.
func (r *linRecorder) record(client int, in linIn, call int64, out linOut) {
	ret := r.now()
	switch {
	case !out.maybe || out.lost:
	case out.status != 0:
		ret += afterAnswer
	default:
		ret = math.MaxInt64
	}
	r.mu.Lock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	r.mu.Unlock()
}

// errLost is what a client gets whose answer was lost; errCut, a download
// cut off midway.
var (
	errLost = errors.New("the answer was lost")
	errCut  = errors.New("the download was cut off")
)

// losingTransport sends the request, reads the whole answer, and throws it
// away: the server did the call, the client never learns its outcome.
type losingTransport struct{ r *linRecorder }

func (l losingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	l.r.mu.Lock()
	l.r.lost++
	l.r.mu.Unlock()
	return nil, errLost
}

// runHistory runs the clients on new Uploads for a few seconds while it
// plays faults, and returns the history.
func runHistory(t *testing.T, c *cluster, h int, pgProxy, s3Proxy *faultnet.Proxy) *linTotals {
	t.Helper()
	const clients, slots = 12, 5
	rec := &linRecorder{start: time.Now()}
	ss := make([]*linSlot, slots)
	for i := range ss {
		ss[i] = &linSlot{settled: true}
	}
	keys := h * 10000
	var keyMu sync.Mutex
	newKey := func() int {
		keyMu.Lock()
		defer keyMu.Unlock()
		keys++
		return keys
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for id := range clients {
		rng := rand.New(rand.NewPCG(uint64(h), uint64(id)))
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := ss[rng.IntN(slots)]
				s.mu.Lock()
				create := s.settled && !s.creating
				if create {
					s.creating = true
				}
				s.mu.Unlock()
				if create {
					linCreate(c, rec, rng, id, newKey(), s)
				} else {
					linCall(c, rec, rng, id, s)
				}
			}
		})
	}

	res := &linTotals{}
	rng := rand.New(rand.NewPCG(uint64(h), 1000))
	end := time.Now().Add(6 * time.Second)
	fault := func(what string, f func()) {
		start := rec.now()
		f()
		res.faults = append(res.faults, porcupine.Annotation{Tag: "faults", Start: start, End: rec.now(), Description: what})
	}
	for time.Now().Before(end) {
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		switch rng.IntN(3) {
		case 0:
			i := rng.IntN(c.size())
			fault(fmt.Sprintf("instance %d killed and restarted", i), func() { c.restart(i) })
			res.kills++
		case 1:
			fault("PostgreSQL cut", func() {
				pgProxy.Cut()
				time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
				pgProxy.Restore()
			})
			res.pgCuts++
		case 2:
			fault("S3 cut", func() {
				s3Proxy.Cut()
				time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
				s3Proxy.Restore()
			})
			res.s3Cuts++
		}
	}
	close(stop)
	wg.Wait()
	res.ops, res.lost = rec.ops, rec.lost
	for _, e := range rec.internal {
		t.Errorf("history %d: an answer other than 503 to a fault: %s", h, e)
	}
	return res
}

// linClient returns a client of a random instance that loses one answer in
// twenty.
func linClient(c *cluster, rec *linRecorder, rng *rand.Rand) *openai.Client {
	p := c.instance(rng.IntN(c.size()))
	opts := []option.RequestOption{option.WithRequestTimeout(30 * time.Second)}
	if rng.IntN(20) == 0 {
		opts = append(opts, option.WithHTTPClient(&http.Client{Transport: losingTransport{rec}}))
	}
	return p.client(opts...)
}

// result turns a call's error into its outcome: a 4xx is a definite answer;
// no answer or a 503 leaves the outcome unknown. A 500 (a fault the server
// did not expect) leaves it unknown too, and is counted.
func (r *linRecorder) result(err error) linOut {
	if err == nil {
		return linOut{}
	}
	var e *openai.Error
	if errors.As(err, &e) && e.StatusCode >= 500 && e.StatusCode != 503 {
		r.mu.Lock()
		r.internal = append(r.internal, fmt.Sprintf("%d %s: %s", e.StatusCode, e.Request.URL.Path, e.Message))
		r.mu.Unlock()
	}
	if errors.Is(err, errLost) {
		return linOut{maybe: true, lost: true}
	}
	if !errors.As(err, &e) {
		return linOut{maybe: true}
	}
	if e.StatusCode >= 500 {
		return linOut{maybe: true, status: e.StatusCode}
	}
	if e.StatusCode == 404 {
		return linOut{err: "404"}
	}
	return linOut{err: e.Code}
}

// linCreate creates a new Upload in the slot, under key.
func linCreate(c *cluster, rec *linRecorder, rng *rand.Rand, client, key int, s *linSlot) {
	call := rec.now()
	u, err := linClient(c, rec, rng).Uploads.New(context.Background(), openai.UploadNewParams{
		Bytes: 2 * linPartBytes, Filename: fmt.Sprintf("lin-%d.bin", key), MimeType: "application/octet-stream", Purpose: "user_data",
	})
	out := rec.result(err)
	s.mu.Lock()
	if err == nil {
		out.id = u.ID
		s.key, s.upload, s.parts, s.contents, s.file, s.settled = key, u.ID, nil, map[string][]byte{}, "", false
	}
	s.creating = false
	s.mu.Unlock()
	rec.record(client, linIn{slot: key, op: "create"}, call, out)
}

// linCall makes one random call on the slot's Upload or File, from what the
// client knows of them.
func linCall(c *cluster, rec *linRecorder, rng *rand.Rand, client int, s *linSlot) {
	s.mu.Lock()
	key, upload, file, parts := s.key, s.upload, s.file, append([]string(nil), s.parts...)
	contents := s.contents
	s.mu.Unlock()
	if upload == "" {
		time.Sleep(5 * time.Millisecond)
		return
	}
	// What to call, by weight, from what is known.
	weights := map[string]int{"part": 40, "complete": 30, "cancel": 4, "list": 10}
	if len(parts) == 0 {
		weights["complete"] = 0
	}
	if file != "" {
		weights = map[string]int{"get": 25, "download": 25, "delete": 6, "list": 15, "complete": 10, "part": 5, "cancel": 3}
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	r := rng.IntN(total)
	var op string
	for _, name := range []string{"part", "complete", "cancel", "list", "get", "download", "delete"} {
		if r < weights[name] {
			op = name
			break
		}
		r -= weights[name]
	}

	ctx := context.Background()
	cl := linClient(c, rec, rng)
	in := linIn{slot: key, op: op, file: file}
	var out linOut
	call := rec.now()
	switch op {
	case "get":
		f, err := cl.Files.Get(ctx, file)
		if out = rec.result(err); err == nil {
			out.bytes = f.Bytes
		}
		if out.maybe {
			return // a read whose outcome is unknown tells nothing
		}
	case "download":
		resp, err := cl.Files.Content(ctx, file)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				err = errCut
			}
		}
		if out = rec.result(err); err == nil {
			out.digest = digest(body)
		}
		if out.maybe {
			return
		}
	case "delete":
		_, err := cl.Files.Delete(ctx, file)
		out = rec.result(err)
	case "list":
		// One call, seen by the Upload's history as whether its File is
		// listed (the others' are not recorded).
		name := fmt.Sprintf("lin-%d.bin", key)
		page, err := cl.Files.List(ctx, openai.FileListParams{})
		out = rec.result(err)
		if out.maybe || err == nil && page.HasMore {
			return // unknown, or more Files than one page: cannot tell
		}
		if err == nil {
			for _, f := range page.Data {
				if f.Filename == name {
					out.id = f.ID
				}
			}
		}
	case "cancel":
		_, err := cl.Uploads.Cancel(ctx, upload)
		out = rec.result(err)
	case "part":
		data := pseudoRandom(linPartBytes, rng.Uint32())
		part, err := cl.Uploads.Parts.New(ctx, upload, openai.UploadPartNewParams{Data: bytes.NewReader(data)})
		if out = rec.result(err); out.maybe {
			return // whether or not it was added, no call can tell: nothing lists parts
		}
		if err == nil {
			out.id = part.ID
			s.mu.Lock()
			if s.key == key {
				s.parts = append(s.parts, part.ID)
				s.contents[part.ID] = data
			}
			s.mu.Unlock()
		}
	case "complete":
		// Mostly two parts (they add up), sometimes one or three; a right,
		// a wrong or no md5.
		n := 2
		if k := rng.IntN(6); k == 0 {
			n = 1
		} else if k == 1 {
			n = 3
		}
		n = min(n, len(parts))
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		listed := parts[:n]
		var whole []byte
		s.mu.Lock()
		for _, id := range listed {
			whole = append(whole, contents[id]...)
		}
		s.mu.Unlock()
		in.parts, in.nparts, in.digest = strings.Join(listed, ","), n, digest(whole)
		params := openai.UploadCompleteParams{PartIDs: listed}
		switch rng.IntN(3) {
		case 0:
			in.md5 = "good"
			params.Md5 = openai.String(md5Hex(whole))
		case 1:
			in.md5 = "bad"
			params.Md5 = openai.String(md5Hex(append(whole, 0)))
		}
		call = rec.now()
		u, err := cl.Uploads.Complete(ctx, upload, params)
		if out = rec.result(err); out.maybe && (n != 2 || in.md5 == "bad") {
			return // it fails whenever it happens: no effect to place
		}
		if err == nil {
			out.id = u.File.ID
			s.mu.Lock()
			if s.key == key {
				s.file = u.File.ID
			}
			s.mu.Unlock()
		}
	}
	rec.record(client, in, call, out)
	// Done with: the Upload cancelled, or its File gone.
	if op == "cancel" && !out.maybe && out.err == "" || out.err == "upload_cancelled" || file != "" && (out.err == "404" || op == "delete" && out.err == "") {
		s.settle(key)
	}
}
