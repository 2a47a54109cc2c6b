package storetest

import (
	"sync"

	"github.com/silo-dev/silo"
)

// testRaceAddPartLimit checks that parts added in parallel never add up past
// the limit: the size check and the insert are one compare-and-set.
func testRaceAddPartLimit(f *metaFixture) {
	u := f.upload("proj")
	const n, size, limit = 32, 10, 100
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		p := f.newPart(u, size, int64(i))
		wg.Go(func() {
			<-start
			errs[i] = f.s.AddPart(f.ctx, p, metaT0, silo.PartLimits{Bytes: limit, Count: silo.MaxUploadParts}, silo.Quota{})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch silo.ErrorCode(err) {
		case "":
			ok++
		case silo.EUPLOADTOOLARGE:
		default:
			f.Errorf("AddPart in parallel: got %v, want success or %s", err, silo.EUPLOADTOOLARGE)
		}
	}
	if want := limit / size; ok != want {
		f.Errorf("AddPart in parallel: %d succeeded, want %d", ok, want)
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	if len(parts) != ok {
		f.Errorf("ListParts: got %d parts, want the %d recorded", len(parts), ok)
	}
}

// testRaceAddPartCount checks that parts added in parallel never outnumber
// max.Count: the count check and the insert are one compare-and-set too.
func testRaceAddPartCount(f *metaFixture) {
	u := f.upload("proj")
	const n, count = 32, 5
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		p := f.newPart(u, 1, int64(i))
		wg.Go(func() {
			<-start
			errs[i] = f.s.AddPart(f.ctx, p, metaT0, silo.PartLimits{Bytes: silo.MaxUploadBytes, Count: count}, silo.Quota{})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch silo.ErrorCode(err) {
		case "":
			ok++
		case silo.EUPLOADTOOLARGE:
			f.wantError("AddPart in parallel past the count", err, silo.EUPLOADTOOLARGE, "data")
		default:
			f.Errorf("AddPart in parallel: got %v, want success or %s", err, silo.EUPLOADTOOLARGE)
		}
	}
	if ok != count {
		f.Errorf("AddPart in parallel: %d succeeded, want %d", ok, count)
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	if len(parts) != ok {
		f.Errorf("ListParts: got %d parts, want the %d recorded", len(parts), ok)
	}
}

// metaRaceResult is what one racing call got.
type metaRaceResult struct {
	c    *silo.Completion // the completion tried, for complete calls
	p    *silo.Part       // the part added, for add-part calls
	up   *silo.Upload
	err  error
	kind string
}

// testRaceCompleteCancel races completions, cancellations and new parts on one
// Upload: exactly one completion or cancellation wins, there is never a second
// File, and no part is recorded once the Upload has left pending.
func testRaceCompleteCancel(f *metaFixture) {
	const rounds, completes, cancels, adds = 8, 4, 4, 16
	for range rounds {
		u := f.upload("proj")
		base := []*silo.Part{f.part(u, 50, 1), f.part(u, 50, 2)}
		var results []*metaRaceResult
		for i := range completes + cancels + adds {
			r := &metaRaceResult{}
			switch {
			case i < completes:
				r.kind, r.c = "complete", f.completion(u, base...)
			case i < completes+cancels:
				r.kind = "cancel"
			default:
				r.kind, r.p = "add", f.newPart(u, 1, int64(100+i))
			}
			results = append(results, r)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, r := range results {
			wg.Go(func() {
				<-start
				switch r.kind {
				case "complete":
					r.up, r.err = f.s.CompleteUpload(f.ctx, r.c)
				case "cancel":
					r.up, r.err = f.s.CancelUpload(f.ctx, "proj", u.ID, metaT0)
				default:
					r.err = f.s.AddPart(f.ctx, r.p, metaT0, metaNoLimits, silo.Quota{})
				}
			})
		}
		close(start)
		wg.Wait()
		f.checkRace(u, base, results)
		if f.Failed() {
			return
		}
	}
}

// checkRace checks the outcome of one round of testRaceCompleteCancel.
func (f *metaFixture) checkRace(u *silo.Upload, base []*silo.Part, results []*metaRaceResult) {
	f.Helper()
	final, err := f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	var winners []*metaRaceResult
	for _, r := range results {
		if r.kind != "add" && r.err == nil {
			winners = append(winners, r)
		}
	}
	if len(winners) != 1 {
		f.Fatalf("racing complete and cancel: %d calls won, want exactly 1", len(winners))
	}
	w := winners[0]
	lost := silo.NotPendingError(u.ID, final.Status).Code
	switch {
	case w.kind == "complete" && final.Status == silo.StatusCompleted:
		if final.File == nil || final.File.ID != w.c.File.ID {
			f.Errorf("GetUpload: got %s, want the winning completion's file %s", metaUploadString(final), w.c.File.ID)
		}
	case w.kind == "cancel" && final.Status == silo.StatusCancelled:
	default:
		f.Fatalf("racing complete and cancel: %s won but the upload is %s", w.kind, final.Status)
	}
	f.wantUpload("the winner's upload", w.up, final)

	fileBlobs := make(map[string]bool)
	if final.File != nil {
		for _, b := range final.File.Blobs {
			fileBlobs[b.Key] = true
		}
	}
	garbage := f.garbage()
	for _, r := range results {
		switch {
		case r == w:
		case r.kind == "add" && r.err == nil:
			if !garbage[r.p.BlobKey] || fileBlobs[r.p.BlobKey] {
				f.Errorf("part %s, recorded while pending, is not garbage once the upload is %s", r.p.ID, final.Status)
			}
		case r.kind == "add":
			f.wantError("AddPart that lost the race", r.err, lost, "")
			if k := f.known(r.p.BlobKey); k[r.p.BlobKey] || garbage[r.p.BlobKey] {
				f.Errorf("part %s was refused (%v) but its blob is known", r.p.ID, r.err)
			}
		default:
			f.wantError(r.kind+" that lost the race", r.err, lost, "")
			if r.kind == "complete" {
				_, err := f.s.GetFile(f.ctx, "proj", r.c.File.ID, metaT0)
				f.wantCode("GetFile of a losing completion's file", err, silo.ENOTFOUND)
			}
		}
	}
	for _, p := range base {
		if fileBlobs[p.BlobKey] == garbage[p.BlobKey] {
			f.Errorf("part %s: in the file %v, garbage %v; want exactly one", p.ID, fileBlobs[p.BlobKey], garbage[p.BlobKey])
		}
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil || len(parts) != 0 {
		f.Errorf("ListParts once the upload is %s: got %d parts, %v; want none", final.Status, len(parts), err)
	}
}
