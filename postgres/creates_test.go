package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

// TestCreates_Batches checks the group commit's turns, with a commit that
// holds its batch until told: a create that finds a free lane is sent alone
// at once; those that come while every lane is busy wait, and go together in
// one batch when a lane frees; every create gets its own outcome, once.
func TestCreates_Batches(t *testing.T) {
	type call struct {
		ids     []string
		release chan []error
	}
	calls := make(chan call)
	c := &creates{commit: func(_ context.Context, batch []*createOp) []error {
		ids := make([]string, len(batch))
		for i, o := range batch {
			ids[i] = o.u.ID
		}
		r := make(chan []error)
		calls <- call{ids, r}
		return <-r
	}}
	type outcome struct {
		id  string
		err error
	}
	outcomes := make(chan outcome)
	create := func(id string) {
		go func() { outcomes <- outcome{id, c.do(context.Background(), &silo.Upload{ID: id})} }()
	}
	next := func() call {
		t.Helper()
		select {
		case cl := <-calls:
			return cl
		case <-time.After(10 * time.Second):
			t.Fatal("no batch was sent")
			return call{}
		}
	}
	// One create per lane: each is a batch of its own.
	lanes := make([]call, createLanes)
	for i := range createLanes {
		create(fmt.Sprint("lane", i))
		lanes[i] = next()
		if len(lanes[i].ids) != 1 {
			t.Fatalf("create %d with a lane free: batch %v, want it alone", i, lanes[i].ids)
		}
	}
	// Every lane busy: these wait.
	const waiting = 5
	for i := range waiting {
		create(fmt.Sprint("wait", i))
	}
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.queue) == waiting })
	// A lane frees (its create failed): the waiting go in one batch.
	failed := silo.Errorf(silo.EINTERNAL, "", "lane 0 failed")
	lanes[0].release <- []error{failed}
	batch := next()
	if len(batch.ids) != waiting {
		t.Fatalf("after a lane freed: batch %v, want the %d waiting creates together", batch.ids, waiting)
	}
	errs := make([]error, waiting)
	errs[2] = silo.Errorf(silo.EINTERNAL, "", "%s failed", batch.ids[2])
	batch.release <- errs
	for _, l := range lanes[1:] {
		l.release <- []error{nil}
	}
	got := map[string]error{}
	for range createLanes + waiting {
		o := <-outcomes
		if _, dup := got[o.id]; dup {
			t.Errorf("create %s answered twice", o.id)
		}
		got[o.id] = o.err
	}
	for id, err := range got {
		var want error
		switch id {
		case "lane0":
			want = failed
		case batch.ids[2]:
			want = errs[2]
		}
		if err != want {
			t.Errorf("create %s: got %v, want %v", id, err, want)
		}
	}
	if c.busy != 0 || len(c.queue) != 0 {
		t.Errorf("after every create returned: %d lanes busy, %d waiting; want none", c.busy, len(c.queue))
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached in 10 s")
}
