package main

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The sequential model of the API that the linearizability test checks
// recorded histories against, one Upload (a "slot") and its File per
// partition. Every part is partBytes long and an Upload is created with
// 2*partBytes, so a complete of two parts adds up and of one or three
// does not.

// linIn is a call: op on the Upload of slot, or on its File.
type linIn struct {
	slot   int
	op     string // create, part, complete, cancel, get, delete, download, list
	parts  string // complete: the part ids listed, comma-separated
	nparts int    // complete: how many
	md5    string // complete: "", "good" or "bad"
	digest string // complete: the digest of the listed parts' bytes, in order
	file   string // get, delete, download: the File's id
}

// linOut is what a call got. A call whose outcome is unknown (no answer,
// the answer lost, 503) is maybe: it may have happened, at any time after
// it began, or not at all.
type linOut struct {
	maybe  bool
	err    string // the error code ("404" for not found), "" on success
	id     string // create: the Upload; part: the part; complete, list: the File ("" in list: not listed)
	bytes  int64  // get: the File's bytes
	digest string // download: the digest of the bytes
	// Of a maybe call: lost, its answer was thrown away (the server had
	// ended the call); else status, the 5xx answered, or 0 for none.
	lost   bool
	status int
}

// linState is one Upload and its File, as the API has them.
type linState struct {
	status  string // "" (not created), pending, completed, cancelled
	parts   string // completed: the part list
	md5     string // completed: "" or "good"
	digest  string // completed: the File's bytes' digest
	file    string // completed: the File's id, "" until a call shows it
	deleted bool
}

// linModel is the model; partBytes is the size of every part. A call of
// unknown outcome either happened, as linStep says, or did not.
func linModel(partBytes int64) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			bySlot := map[int][]porcupine.Operation{}
			for _, op := range history {
				s := op.Input.(linIn).slot
				bySlot[s] = append(bySlot[s], op)
			}
			var slots []int
			for s := range bySlot {
				slots = append(slots, s)
			}
			sort.Ints(slots)
			var out [][]porcupine.Operation
			for _, s := range slots {
				out = append(out, bySlot[s])
			}
			return out
		},
		Init: func() []any { return []any{linState{}} },
		Step: func(state, input, output any) []any {
			s, out := state.(linState), output.(linOut)
			var next []any
			if ok, n := linStep(s, input.(linIn), out, partBytes); ok {
				next = append(next, n)
			}
			if out.maybe {
				next = append(next, s)
			}
			return next
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linIn), output.(linOut)
			return fmt.Sprintf("%s -> %s", in, out)
		},
		DescribeState: func(state any) string { return fmt.Sprintf("%+v", state.(linState)) },
	}
	return nm.ToModel()
}

func (in linIn) String() string {
	switch in.op {
	case "complete":
		return fmt.Sprintf("slot %d complete [%s] md5=%s", in.slot, in.parts, in.md5)
	case "get", "delete", "download":
		return fmt.Sprintf("slot %d %s %s", in.slot, in.op, in.file)
	}
	return fmt.Sprintf("slot %d %s", in.slot, in.op)
}

func (out linOut) String() string {
	switch {
	case out.maybe:
		return "unknown"
	case out.err != "":
		return "error " + out.err
	case out.digest != "":
		return "bytes " + out.digest[:8]
	case out.bytes != 0:
		return fmt.Sprintf("%d bytes", out.bytes)
	}
	return "ok " + out.id
}

// linStep is the model's step: whether out is what in gets in state s, and
// the state after. A maybe call gets what the model says, whatever it is.
func linStep(s linState, in linIn, out linOut, partBytes int64) (bool, any) {
	fails := func(code string) (bool, any) { return out.maybe || out.err == code, s }
	// fileSeen checks a File id a call saw against the one the slot has: an
	// Upload has one File, whatever the calls that completed it.
	fileSeen := func(id string) (bool, linState) {
		if s.file != "" && id != s.file {
			return false, s
		}
		n := s
		n.file = id
		return true, n
	}
	switch in.op {
	case "create":
		if s.status != "" {
			return false, s
		}
		n := s
		n.status = "pending"
		return out.maybe || out.err == "", n
	case "part":
		switch s.status {
		case "pending":
			return out.maybe || out.err == "", s
		case "completed":
			return fails("upload_completed")
		case "cancelled":
			return fails("upload_cancelled")
		}
	case "cancel":
		switch s.status {
		case "pending", "cancelled":
			n := s
			n.status = "cancelled"
			return out.maybe || out.err == "", n
		case "completed":
			return fails("upload_completed")
		}
	case "complete":
		switch s.status {
		case "cancelled":
			return fails("upload_cancelled")
		case "completed":
			if in.parts != s.parts || in.md5 != "" && in.md5 != s.md5 {
				return fails("upload_completed")
			}
			if out.maybe {
				return true, s
			}
			if out.err != "" {
				return false, s
			}
			return fileSeen(out.id)
		case "pending":
			if int64(in.nparts)*partBytes != 2*partBytes {
				return fails("bytes_mismatch")
			}
			if in.md5 == "bad" {
				return fails("md5_mismatch")
			}
			n := linState{status: "completed", parts: in.parts, md5: in.md5, digest: in.digest}
			if out.maybe {
				return true, n
			}
			if out.err != "" {
				return false, s
			}
			n.file = out.id
			return true, n
		}
	case "get", "delete", "download":
		if s.status != "completed" {
			return false, s // the call knew a File id
		}
		ok, n := fileSeen(in.file)
		if !ok {
			return false, s
		}
		if n.deleted {
			return out.maybe || out.err == "404", n
		}
		if in.op == "delete" {
			n.deleted = true
			return out.maybe || out.err == "", n
		}
		if out.maybe {
			return true, n
		}
		if in.op == "get" {
			return out.err == "" && out.bytes == 2*partBytes, n
		}
		return out.err == "" && out.digest == s.digest, n
	case "list":
		live := s.status == "completed" && !s.deleted
		if out.maybe {
			return true, s
		}
		if out.err != "" || live != (out.id != "") {
			return false, s
		}
		if !live {
			return true, s
		}
		ok, n := fileSeen(out.id)
		return ok, n
	}
	return false, s
}

// describeOps lists a history in the order of the calls, with the faults
// played while it ran, for a failure message.
func describeOps(model porcupine.Model, ops []porcupine.Operation, faults []porcupine.Annotation) string {
	ops = append([]porcupine.Operation(nil), ops...)
	sort.Slice(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	var b strings.Builder
	for _, f := range faults {
		if f.End >= ops[0].Call {
			fmt.Fprintf(&b, "  fault [%.3fs, %.3fs] %s\n", float64(f.Start)/1e9, float64(f.End)/1e9, f.Description)
		}
	}
	for _, op := range ops {
		ret := fmt.Sprintf("%.3fs", float64(op.Return)/1e9)
		if op.Return == math.MaxInt64 {
			ret = "end"
		}
		fmt.Fprintf(&b, "  client %d [%.3fs, %s] %s\n", op.ClientId, float64(op.Call)/1e9, ret, model.DescribeOperation(op.Input, op.Output))
	}
	return b.String()
}
