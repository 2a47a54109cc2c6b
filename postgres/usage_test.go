package postgres

import "testing"

// TestShards_Distinct checks that connections, up to one per shard, each get
// a shard of their own, that more share them evenly, and that a shard given
// back is the next taken.
func TestShards_Distinct(t *testing.T) {
	var sh shards
	seen := map[int]bool{}
	for range usageShards {
		k := sh.take()
		if k < 0 || k >= usageShards || seen[k] {
			t.Fatalf("take gave shard %d, already given: %v", k, seen)
		}
		seen[k] = true
	}
	// Every shard has one connection: the next ones get a second each.
	second := map[int]bool{}
	for range usageShards {
		second[sh.take()] = true
	}
	if len(second) != usageShards {
		t.Fatalf("%d connections beyond one per shard got %d distinct shards, want %d", usageShards, len(second), usageShards)
	}
	sh.give(5)
	if k := sh.take(); k != 5 {
		t.Errorf("after shard 5 was given back, take gave %d, want 5", k)
	}
}
