package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
)

func TestErrorTable(t *testing.T) {
	tests := []struct {
		code       string
		param      string
		status     int
		typ        string
		wireCode   string
		wantParam  string
		retry      string // x-should-retry
		retryAfter string
	}{
		{silo.EINVALID, "limit", 400, typeInvalid, "invalid_value", "limit", "", ""},
		{silo.EMISSING, "purpose", 400, typeInvalid, "missing_required_parameter", "purpose", "", ""},
		{silo.ENOTFOUND, "", 404, typeInvalid, "", "file_id", "", ""},
		{silo.ENOTFOUND, "file_id", 404, typeInvalid, "", "file_id", "", ""},
		{silo.EUNAUTHORIZED, "", 401, typeInvalid, "invalid_api_key", "", "", ""},
		{silo.EUPLOADTOOLARGE, "bytes", 400, typeInvalid, "upload_too_large", "bytes", "", ""},
		{silo.EPARTTOOLARGE, "data", 413, typeInvalid, "part_too_large", "data", "", ""},
		{silo.EFILETOOLARGE, "file", 413, typeInvalid, "file_too_large", "file", "", ""},
		{silo.EUPLOADCOMPLETED, "", 400, typeInvalid, "upload_completed", "", "", ""},
		{silo.EUPLOADCANCELLED, "", 400, typeInvalid, "upload_cancelled", "", "", ""},
		{silo.EUPLOADEXPIRED, "", 400, typeInvalid, "upload_expired", "", "", ""},
		{silo.EPARTNOTFOUND, "part_ids", 400, typeInvalid, "part_not_found", "part_ids", "", ""},
		{silo.EDUPLICATEPART, "part_ids", 400, typeInvalid, "duplicate_part", "part_ids", "", ""},
		{silo.EBYTESMISMATCH, "part_ids", 400, typeInvalid, "bytes_mismatch", "part_ids", "", ""},
		{silo.EMD5MISMATCH, "md5", 400, typeInvalid, "md5_mismatch", "md5", "", ""},
		{silo.ERANGE, "", 416, typeInvalid, "range_not_satisfiable", "", "", ""},
		{silo.ESTORAGEFULL, "", 507, typeServer, "insufficient_storage", "", "false", ""},
		{silo.EQUOTA, "", 429, typeQuota, "insufficient_quota", "", "false", ""},
		{silo.EUNAVAILABLE, "", 503, typeServer, "service_unavailable", "", "", "1"},
		{silo.EINTERNAL, "secret", 500, typeServer, "", "", "false", ""},
		{"no_such_code", "x", 500, typeServer, "", "", "false", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.param, func(t *testing.T) {
			files := &fakeFiles{get: func(ctx context.Context, id string) (*silo.File, error) {
				return nil, silo.Errorf(tt.code, tt.param, "the message of %s", tt.code)
			}}
			h, _ := newTestHandler(t, nil, files)
			rec := serve(t, h, "GET", "/v1/files/file-x", nil)
			if rec.Code != tt.status {
				t.Errorf("status: got %d, want %d", rec.Code, tt.status)
			}
			msg, typ, param, code := errorBody(t, rec)
			if typ != tt.typ {
				t.Errorf("type: got %q, want %q", typ, tt.typ)
			}
			if code != tt.wireCode {
				t.Errorf("code: got %q, want %q", code, tt.wireCode)
			}
			if param != tt.wantParam {
				t.Errorf("param: got %q, want %q", param, tt.wantParam)
			}
			wantMsg := "the message of " + tt.code
			if tt.status == 500 {
				wantMsg = "internal error"
			}
			if msg != wantMsg {
				t.Errorf("message: got %q, want %q", msg, wantMsg)
			}
			if got := rec.Header().Get("X-Should-Retry"); got != tt.retry {
				t.Errorf("x-should-retry: got %q, want %q", got, tt.retry)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.retryAfter)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			if rec.Header().Get("X-Request-Id") == "" {
				t.Errorf("x-request-id missing")
			}
		})
	}
}

func TestErrorTable_NotFoundParam(t *testing.T) {
	notFound := silo.Errorf(silo.ENOTFOUND, "", "No such upload.")
	uploads := &fakeUploads{cancel: func(ctx context.Context, id string) (*silo.Upload, error) {
		return nil, notFound
	}}
	h, _ := newTestHandler(t, uploads, nil)
	rec := serve(t, h, "POST", "/v1/uploads/upload_x/cancel", nil)
	wantError(t, rec, 404, "", "upload_id")
}

func TestErrorTable_InternalLoggedOnce(t *testing.T) {
	files := &fakeFiles{get: func(ctx context.Context, id string) (*silo.File, error) {
		return nil, fmt.Errorf("query files: %w", errors.New("disk on fire"))
	}}
	h, logs := newTestHandler(t, nil, files)
	rec := serve(t, h, "GET", "/v1/files/file-x", nil)
	wantError(t, rec, 500, "", "")
	id := rec.Header().Get("X-Request-Id")
	if got := strings.Count(logs.String(), "disk on fire"); got != 1 {
		t.Errorf("log mentions the error %d times, want 1:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "request_id="+id+" ") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("log has no error line with request id %s:\n%s", id, logs)
	}
	if strings.Contains(rec.Body.String(), "disk on fire") {
		t.Errorf("body leaks the internal error: %s", rec.Body)
	}
}

func TestCodeFromWire(t *testing.T) {
	for _, row := range errorTable {
		if row.local {
			continue
		}
		var wire *string
		if row.wire != "" {
			wire = &row.wire
		}
		if got := codeFromWire(row.status, wire); got != row.code {
			t.Errorf("codeFromWire(%d, %q): got %q, want %q", row.status, row.wire, got, row.code)
		}
	}
	other := "some_new_code"
	tests := []struct {
		status int
		wire   *string
		want   string
	}{
		{400, nil, silo.EINVALID},
		{405, nil, silo.EINVALID},
		{409, nil, silo.EINVALID},
		{502, nil, silo.EINTERNAL},
		{429, nil, silo.EQUOTA},
		{400, &other, "some_new_code"},
	}
	for _, tt := range tests {
		if got := codeFromWire(tt.status, tt.wire); got != tt.want {
			t.Errorf("codeFromWire(%d, %v): got %q, want %q", tt.status, tt.wire, got, tt.want)
		}
	}
}

func TestErrorTable_EveryCodeHasARow(t *testing.T) {
	codes := []string{silo.EINVALID, silo.EMISSING, silo.ENOTFOUND, silo.EUNAUTHORIZED,
		silo.EUPLOADTOOLARGE, silo.EPARTTOOLARGE, silo.EFILETOOLARGE, silo.EUPLOADCOMPLETED,
		silo.EUPLOADCANCELLED, silo.EUPLOADEXPIRED, silo.EPARTNOTFOUND, silo.EDUPLICATEPART,
		silo.EBYTESMISMATCH, silo.EMD5MISMATCH, silo.ESTORAGEFULL, silo.EUNAVAILABLE,
		silo.ERANGE, silo.EQUOTA, silo.EINTERNAL}
	for _, c := range codes {
		if got := rowFor(c); got.code != c {
			t.Errorf("rowFor(%q): got the row of %q, want its own", c, got.code)
		}
	}
	if got, want := rowFor(silo.EINTERNAL).status, http.StatusInternalServerError; got != want {
		t.Errorf("internal status: got %d, want %d", got, want)
	}
}

func TestNewErrorJSON(t *testing.T) {
	tests := []struct {
		in                *silo.Error
		typ, code, param  string
		codeNull, paramNl bool
	}{
		{&silo.Error{Code: silo.ENOTFOUND, Message: "m", Param: "file_id"}, typeInvalid, "", "file_id", true, false},
		{&silo.Error{Code: silo.EBYTESMISMATCH, Message: "m", Param: "part_ids"}, typeInvalid, "bytes_mismatch", "part_ids", false, false},
		{&silo.Error{Code: silo.ESTORAGEFULL, Message: "m"}, typeServer, "insufficient_storage", "", false, true},
		{&silo.Error{Code: silo.EQUOTA, Message: "m"}, typeQuota, "insufficient_quota", "", false, true},
		{&silo.Error{Code: silo.EINTERNAL, Message: "internal error"}, typeServer, "", "", true, true},
		{&silo.Error{Code: "brand_new", Message: "m"}, typeInvalid, "brand_new", "", false, true},
	}
	for _, tt := range tests {
		e := NewErrorJSON(tt.in).Error
		if e.Type != tt.typ || e.Message != tt.in.Message {
			t.Errorf("%s: got type %q message %q, want %q %q", tt.in.Code, e.Type, e.Message, tt.typ, tt.in.Message)
		}
		if (e.Code == nil) != tt.codeNull || e.Code != nil && *e.Code != tt.code {
			t.Errorf("%s: got code %v, want %q (null %v)", tt.in.Code, e.Code, tt.code, tt.codeNull)
		}
		if (e.Param == nil) != tt.paramNl || e.Param != nil && *e.Param != tt.param {
			t.Errorf("%s: got param %v, want %q", tt.in.Code, e.Param, tt.param)
		}
	}
}
