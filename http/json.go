package http

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/silo-dev/silo"
)

// maxJSONBytes bounds a JSON request body: the largest legitimate one, a
// complete with thousands of part ids, is far below it.
const maxJSONBytes = 1 << 20

// writeJSON answers with v as JSON. openai-go refuses a JSON route that answers
// with any other Content-Type, even on 200.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: every wire type marshals.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeFileList answers with the page l, encoding one File at a time into a
// small buffer: a page of 10,000 Files with long names is megabytes, and never
// held whole a second time as JSON. The bytes are those of FileListJSON.
func writeFileList(w http.ResponseWriter, l *silo.FileList) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"object":"list","data":[`)
	for i, f := range l.Files {
		if i > 0 {
			bw.WriteByte(',')
		}
		b, _ := json.Marshal(NewFileJSON(f)) // every field marshals
		bw.Write(b)
	}
	bw.WriteString(`],"first_id":`)
	var first, last *string
	if n := len(l.Files); n > 0 {
		first, last = &l.Files[0].ID, &l.Files[n-1].ID
	}
	b, _ := json.Marshal(first)
	bw.Write(b)
	bw.WriteString(`,"last_id":`)
	b, _ = json.Marshal(last)
	bw.Write(b)
	fmt.Fprintf(bw, `,"has_more":%t}`+"\n", l.HasMore)
	bw.Flush()
}

// decodeJSON reads the request's JSON object into v. Unknown fields are ignored,
// as the SDKs may send fields newer than ours; every other fault becomes an
// EINVALID that says what was wrong, with the field as param when there is one.
// Required fields are checked by the caller: v's fields are pointers, so that a
// missing field is told apart from a zero one.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonError(err)
		}
		return silo.Errorf(silo.EINVALID, "", "The request body has data after its JSON object; expected exactly one JSON object.")
	}
	return nil
}

// jsonError turns a decoding error into the client's error.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		big *http.MaxBytesError
	)
	var se *silo.Error
	switch {
	case errors.As(err, &se):
		return se // the body could not be read: it says why
	case errors.Is(err, io.EOF):
		return silo.Errorf(silo.EINVALID, "", "The request body is empty; expected a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return silo.Errorf(silo.EINVALID, "", "The request body ends in the middle of its JSON object; expected a complete JSON object.")
	case errors.As(err, &big):
		return silo.Errorf(silo.EINVALID, "", "The request body is larger than %d bytes; expected a small JSON object.", big.Limit)
	case errors.As(err, &syn):
		return silo.Errorf(silo.EINVALID, "", "We could not parse the JSON body of your request (%v, at byte %d); expected a JSON object.", syn, syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return silo.Errorf(silo.EINVALID, "", "The request body is a JSON %s; expected a JSON object.", typ.Value)
	case errors.As(err, &typ):
		return silo.Errorf(silo.EINVALID, typ.Field, "Invalid type for '%s': got a JSON %s, expected %s.", typ.Field, typ.Value, kindName(typ.Type))
	default:
		return silo.Errorf(silo.EINVALID, "", "We could not read the request body: %v.", err)
	}
}

// kindName names the JSON type a Go type decodes from, for error messages.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array of " + plural(kindName(t.Elem()))
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return fmt.Sprintf("a %s", t)
	}
}

// plural turns "a string" into "strings" for kindName's arrays.
func plural(s string) string {
	switch s {
	case "a string":
		return "strings"
	case "an integer":
		return "integers"
	case "an object":
		return "objects"
	default:
		return "values"
	}
}
