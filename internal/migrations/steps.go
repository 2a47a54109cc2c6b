// Package migrations reads the numbered SQL migrations that a metadata store
// embeds, for the sqlite and postgres stores alike.
package migrations

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Step is one migration file: NNNN_name.sql.
type Step struct {
	Version int
	Name    string
	SQL     string
}

// Steps returns the migrations in dir of fsys in order, checking that their
// numbers run 1, 2, 3… without gaps or repeats.
func Steps(fsys fs.FS, dir string) ([]Step, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var steps []Step
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", e.Name())
		}
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		steps = append(steps, Step{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(steps, func(a, b Step) int { return a.Version - b.Version })
	for i, st := range steps {
		if st.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %d", st.Name, i+1)
		}
	}
	if len(steps) == 0 {
		return nil, errors.New("no migrations")
	}
	return steps, nil
}
