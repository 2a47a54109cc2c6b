package silo_test

import (
	"testing"

	"github.com/silo-dev/silo"
)

func TestQuota_Check(t *testing.T) {
	gib := int64(1 << 30)
	tests := []struct {
		name      string
		q         silo.Quota
		used, add silo.Usage
		want      string // the message, "" for no error
	}{
		{"no quota", silo.Quota{}, silo.Usage{Bytes: 1 << 40, Files: 1e6, PendingUploads: 1e6}, silo.Usage{Bytes: 1, Files: 1, PendingUploads: 1}, ""},
		{"bytes up to the limit", silo.Quota{Bytes: 100}, silo.Usage{Bytes: 60}, silo.Usage{Bytes: 40}, ""},
		{"bytes at the limit", silo.Quota{Bytes: gib}, silo.Usage{Bytes: gib}, silo.Usage{Bytes: 1},
			"Project quota exceeded: this project stores 1,073,741,824 of its 1,073,741,824 bytes (--quota-bytes); delete files or cancel uploads to free space."},
		{"bytes over with this add", silo.Quota{Bytes: 1000}, silo.Usage{Bytes: 900}, silo.Usage{Bytes: 2000},
			"Project quota exceeded: this project stores 900 of its 1,000 bytes (--quota-bytes), and 2,000 more would go over it; delete files or cancel uploads to free space."},
		{"files at the limit", silo.Quota{Files: 3}, silo.Usage{Files: 3}, silo.Usage{Files: 1},
			"Project quota exceeded: this project has 3 of its 3 files (--quota-files); delete files to make room."},
		{"pending uploads at the limit", silo.Quota{PendingUploads: 10}, silo.Usage{PendingUploads: 10}, silo.Usage{PendingUploads: 1},
			"Project quota exceeded: this project has 10 of its 10 pending uploads (--quota-pending-uploads); complete or cancel uploads to make room."},
		{"what frees room, over every quota", silo.Quota{Bytes: 1, Files: 1, PendingUploads: 1}, silo.Usage{Bytes: 50, Files: 5, PendingUploads: 5},
			silo.Usage{Bytes: -10, Files: 1, PendingUploads: -1}, "Project quota exceeded: this project has 5 of its 1 files (--quota-files); delete files to make room."},
		{"only what is raised is checked", silo.Quota{Bytes: 1, Files: 10, PendingUploads: 1}, silo.Usage{Bytes: 50, Files: 5, PendingUploads: 5},
			silo.Usage{Bytes: -10, Files: 1, PendingUploads: -1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Check(tt.used, tt.add)
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if got := silo.ErrorCode(err); got != silo.EQUOTA {
				t.Fatalf("got %v (code %q), want code %q", err, got, silo.EQUOTA)
			}
			if got := silo.ErrorMessage(err); got != tt.want {
				t.Errorf("message:\ngot  %s\nwant %s", got, tt.want)
			}
			if e := err.(*silo.Error); e.Param != "" {
				t.Errorf("param: got %q, want none", e.Param)
			}
		})
	}
}
