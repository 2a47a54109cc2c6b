package silo

import (
	"fmt"
	"strconv"
)

// Quota bounds what one project may hold; a zero field is no limit. The
// metadata store checks it in the same compare-and-set as the change that
// would go over it, so that no race lets a project past it.
type Quota struct {
	// Bytes bounds Usage.Bytes: the bytes of Files and of the recorded parts
	// of pending Uploads.
	Bytes int64
	// Files bounds Usage.Files.
	Files int64
	// PendingUploads bounds Usage.PendingUploads.
	PendingUploads int64
}

// Usage is what a project holds, as the metadata store counts it: the records
// not yet deleted, whatever their expiry says, until the reaper ends them.
type Usage struct {
	// Bytes is the bytes of the Files not deleted plus those of the recorded
	// parts of Uploads stored as pending.
	Bytes int64
	// Files is the number of Files not deleted.
	Files int64
	// PendingUploads is the number of Uploads stored as pending.
	PendingUploads int64
}

// Add returns u with d added to each count.
func (u Usage) Add(d Usage) Usage {
	return Usage{Bytes: u.Bytes + d.Bytes, Files: u.Files + d.Files, PendingUploads: u.PendingUploads + d.PendingUploads}
}

// Check returns EQUOTA if a project that holds used would hold more than q
// allows once add is added; nil otherwise. Only the counts that add raises are
// checked, so that what frees room is never refused. To refuse a request
// before its size is known, when the project is already at its quota, check
// an add of one byte.
func (q Quota) Check(used, add Usage) error {
	for _, c := range []struct {
		limit, used, add int64
		what, flag, free string
	}{
		{q.Bytes, used.Bytes, add.Bytes, "bytes", "--quota-bytes", "delete files or cancel uploads to free space"},
		{q.Files, used.Files, add.Files, "files", "--quota-files", "delete files to make room"},
		{q.PendingUploads, used.PendingUploads, add.PendingUploads, "pending uploads", "--quota-pending-uploads", "complete or cancel uploads to make room"},
	} {
		if c.limit <= 0 || c.add <= 0 || c.used+c.add <= c.limit {
			continue
		}
		verb := "has"
		if c.what == "bytes" {
			verb = "stores"
		}
		more := ""
		if c.used < c.limit {
			more = fmt.Sprintf(", and %s more would go over it", comma(c.add))
		}
		return Errorf(EQUOTA, "", "Project quota exceeded: this project %s %s of its %s %s (%s)%s; %s.",
			verb, comma(c.used), comma(c.limit), c.what, c.flag, more, c.free)
	}
	return nil
}

// comma formats n with thousands separators: 1,073,741,824.
func comma(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
