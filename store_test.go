package silo

import "testing"

func TestPartLimits_Check(t *testing.T) {
	m := PartLimits{Bytes: 100, Count: 3}
	for _, tc := range []struct {
		parts int
		total int64
		want  string
	}{
		{0, 100, ""}, {2, 100, ""}, {3, 10, EUPLOADTOOLARGE}, {0, 101, EUPLOADTOOLARGE},
	} {
		if got := ErrorCode(m.Check("upload_x", tc.parts, tc.total)); got != tc.want {
			t.Errorf("Check(%d parts, %d bytes) = %q, want %q", tc.parts, tc.total, got, tc.want)
		}
	}
}
