package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/silo-dev/silo"
)

// codeMethodNotAllowed is the http package's own code for a known path asked
// with the wrong method; silo has no such code because no service returns it.
const codeMethodNotAllowed = "method_not_allowed"

// errorRow is one line of the error table: a silo code and how it looks on the
// wire. A wire code of "" is sent as null.
type errorRow struct {
	code   string
	status int
	typ    string
	wire   string
	// local rows are the http package's own; the client never maps back to them.
	local bool
}

const (
	typeInvalid = "invalid_request_error"
	typeServer  = "server_error"
	typeQuota   = "insufficient_quota"
)

// errorTable is the one mapping between silo codes and the OpenAI envelope, used
// by the handler to answer and by the client to map answers back. For a null
// wire code the client takes the first row of the status, so order matters.
var errorTable = []errorRow{
	{code: silo.EUNAUTHORIZED, status: 401, typ: typeInvalid, wire: "invalid_api_key"},
	{code: silo.ENOTFOUND, status: 404, typ: typeInvalid},
	{code: silo.EINVALID, status: 400, typ: typeInvalid, wire: "invalid_value"},
	{code: silo.EMISSING, status: 400, typ: typeInvalid, wire: "missing_required_parameter"},
	{code: silo.EUPLOADTOOLARGE, status: 400, typ: typeInvalid, wire: "upload_too_large"},
	{code: silo.EUPLOADCOMPLETED, status: 400, typ: typeInvalid, wire: "upload_completed"},
	{code: silo.EUPLOADCANCELLED, status: 400, typ: typeInvalid, wire: "upload_cancelled"},
	{code: silo.EUPLOADEXPIRED, status: 400, typ: typeInvalid, wire: "upload_expired"},
	{code: silo.EPARTNOTFOUND, status: 400, typ: typeInvalid, wire: "part_not_found"},
	{code: silo.EDUPLICATEPART, status: 400, typ: typeInvalid, wire: "duplicate_part"},
	{code: silo.EBYTESMISMATCH, status: 400, typ: typeInvalid, wire: "bytes_mismatch"},
	{code: silo.EMD5MISMATCH, status: 400, typ: typeInvalid, wire: "md5_mismatch"},
	{code: silo.EFILEFORMAT, status: 400, typ: typeInvalid, wire: "invalid_file_format"},
	{code: silo.EPARTTOOLARGE, status: 413, typ: typeInvalid, wire: "part_too_large"},
	{code: silo.EFILETOOLARGE, status: 413, typ: typeInvalid, wire: "file_too_large"},
	{code: silo.ERANGE, status: 416, typ: typeInvalid, wire: "range_not_satisfiable"},
	{code: silo.EQUOTA, status: 429, typ: typeQuota, wire: "insufficient_quota"},
	{code: codeMethodNotAllowed, status: 405, typ: typeInvalid, local: true},
	{code: codeStalled, status: 408, typ: typeInvalid, local: true},
	{code: silo.EINTERNAL, status: 500, typ: typeServer},
	{code: silo.EUNAVAILABLE, status: 503, typ: typeServer, wire: "service_unavailable"},
	{code: silo.ESTORAGEFULL, status: 507, typ: typeServer, wire: "insufficient_storage"},
}

// rowFor returns the table row of a silo code; unknown codes are internal.
func rowFor(code string) errorRow {
	if r, ok := lookupRow(code); ok {
		return r
	}
	r, _ := lookupRow(silo.EINTERNAL)
	return r
}

// lookupRow returns the table row of a silo code, if it has one.
func lookupRow(code string) (errorRow, bool) {
	for _, r := range errorTable {
		if r.code == code {
			return r, true
		}
	}
	return errorRow{}, false
}

// NewErrorJSON returns the envelope of se with the type and code the server
// sends for it, so that the CLI prints an error as the server said it. A code
// the table does not know (one a newer server sent) is kept as the wire code.
func NewErrorJSON(se *silo.Error) ErrorJSON {
	row, ok := lookupRow(se.Code)
	if !ok {
		row = errorRow{code: se.Code, typ: typeInvalid, wire: se.Code}
	}
	return envelope(row, se.Message, se.Param)
}

// codeFromWire maps an envelope back to a silo code: by its wire code when it
// has one we know, else by status, else any 4xx is invalid and 5xx internal.
// An unknown wire code is kept as it is: the caller still sees what was said.
func codeFromWire(status int, wire *string) string {
	if wire != nil && *wire != "" {
		for _, r := range errorTable {
			if r.wire == *wire && !r.local {
				return r.code
			}
		}
		return *wire
	}
	for _, r := range errorTable {
		if r.status == status && !r.local {
			return r.code
		}
	}
	if status >= 500 {
		return silo.EINTERNAL
	}
	return silo.EINVALID
}

// envelope returns the error envelope of row with message and param.
func envelope(row errorRow, message, param string) ErrorJSON {
	e := ErrorJSON{Error: ErrorBodyJSON{Message: message, Type: row.typ}}
	if param != "" {
		e.Error.Param = &param
	}
	if row.wire != "" {
		w := row.wire
		e.Error.Code = &w
	}
	return e
}

// writeError answers with the envelope of err. An error that is not a
// *silo.Error is internal: it is logged here, once, with the request id, and
// the client sees only "internal error". A not-found error without a param
// gets idParam (upload_id or file_id), which only the handler knows.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, idParam string) {
	var se *silo.Error
	if errors.As(err, &se) {
		if _, known := lookupRow(se.Code); !known || se.Code == silo.EINTERNAL {
			// An error that says "internal", or has a code we cannot send, is
			// treated as any other unexpected error: logged here, and its
			// message kept from the client.
			se = nil
		}
	}
	st := stateOf(r.Context())
	if se == nil {
		if st != nil {
			// The request's log line carries the cause.
			st.cause = err
		} else if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client went away; there is nobody to answer and nothing broke.
			log.Info("request canceled", "request_id", RequestID(r.Context()), "err", err)
		} else {
			log.Error("internal error", "request_id", RequestID(r.Context()),
				"method", silo.Clip(r.Method), "path", silo.Clip(r.URL.Path), "err", err)
		}
		se = &silo.Error{Code: silo.EINTERNAL}
	}
	row := rowFor(se.Code)
	if st != nil {
		st.code = row.code
		if row.status >= 500 && st.cause == nil {
			st.cause = err // a 503 or 507 line says which store, and why
		}
	}
	msg, param := se.Message, se.Param
	if row.code == silo.EINTERNAL {
		msg, param = "internal error", ""
	}
	if row.code == silo.ENOTFOUND && param == "" {
		param = idParam
	}
	if msg == "" {
		msg = http.StatusText(row.status) + "."
	}
	if b, ok := r.Body.(*requestBody); ok {
		b.refuse(w, r, row.code)
	}
	h := w.Header()
	switch {
	case row.code == silo.EUNAVAILABLE:
		// The SDKs retry 503 anyway; Retry-After paces them.
		h.Set("Retry-After", "1")
	case row.status >= 500, row.code == silo.EQUOTA:
		// Retrying cannot help a full disk, a bug or a project over its
		// quota (the SDKs retry any other 429), and every retry of a part
		// re-sends up to 64 MiB.
		h.Set("X-Should-Retry", "false")
	}
	writeJSON(w, row.status, envelope(row, msg, param))
}
