package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/postgres"
	"github.com/silo-dev/silo/storetest"
)

// testURL returns the database the tests may use, from SILO_TEST_POSTGRES_URL,
// or skips the test: these tests need a real PostgreSQL (.ci/run starts one).
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SILO_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("SILO_TEST_POSTGRES_URL is not set: no PostgreSQL to test against (.ci/run starts one; e.g. postgres://silo@127.0.0.1:5432/silo_test?sslmode=disable)")
	}
	return u
}

// freshSchema creates an empty schema in the test database, drops it when the
// test ends, and returns the URL of the database with the schema as its
// search_path, so that every store opened on it works in there alone.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := testURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "silo_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", redact(base), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connecting to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("DROP SCHEMA %s: %v", schema, err)
		}
	})
	return withParam(t, base, "search_path", schema)
}

// withParam returns the connection string with one more parameter.
func withParam(t testing.TB, conn, name, value string) string {
	t.Helper()
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return conn + " " + name + "=" + value
	}
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatalf("SILO_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// redact drops the password of a URL, for messages.
func redact(conn string) string {
	if u, err := url.Parse(conn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return conn
}

// open opens a store on the URL, failing the test on error.
func open(t testing.TB, url string, opts postgres.Options) *postgres.MetaStore {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestMetaStore(t *testing.T) {
	testURL(t)
	storetest.MetaStore(t, func(t *testing.T) silo.MetaStore {
		return open(t, freshSchema(t), postgres.Options{})
	})
}

// TestOpen_Concurrent starts several stores on one empty schema at once, as
// instances started together do: the advisory lock lets one migrate while
// the others wait, and all of them then work.
func TestOpen_Concurrent(t *testing.T) {
	url := freshSchema(t)
	const n = 6
	stores := make([]*postgres.MetaStore, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 2})
			stores[i] = s
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
	}
	for _, s := range stores {
		if s == nil {
			continue
		}
		if _, err := s.KnownBlobs(context.Background(), []string{"a"}); err != nil {
			t.Errorf("KnownBlobs after a concurrent Open: %v", err)
		}
		s.Close()
	}
}

func TestOpen_BadURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:secret@127.0.0.1:notaport/db", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of a bad URL: got %v, want an error that does not show the password", err)
	}
}

// TestCreateUpload_Batch checks the group commit's batch: Uploads of several
// projects made in one transaction, each counted in its project's usage; and
// when one of them cannot be made (its id is taken), only that one fails.
func TestCreateUpload_Batch(t *testing.T) {
	s := open(t, freshSchema(t), postgres.Options{})
	defer s.Close()
	ctx := context.Background()
	upload := func(id, project string) *silo.Upload {
		return &silo.Upload{ID: id, Project: project, Bytes: 10, Filename: "f.jsonl", Purpose: "batch",
			MimeType: "application/jsonl", CreatedAt: 1_700_000_000, ExpiresAt: 1_700_003_600, Status: silo.StatusPending}
	}
	if err := s.CreateUpload(ctx, upload("upload_taken", "b"), silo.Quota{}); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	batch := []*silo.Upload{upload("upload_1", "c"), upload("upload_2", "a"), upload("upload_taken", "b"), upload("upload_3", "a")}
	errs := postgres.CommitCreates(ctx, s, batch)
	for i, u := range batch {
		if wantErr := u.ID == "upload_taken"; (errs[i] != nil) != wantErr {
			t.Errorf("create %s in the batch: error %v, want an error: %t", u.ID, errs[i], wantErr)
		}
	}
	for _, u := range batch {
		if got, err := s.GetUpload(ctx, u.Project, u.ID); err != nil || got.Filename != u.Filename {
			t.Errorf("GetUpload %s of %s after the batch: %+v, %v", u.ID, u.Project, got, err)
		}
	}
	for project, want := range map[string]int64{"a": 2, "b": 1, "c": 1} {
		if got, err := s.Usage(ctx, project); err != nil || got.PendingUploads != want {
			t.Errorf("Usage of %s: %+v, %v; want %d pending uploads", project, got, err, want)
		}
	}
}
