package silo

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckMD5(t *testing.T) {
	tests := []struct {
		in   string
		want string // error code, "" for valid
	}{
		{"", ""},
		{"d41d8cd98f00b204e9800998ecf8427e", ""},
		{"D41D8CD98F00B204E9800998ECF8427E", ""},
		{"d41d8cd98f00b204e9800998ecf8427", EINVALID},   // 31 digits
		{"d41d8cd98f00b204e9800998ecf8427e0", EINVALID}, // 33
		{"g41d8cd98f00b204e9800998ecf8427e", EINVALID},
		{"d41d8cd98f00b204e9800998ecf842 e", EINVALID},
		{strings.Repeat("a", 1<<20), EINVALID},
	}
	for _, tt := range tests {
		err := CheckMD5(tt.in)
		if got := ErrorCode(err); got != tt.want {
			t.Errorf("CheckMD5(%.40q): got %v, want code %q", tt.in, err, tt.want)
		}
		if err != nil && len(err.Error()) > 2*MaxEchoBytes+200 {
			t.Errorf("CheckMD5(%.40q): a message of %d bytes", tt.in, len(err.Error()))
		}
	}
}

func TestValidBlobKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"parts/part_abc", true},
		{"files/file-x_Y-9", true},
		{"a", true},
		{"", false},
		{"/parts/a", false},
		{"parts/", false},
		{"parts//a", false},
		{"parts/../a", false},
		{"parts/a.b", false},
		{"parts/a b", false},
		{"parts/é", false},
	}
	for _, tt := range tests {
		if got := ValidBlobKey(tt.key); got != tt.want {
			t.Errorf("ValidBlobKey(%q): got %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestCheckFileQuery(t *testing.T) {
	tests := []struct {
		name      string
		in        FileQuery
		want      FileQuery
		wantCode  string
		wantParam string
	}{
		{"defaults", FileQuery{}, FileQuery{Limit: MaxListLimit, Order: "desc"}, "", ""},
		{"asc", FileQuery{Limit: 5, Order: "asc"}, FileQuery{Limit: 5, Order: "asc"}, "", ""},
		{"limit 1", FileQuery{Limit: 1}, FileQuery{Limit: 1, Order: "desc"}, "", ""},
		{"limit max", FileQuery{Limit: MaxListLimit}, FileQuery{Limit: MaxListLimit, Order: "desc"}, "", ""},
		{"limit over", FileQuery{Limit: MaxListLimit + 1}, FileQuery{}, EINVALID, "limit"},
		{"limit negative", FileQuery{Limit: -1}, FileQuery{}, EINVALID, "limit"},
		{"bad order", FileQuery{Order: "up"}, FileQuery{}, EINVALID, "order"},
		{"purpose", FileQuery{Purpose: "batch"}, FileQuery{Purpose: "batch", Limit: MaxListLimit, Order: "desc"}, "", ""},
		// OpenAI's own purposes, and any other string, filter too: to nothing.
		{"purpose of OpenAI's", FileQuery{Purpose: "batch_output"}, FileQuery{Purpose: "batch_output", Limit: MaxListLimit, Order: "desc"}, "", ""},
		{"purpose unknown", FileQuery{Purpose: "nope"}, FileQuery{Purpose: "nope", Limit: MaxListLimit, Order: "desc"}, "", ""},
		{"after kept", FileQuery{After: "file-x"}, FileQuery{After: "file-x", Limit: MaxListLimit, Order: "desc"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.in
			err := CheckFileQuery(&q)
			var se *Error
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if q != tt.want {
					t.Errorf("got %+v, want %+v", q, tt.want)
				}
				return
			}
			if ErrorCode(err) != tt.wantCode || !asError(err, &se) || se.Param != tt.wantParam {
				t.Errorf("got %v, want %s for %s", err, tt.wantCode, tt.wantParam)
			}
		})
	}
}

func asError(err error, se **Error) bool {
	e, ok := err.(*Error)
	*se = e
	return ok
}

func TestFileExpiresAt(t *testing.T) {
	const at = 1_800_000_000
	tests := []struct {
		purpose string
		after   int64
		want    int64
	}{
		{"user_data", 0, 0},
		{"assistants", 0, 0},
		{"batch", 0, at + 30*24*3600},
		{"batch", 3600, at + 3600},
		{"user_data", 7200, at + 7200},
	}
	for _, tt := range tests {
		if got := FileExpiresAt(tt.purpose, at, tt.after); got != tt.want {
			t.Errorf("FileExpiresAt(%q, %d): got %d, want %d", tt.purpose, tt.after, got, tt.want)
		}
	}
}

func TestCheckFilename(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"a.txt", ""},
		{strings.Repeat("a", MaxFilenameBytes), ""},
		{strings.Repeat("é", MaxFilenameBytes/2), ""},
		{strings.Repeat("a", MaxFilenameBytes+1), EINVALID},
		{strings.Repeat("é", MaxFilenameBytes/2) + "a", EINVALID},
		{"bad\xff.txt", EINVALID},
	}
	for _, tt := range tests {
		err := CheckFilename(tt.name, "file")
		if got := ErrorCode(err); got != tt.want {
			t.Errorf("CheckFilename(%d bytes): got %v, want code %q", len(tt.name), err, tt.want)
		}
		if e, ok := err.(*Error); ok && e.Param != "file" {
			t.Errorf("param: got %q, want file", e.Param)
		}
	}
}

func TestClip(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("a", MaxEchoBytes), strings.Repeat("a", MaxEchoBytes+1), strings.Repeat("日", 500)} {
		got := Clip(s)
		if len(s) <= MaxEchoBytes {
			if got != s {
				t.Errorf("Clip(%d bytes) changed a short string", len(s))
			}
			continue
		}
		if len(got) > MaxEchoBytes+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("Clip(%d bytes) = %d bytes %q", len(s), len(got), got)
		}
	}
}

func TestCheckFileFormat(t *testing.T) {
	tests := []struct {
		purpose, filename string
		ok                bool
	}{
		{"batch", "requests.jsonl", true},
		{"batch", "REQUESTS.JSONL", true},
		{"batch", "requests.json", false},
		{"batch", "requests.csv", false},
		{"batch", "jsonl", false},
		{"batch", "", false},
		{"fine-tune", "train.jsonl", true},
		{"fine-tune", "train.txt", false},
		{"user_data", "notes.pdf", true},
		{"assistants", "data.csv", true},
		{"evals", "anything", true},
	}
	for _, tt := range tests {
		err := CheckFileFormat(tt.purpose, tt.filename, "file")
		if tt.ok {
			if err != nil {
				t.Errorf("%s %q: got %v, want nil", tt.purpose, tt.filename, err)
			}
			continue
		}
		var se *Error
		if !asError(err, &se) || se.Code != EFILEFORMAT || se.Param != "file" {
			t.Errorf("%s %q: got %v, want %s on file", tt.purpose, tt.filename, err, EFILEFORMAT)
			continue
		}
		if !strings.Contains(se.Message, "'"+tt.purpose+"'") || !strings.Contains(se.Message, ".jsonl") {
			t.Errorf("%s %q: the message %q names neither the purpose nor .jsonl", tt.purpose, tt.filename, se.Message)
		}
	}
	if err := CheckUploadCreate(&UploadCreate{Filename: "x.csv", Purpose: "fine-tune", Bytes: 1, MimeType: "text/csv"}); ErrorCode(err) != EFILEFORMAT {
		t.Errorf("CheckUploadCreate of a .csv for fine-tune: got %v, want %s", err, EFILEFORMAT)
	}
}

func TestMimeType(t *testing.T) {
	for name, want := range map[string]string{
		"train.jsonl":      "application/jsonl",
		"TRAIN.JSONL":      "application/jsonl",
		"data.json":        "application/json",
		"table.csv":        "text/csv",
		"notes.txt":        "text/plain",
		"paper.pdf":        "application/pdf",
		"rows.parquet":     "application/vnd.apache.parquet",
		"photo.jpg":        "image/jpeg",
		"photo.jpeg":       "image/jpeg",
		"shot.png":         "image/png",
		"talk.mp3":         "audio/mpeg",
		"talk.wav":         "audio/wav",
		"talk.m4a":         "audio/mp4",
		"page.html":        "text/html",
		"dir.v2/README":    "application/octet-stream",
		"archive.unknownx": "application/octet-stream",
		"noext":            "application/octet-stream",
		`C:\data\x.jsonl`:  "application/jsonl",
	} {
		if got := MimeType(name); got != want {
			t.Errorf("MimeType(%q) = %q, want %q", name, got, want)
		}
	}
}
