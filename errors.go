package silo

import (
	"errors"
	"fmt"
)

// Error codes. Most are the OpenAI envelope's code; ENOTFOUND and EINTERNAL have
// no code on the wire. The http package maps each to a status and error type.
const (
	EINVALID         = "invalid_value"
	EMISSING         = "missing_required_parameter"
	ENOTFOUND        = "not_found"
	EUNAUTHORIZED    = "invalid_api_key"
	EUPLOADTOOLARGE  = "upload_too_large"
	EPARTTOOLARGE    = "part_too_large"
	EFILETOOLARGE    = "file_too_large"
	EUPLOADCOMPLETED = "upload_completed"
	EUPLOADCANCELLED = "upload_cancelled"
	EUPLOADEXPIRED   = "upload_expired"
	EPARTNOTFOUND    = "part_not_found"
	EDUPLICATEPART   = "duplicate_part"
	EBYTESMISMATCH   = "bytes_mismatch"
	EMD5MISMATCH     = "md5_mismatch"
	ESTORAGEFULL     = "insufficient_storage"
	EQUOTA           = "insufficient_quota"
	EFILEFORMAT      = "invalid_file_format"
	EUNAVAILABLE     = "service_unavailable"
	ERANGE           = "range_not_satisfiable"
	EINTERNAL        = "internal"
)

// Error is an error a client may see: a code, a message a person can act on, and
// the request parameter at fault ("" for none). Any other error is internal.
type Error struct {
	Code    string
	Message string
	Param   string
}

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("silo: %s (%s): %s", e.Code, e.Param, e.Message)
	}
	return fmt.Sprintf("silo: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code, parameter and formatted message.
func Errorf(code, param, format string, args ...any) *Error {
	return &Error{Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: its *Error's code, or EINTERNAL for any
// other non-nil error, or "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of err's *Error, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// NotPendingError returns the error for acting on an Upload in status s.
func NotPendingError(id string, s UploadStatus) *Error {
	switch s {
	case StatusCompleted:
		return Errorf(EUPLOADCOMPLETED, "", "Upload %s is already completed; it takes no more parts and no other part list.", id)
	case StatusCancelled:
		return Errorf(EUPLOADCANCELLED, "", "Upload %s was cancelled; create a new upload.", id)
	default:
		return Errorf(EUPLOADEXPIRED, "", "Upload %s has expired; create a new upload.", id)
	}
}
