package migrations

import (
	"testing"
	"testing/fstest"
)

func TestSteps(t *testing.T) {
	ok := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
	}
	steps, err := Steps(ok, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].Version != 1 || steps[0].SQL != "A" || steps[1].Name != "0002_more.sql" {
		t.Fatalf("got %+v, want 0001 then 0002", steps)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"repeat":    {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"no number": {"m/init.sql": {}},
		"none":      {"m/": {Mode: 0o755 | 1<<31}},
	} {
		if _, err := Steps(fsys, "m"); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}
