package main

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestLinModel checks that the model of the linearizability test refutes
// the violations it is there to find, and takes the histories it must.
func TestLinModel(t *testing.T) {
	const pb = 10
	op := func(call, ret int64, in linIn, out linOut) porcupine.Operation {
		if out.maybe && out.status == 0 && !out.lost {
			ret = math.MaxInt64
		}
		return porcupine.Operation{Input: in, Call: call, Output: out, Return: ret}
	}
	create := op(0, 1, linIn{op: "create"}, linOut{id: "u"})
	complete := linIn{op: "complete", parts: "a,b", nparts: 2, digest: "d"}
	for _, tc := range []struct {
		name string
		ops  []porcupine.Operation
		want bool
	}{
		{"CompleteThenRetry", []porcupine.Operation{create,
			op(2, 3, complete, linOut{id: "f"}), op(4, 5, complete, linOut{id: "f"})}, true},
		{"TwoFiles", []porcupine.Operation{create,
			op(2, 3, complete, linOut{id: "f"}), op(4, 5, complete, linOut{id: "g"})}, false},
		{"PartAfterCancel", []porcupine.Operation{create,
			op(2, 3, linIn{op: "cancel"}, linOut{}), op(4, 5, linIn{op: "part"}, linOut{id: "p"})}, false},
		{"PartConcurrentWithCancel", []porcupine.Operation{create,
			op(2, 5, linIn{op: "cancel"}, linOut{}), op(3, 6, linIn{op: "part"}, linOut{id: "p"})}, true},
		{"CompleteAndCancelBothWin", []porcupine.Operation{create,
			op(2, 5, linIn{op: "cancel"}, linOut{}), op(3, 6, complete, linOut{id: "f"})}, false},
		{"LostCompleteSeenByList", []porcupine.Operation{create,
			op(2, 0, complete, linOut{maybe: true}), op(4, 5, linIn{op: "list"}, linOut{id: "f"})}, true},
		{"ListedBeforeComplete", []porcupine.Operation{create,
			op(2, 3, linIn{op: "list"}, linOut{id: "f"}), op(4, 5, complete, linOut{id: "f"})}, false},
		{"WrongBytes", []porcupine.Operation{create,
			op(2, 3, complete, linOut{id: "f"}), op(4, 5, linIn{op: "download", file: "f"}, linOut{digest: "e"})}, false},
		{"DeletedThenRead", []porcupine.Operation{create,
			op(2, 3, complete, linOut{id: "f"}), op(4, 5, linIn{op: "delete", file: "f"}, linOut{}),
			op(6, 7, linIn{op: "get", file: "f"}, linOut{bytes: 2 * pb})}, false},
		{"MD5Mismatch", []porcupine.Operation{create,
			op(2, 3, linIn{op: "complete", parts: "a,b", nparts: 2, md5: "bad"}, linOut{err: "md5_mismatch"}),
			op(4, 5, complete, linOut{id: "f"})}, true},
		{"UnknownCompleteNotDone", []porcupine.Operation{create,
			op(2, 3, complete, linOut{maybe: true, status: 503}), op(4, 5, linIn{op: "part"}, linOut{id: "p"})}, true},
		{"UnknownCancelThenComplete", []porcupine.Operation{create,
			op(2, 3, linIn{op: "cancel"}, linOut{maybe: true, status: 503}), op(4, 5, complete, linOut{id: "f"}),
			op(6, 7, linIn{op: "part"}, linOut{err: "upload_cancelled"})}, false},
		{"OnePartCompletes", []porcupine.Operation{create,
			op(2, 3, linIn{op: "complete", parts: "a", nparts: 1}, linOut{id: "f"})}, false},
	} {
		if got := porcupine.CheckOperations(linModel(pb), tc.ops); got != tc.want {
			t.Errorf("%s: linearizable %v, want %v", tc.name, got, tc.want)
		}
	}
}
