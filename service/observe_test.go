package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// downBlobs is an inmem blob store whose Ping fails.
type downBlobs struct{ *inmem.BlobStore }

func (downBlobs) Ping(context.Context) error { return errors.New("no route to host") }

// noPing is a blob store without Ping.
type noPing struct{ silo.BlobStore }

func TestService_Ping(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		blobs silo.BlobStore
		want  []string
	}{
		{"both up", inmem.NewBlobStore(), nil},
		{"blobs down", downBlobs{inmem.NewBlobStore()}, []string{"blobs"}},
		{"blobs cannot ping", noPing{inmem.NewBlobStore()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := service.New(inmem.NewMetaStore(), tc.blobs, service.Config{})
			down := svc.Ping(ctx)
			if len(down) != len(tc.want) {
				t.Fatalf("Ping = %v, want %v down", down, tc.want)
			}
			for _, name := range tc.want {
				if down[name] == nil {
					t.Errorf("Ping = %v, want %s down", down, name)
				}
			}
		})
	}
}

// events records the events of a service.
type events []service.Event

func (e *events) Observe(ev service.Event) { *e = append(*e, ev) }

func TestService_ObserveRefusedPart(t *testing.T) {
	var got events
	svc := service.New(inmem.NewMetaStore(), inmem.NewBlobStore(), service.Config{Observer: &got})
	ctx := silo.WithProject(context.Background(), "p")
	u, err := svc.CreateUpload(ctx, &silo.UploadCreate{Bytes: 1, Filename: "a.jsonl", Purpose: "batch", MimeType: "a/b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CancelUpload(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddPart(ctx, u.ID, nil); err == nil {
		t.Fatal("AddPart to a cancelled upload succeeded")
	}
	var kinds []service.EventKind
	for _, e := range got {
		kinds = append(kinds, e.Kind)
	}
	want := []service.EventKind{service.UploadCreated, service.UploadCancelled}
	if len(kinds) != len(want) || kinds[0] != want[0] || kinds[1] != want[1] {
		t.Errorf("events %v, want %v (a part refused before its bytes is no part in flight)", kinds, want)
	}
}
