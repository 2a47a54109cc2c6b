package uploader

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
)

// upload runs an Upload of data through svc and stops rec when it returns.
func upload(ctx context.Context, svc silo.UploadService, o Options, rec *recorder, data []byte, key string) (*Result, error) {
	if rec != nil {
		o.Progress = rec.progress
		defer rec.stop()
	}
	return New(svc, fast(o)).Upload(ctx, bytes.NewReader(data), int64(len(data)),
		Request{Filename: "data.bin", Purpose: "user_data", MimeType: "application/octet-stream", ResumeKey: key})
}

// checkDone fails unless res is the completed Upload of data, read back
// whole, with the digest when md5 was asked.
func checkDone(t *testing.T, f *faulty, ctx context.Context, res *Result, err error, data []byte, withMD5 bool) {
	t.Helper()
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if res.Upload == nil || res.Upload.Status != silo.StatusCompleted || res.Upload.File == nil {
		t.Fatalf("Upload: got %+v, want a completed upload with its file", res.Upload)
	}
	if got := f.content(t, ctx, res.Upload.File.ID); !bytes.Equal(got, data) {
		t.Fatalf("content: got %d bytes, want the %d sent", len(got), len(data))
	}
	sum := md5.Sum(data)
	if want := hex.EncodeToString(sum[:]); withMD5 && res.MD5 != want || !withMD5 && res.MD5 != "" {
		t.Errorf("md5: got %q, want %q (md5 %v)", res.MD5, want, withMD5)
	}
}

// wantOnce fails unless each of n parts reached the service once.
func wantOnce(t *testing.T, stored map[int]int, n int) {
	t.Helper()
	for i := range n {
		if stored[i] != 1 {
			t.Errorf("part %d stored %d times, want once", i, stored[i])
		}
	}
}

func TestUpload(t *testing.T) {
	for _, tc := range []struct {
		name           string
		size, partSize int
		parallel       int
		md5            bool
	}{
		{"empty", 0, 1000, 4, true},
		{"one part", 999, 1000, 4, false},
		{"exact parts", 8000, 1000, 3, true},
		{"short last part", 20*1000 + 17, 1000, 4, true},
		{"one at a time", 5*1000 + 1, 1000, 1, true},
		{"more workers than parts", 2500, 1000, 16, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := testData(tc.size, 1)
			f, ctx := newFaulty(t, data, tc.partSize)
			rec := &recorder{t: t}
			res, err := upload(ctx, f, Options{PartSize: int64(tc.partSize), Parallel: tc.parallel, MD5: tc.md5}, rec, data, "")
			checkDone(t, f, ctx, res, err, data, tc.md5)
			n := partCount(int64(tc.size), int64(tc.partSize))
			wantOnce(t, f.reset(), n)
			if res.Parts != n || res.PartsDone != n || res.BytesSent != int64(tc.size) || res.StatePath != "" {
				t.Errorf("result: %+v", res)
			}
			if len(rec.starts) != 1 || rec.starts[0].Parts != n || rec.delta != int64(tc.size) {
				t.Errorf("progress: starts %+v, bytes %d; want one start of %d parts and %d bytes", rec.starts, rec.delta, n, tc.size)
			}
			if len(rec.final) != 1 || rec.final[0].MD5 != tc.md5 {
				t.Errorf("complete events: %+v, want one with MD5 %v", rec.final, tc.md5)
			}
		})
	}
}

// TestUpload_LostResponses: the service stores a part but the client sees a
// transport error; the part is sent again, the extra copy is left out of the
// File, and the digest is still right.
func TestUpload_LostResponses(t *testing.T) {
	const partSize = 1000
	data := testData(10*partSize+3, 2)
	f, ctx := newFaulty(t, data, partSize)
	tries := map[int]int{}
	var mu sync.Mutex
	f.hook = func(n, i int) (fault, error) {
		mu.Lock()
		defer mu.Unlock()
		tries[i]++
		if (i == 0 || i == 4 || i == 10) && tries[i] == 1 {
			return lose, netError(syscall.ECONNRESET)
		}
		return pass, nil
	}
	rec := &recorder{t: t}
	res, err := upload(ctx, f, Options{PartSize: partSize, Parallel: 3, MD5: true}, rec, data, "")
	checkDone(t, f, ctx, res, err, data, true)
	stored := f.reset()
	for i := range 11 {
		want := 1
		if i == 0 || i == 4 || i == 10 {
			want = 2
		}
		if stored[i] != want {
			t.Errorf("part %d stored %d times, want %d", i, stored[i], want)
		}
	}
	if rec.delta != int64(len(data)) {
		t.Errorf("progress counted %d bytes, want %d: a lost try's bytes are taken back", rec.delta, len(data))
	}
	if len(rec.notices) != 3 || !strings.Contains(rec.notices[0], "try 2 of 5") {
		t.Errorf("notices: %q, want three retries", rec.notices)
	}
}

// TestUpload_ServerErrors: 5xx answers the server lets be retried are tried
// again, also for the complete; a part that fails twice succeeds on its third
// try; a part that fails on every try ends the upload after Attempts tries.
func TestUpload_ServerErrors(t *testing.T) {
	const partSize = 500
	answer := func(status int, shouldRetry, code string) error {
		return &shttp.ResponseError{StatusCode: status, ShouldRetry: shouldRetry, Err: &silo.Error{Code: code, Message: "no"}}
	}
	data := testData(6*partSize, 3)

	t.Run("fails twice", func(t *testing.T) {
		f, ctx := newFaulty(t, data, partSize)
		var mu sync.Mutex
		tries := map[int]int{}
		f.hook = func(n, i int) (fault, error) {
			mu.Lock()
			defer mu.Unlock()
			tries[i]++
			switch {
			case i == 2 && tries[i] == 1:
				return fail, answer(503, "", silo.EUNAVAILABLE)
			case i == 2 && tries[i] == 2:
				return fail, answer(502, "", silo.EINTERNAL)
			case i == 5 && tries[i] == 1:
				return lose, answer(500, "", silo.EINTERNAL) // stored, then the proxy failed
			}
			return pass, nil
		}
		completes := 0
		f.complete = func() error {
			if completes++; completes == 1 {
				return answer(429, "", "rate_limit_exceeded")
			}
			return nil
		}
		rec := &recorder{t: t}
		res, err := upload(ctx, f, Options{PartSize: partSize, Parallel: 2, MD5: true}, rec, data, "")
		checkDone(t, f, ctx, res, err, data, true)
		if tries[2] != 3 || tries[5] != 2 || completes != 2 {
			t.Errorf("tries of part 2: %d, want 3; of part 5: %d, want 2; completes: %d, want 2", tries[2], tries[5], completes)
		}
		if !strings.Contains(strings.Join(rec.notices, "\n"), "part 3 of 6 failed") {
			t.Errorf("notices do not name the part: %q", rec.notices)
		}
	})

	t.Run("fails every time", func(t *testing.T) {
		f, ctx := newFaulty(t, data, partSize)
		f.hook = func(n, i int) (fault, error) {
			if i == 1 {
				return fail, answer(503, "", silo.EUNAVAILABLE)
			}
			return pass, nil
		}
		res, err := upload(ctx, f, Options{PartSize: partSize, Parallel: 1, Attempts: 3}, nil, data, "")
		if silo.ErrorCode(err) != silo.EUNAVAILABLE || res == nil || res.Upload != nil {
			t.Fatalf("got %+v, %v; want the 503's error", res, err)
		}
		if calls := f.calls; calls != 1+3 {
			t.Errorf("calls: got %d, want part 0 once and part 1 three times", calls)
		}
	})

	t.Run("final 5xx", func(t *testing.T) {
		f, ctx := newFaulty(t, data, partSize)
		f.hook = func(n, i int) (fault, error) { return fail, answer(507, "false", silo.ESTORAGEFULL) }
		_, err := upload(ctx, f, Options{PartSize: partSize, Parallel: 1}, nil, data, "")
		if silo.ErrorCode(err) != silo.ESTORAGEFULL || f.calls != 1 {
			t.Errorf("got %v after %d calls; want insufficient_storage after one", err, f.calls)
		}
	})
}

// TestUpload_NotRetryable: an error the server marks final stops the upload:
// no part is tried again and no new part starts.
func TestUpload_NotRetryable(t *testing.T) {
	const partSize = 100
	data := testData(50*partSize, 4)
	f, ctx := newFaulty(t, data, partSize)
	var mu sync.Mutex
	tries := map[int]int{}
	f.hook = func(n, i int) (fault, error) {
		mu.Lock()
		tries[i]++
		mu.Unlock()
		switch {
		case i == 3:
			return fail, &shttp.ResponseError{StatusCode: 400, Err: &silo.Error{Code: silo.EINVALID, Param: "data", Message: "no"}}
		case i > 3:
			return block, nil // until the failure stops the upload
		}
		return pass, nil
	}
	rec := &recorder{t: t}
	res, err := upload(ctx, f, Options{PartSize: partSize, Parallel: 4}, rec, data, "")
	var se *silo.Error
	if !errors.As(err, &se) || se.Code != silo.EINVALID || se.Param != "data" {
		t.Fatalf("got %v, want the 400's invalid_value", err)
	}
	if res == nil || res.Upload != nil || res.PartsDone >= 50 {
		t.Errorf("result: %+v", res)
	}
	// Parts 0-3 started before the failure, the three other workers may
	// each have begun one more (held until the failure), and none is tried again.
	if f.calls > 4+3 || tries[3] != 1 {
		t.Errorf("calls: got %d, want at most 7, and part 3 tried once, not %d: the failure stops the upload", f.calls, tries[3])
	}
	if len(rec.notices) != 0 || len(rec.final) != 0 {
		t.Errorf("notices %q, completes %d: want none", rec.notices, len(rec.final))
	}
}

// interruptAfter makes f let k parts through and hold later ones until
// parallel of them wait, which can only happen once every worker has
// recorded its earlier parts; then it cancels.
func interruptAfter(f *faulty, k, parallel int, cancel context.CancelFunc) {
	f.hook = func(n, i int) (fault, error) {
		if n <= k {
			return pass, nil
		}
		if n == k+parallel {
			cancel()
		}
		return block, nil
	}
}

// TestUpload_Resume interrupts an upload by its context once k parts are
// acknowledged, then uploads the same source with the same state directory:
// only the missing parts are sent, once each, and the digest covers both runs.
func TestUpload_Resume(t *testing.T) {
	const partSize, k, parallel = 1000, 7, 3
	data := testData(25*partSize+11, 5)
	f, ctx := newFaulty(t, data, partSize)
	dir := t.TempDir()
	o := Options{PartSize: partSize, Parallel: parallel, MD5: true, StateDir: dir}

	cctx, cancel := context.WithCancel(ctx)
	interruptAfter(f, k, parallel, cancel)
	rec := &recorder{t: t}
	res, err := upload(cctx, f, o, rec, data, "src-1")
	if !errors.Is(err, context.Canceled) || res == nil || res.PartsDone != k || res.StatePath == "" {
		t.Fatalf("interrupted upload: got %+v, %v; want %d parts done, context.Canceled and a state", res, err, k)
	}
	first := f.reset()
	if len(first) != k {
		t.Fatalf("parts stored by the first run: %v, want %d", first, k)
	}
	st, err := loadState(res.StatePath)
	if err != nil || st == nil {
		t.Fatalf("state: %v, %v", st, err)
	}
	for i, id := range st.Parts {
		if (id != "") != (first[i] == 1) {
			t.Errorf("part %d: saved %q, stored %d times", i, id, first[i])
		}
	}

	f.hook = nil
	rec = &recorder{t: t}
	res2, err := upload(ctx, f, o, rec, data, "src-1")
	checkDone(t, f, ctx, res2, err, data, true)
	second := f.reset()
	sent := 0
	for i := range 26 {
		want := 1 - first[i]
		if second[i] != want {
			t.Errorf("part %d sent %d times after resuming, want %d", i, second[i], want)
		}
		sent += second[i]
	}
	t.Logf("first run sent %d parts, the resumed run %d of 26", len(first), sent)
	if res2.UploadID != res.UploadID || res2.PartsResumed != k || res2.BytesSent != int64(len(data)-k*partSize) {
		t.Errorf("resumed result: %+v", res2)
	}
	if len(rec.starts) != 1 || rec.starts[0].PartsDone != k || rec.starts[0].Sent != k*partSize {
		t.Errorf("start event: %+v", rec.starts)
	}
	if _, err := os.Stat(res.StatePath); !os.IsNotExist(err) {
		t.Errorf("state left after completion: %v", err)
	}
}

// TestUpload_Cancel: cancelling the context ends the upload at once with the
// context's error, keeps the state of the parts acknowledged, and leaves no
// callback running.
func TestUpload_Cancel(t *testing.T) {
	const partSize = 100
	data := testData(40*partSize, 6)
	f, ctx := newFaulty(t, data, partSize)
	cctx, cancel := context.WithCancelCause(ctx)
	stop := errors.New("stop, says the test")
	f.hook = func(n, i int) (fault, error) {
		if n == 5 {
			cancel(stop)
		}
		return pass, nil
	}
	rec := &recorder{t: t}
	res, err := upload(cctx, f, Options{PartSize: partSize, Parallel: 2, MD5: true, StateDir: t.TempDir()}, rec, data, "k")
	if !errors.Is(err, stop) {
		t.Fatalf("got %v, want the cause of the cancellation", err)
	}
	if res == nil || res.PartsDone >= 40 || res.StatePath == "" {
		t.Errorf("result: %+v", res)
	}
	if len(rec.final) != 0 {
		t.Errorf("a cancelled upload was completed")
	}

	// Cancelled before it began: nothing is created.
	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	f.reset()
	res, err = upload(done, f, Options{PartSize: partSize}, nil, data, "")
	if !errors.Is(err, context.Canceled) || res != nil || f.calls != 0 {
		t.Errorf("cancelled before: got %+v, %v after %d calls", res, err, f.calls)
	}
}

// TestUpload_SourceChanged: a file rewritten while its parts go up is not
// completed from a mix of two versions: the upload is cancelled and its
// state removed, and the next upload sends the file as it is now.
func TestUpload_SourceChanged(t *testing.T) {
	const partSize = 1000
	data := testData(4*partSize, 7)
	changed := testData(4*partSize, 8)
	path := filepath.Join(t.TempDir(), "c.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, ctx := newFaulty(t, data, partSize)
	f.hook = func(n, i int) (fault, error) {
		if n == 2 {
			if err := os.WriteFile(path, changed, 0o644); err != nil {
				t.Error(err)
			}
			os.Chtimes(path, time.Now(), time.Now().Add(time.Minute))
		}
		return pass, nil
	}
	dir := t.TempDir()
	up := func() (*Result, error) {
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		fi, _ := file.Stat()
		return New(f, fast(Options{PartSize: partSize, Parallel: 1, StateDir: dir})).Upload(ctx, file, fi.Size(),
			Request{Filename: "c.bin", Purpose: "user_data", MimeType: "application/octet-stream"})
	}
	res, err := up()
	if !errors.Is(err, ErrSourceChanged) || res == nil {
		t.Fatalf("got %+v, %v; want ErrSourceChanged", res, err)
	}
	if u, err := f.CancelUpload(ctx, res.UploadID); err != nil || u.Status != silo.StatusCancelled {
		t.Errorf("upload after the change: %+v, %v; want cancelled", u, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("state left: %v", left)
	}
	f.hook = nil
	f.cut(changed, partSize)
	res, err = up()
	checkDone(t, f, ctx, res, err, changed, false)
}

// TestUpload_Stale starts over, saying why, when the saved upload cannot be
// continued: the file changed (size, or only its modification time), the
// upload expired, or the server no longer takes it.
func TestUpload_Stale(t *testing.T) {
	const partSize, k, parallel = 400, 2, 2
	for _, tc := range []struct {
		name, why string
		change    func(t *testing.T, f *faulty, ctx context.Context, path, statePath string, data []byte) []byte
	}{
		{"size", "changed since", func(t *testing.T, f *faulty, ctx context.Context, path, statePath string, data []byte) []byte {
			data = append(data, "more"...)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return data
		}},
		{"mtime", "changed since", func(t *testing.T, f *faulty, ctx context.Context, path, statePath string, data []byte) []byte {
			when := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
			if err := os.Chtimes(path, when, when); err != nil {
				t.Fatal(err)
			}
			return data
		}},
		{"expired", "expired at", func(t *testing.T, f *faulty, ctx context.Context, path, statePath string, data []byte) []byte {
			editState(t, statePath, func(s *state) { s.ExpiresAt = time.Now().Unix() - 1 })
			return data
		}},
		{"cancelled", "can no longer be continued", func(t *testing.T, f *faulty, ctx context.Context, path, statePath string, data []byte) []byte {
			st, _ := loadState(statePath)
			if _, err := f.CancelUpload(ctx, st.UploadID); err != nil {
				t.Fatal(err)
			}
			return data
		}},
		{"unreadable state", "unreadable resume state", func(t *testing.T, f *faulty, ctx context.Context, path, statePath string, data []byte) []byte {
			if err := os.WriteFile(statePath, []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
			return data
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := testData(10*partSize+1, 6)
			path := filepath.Join(t.TempDir(), "f.bin")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, ctx := newFaulty(t, data, partSize)
			dir := t.TempDir()
			up := func(ctx context.Context, rec *recorder) (*Result, error) {
				file, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer file.Close()
				fi, _ := file.Stat()
				o := fast(Options{PartSize: partSize, Parallel: parallel, MD5: true, StateDir: dir})
				if rec != nil {
					o.Progress = rec.progress
					defer rec.stop()
				}
				return New(f, o).Upload(ctx, file, fi.Size(), Request{Filename: "f.bin", Purpose: "user_data", MimeType: "text/plain"})
			}
			cctx, cancel := context.WithCancel(ctx)
			interruptAfter(f, k, parallel, cancel)
			res, err := up(cctx, nil)
			if !errors.Is(err, context.Canceled) || res.StatePath == "" {
				t.Fatalf("interrupted upload: %+v, %v", res, err)
			}
			f.hook = nil
			f.reset()
			data = tc.change(t, f, ctx, path, res.StatePath, data)
			f.cut(data, partSize)
			rec := &recorder{t: t}
			res2, err := up(ctx, rec)
			notices := strings.Join(rec.notices, "\n")
			if !strings.Contains(notices, tc.why) || !strings.Contains(notices, "starting a new upload") {
				t.Errorf("notices do not say why it starts over (%q): %q", tc.why, notices)
			}
			checkDone(t, f, ctx, res2, err, data, true)
			if res2.UploadID == res.UploadID || res2.PartsResumed != 0 {
				t.Errorf("result: %+v, want a new upload", res2)
			}
			n := partCount(int64(len(data)), partSize)
			if tc.name != "cancelled" {
				wantOnce(t, f.reset(), n)
			}
		})
	}
}

// editState changes the saved state at path.
func editState(t *testing.T, path string, change func(*state)) {
	t.Helper()
	st, err := loadState(path)
	if err != nil || st == nil {
		t.Fatalf("state: %v, %v", st, err)
	}
	change(st)
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
}

// TestUpload_InvalidOptions: options that cannot work are refused before
// anything is sent.
func TestUpload_InvalidOptions(t *testing.T) {
	data := testData(20_001, 7)
	f, ctx := newFaulty(t, data, 2)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{PartSize: 2}, "at most 10000: use parts of at least 3 bytes"},
		{Options{PartSize: silo.MaxPartBytes + 1}, "part size"},
		{Options{Parallel: -1}, "parallel"},
		{Options{Attempts: -1}, "attempts"},
	} {
		_, err := upload(ctx, f, tc.o, nil, data, "")
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want ErrInvalidOptions saying %q", tc.o, err, tc.want)
		}
	}
	if f.calls != 0 {
		t.Errorf("%d parts sent", f.calls)
	}
}
