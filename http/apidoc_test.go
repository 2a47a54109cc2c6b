package http

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// apiDoc is the project's API reference, which must document every error the
// server can send.
const apiDoc = "../docs/API.md"

// docErrorRow is one row of the error table of docs/API.md.
type docErrorRow struct {
	line                    int
	status                  int
	typ, code, param, cases string
}

// docErrorRows returns the rows of the table whose header is
// "| case | status | type | code | param |" in doc.
func docErrorRows(t *testing.T, doc string) []docErrorRow {
	t.Helper()
	var rows []docErrorRow
	cols := map[string]int{}
	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = map[string]int{}
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if len(cols) == 0 {
			for j, c := range cells {
				cols[c] = j
			}
			continue
		}
		if _, ok := cols["code"]; !ok || len(cols) != 5 || len(cells) != 5 || strings.HasPrefix(cells[0], "---") {
			continue
		}
		status, _, _ := strings.Cut(cells[cols["status"]], " ")
		n, err := strconv.Atoi(status)
		if err != nil {
			t.Errorf("%s:%d: status %q is not a number", apiDoc, i+1, cells[cols["status"]])
			continue
		}
		rows = append(rows, docErrorRow{line: i + 1, status: n, typ: cells[cols["type"]],
			code: cells[cols["code"]], param: cells[cols["param"]], cases: cells[cols["case"]]})
	}
	return rows
}

// TestAPIDoc_EveryErrorDocumented fails when a row of errorTable has no row
// in docs/API.md's error table with its status, type and wire code (null for
// none), so that a new error cannot ship undocumented.
func TestAPIDoc_EveryErrorDocumented(t *testing.T) {
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	rows := docErrorRows(t, string(b))
	if len(rows) < len(errorTable) {
		t.Fatalf("%s: found %d rows of the error table (| case | status | type | code | param |), want at least %d", apiDoc, len(rows), len(errorTable))
	}
	for _, r := range errorTable {
		wantCode := "null"
		if r.wire != "" {
			wantCode = "`" + r.wire + "`"
		}
		found := false
		for _, d := range rows {
			if d.status == r.status && strings.Contains(d.typ, "`"+r.typ+"`") && strings.Contains(d.code, wantCode) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s documents no error with status %d, type %s and code %s (silo code %s)", apiDoc, r.status, r.typ, wantCode, r.code)
		}
	}
}
