package sqlite

import (
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // registers driverName with database/sql
	"github.com/silo-dev/silo"
)

// driverName is the database/sql driver: ncruces/go-sqlite3, SQLite compiled
// to Go without cgo, so that silo builds as one static binary. This file and
// the pragmas of dsn are all that know which driver it is.
const driverName = "sqlite3"

// translate turns driver errors a client may act on into *silo.Error, by
// their SQLite result code; every other error stays internal.
func translate(err error) error {
	var code sqlite3.ErrorCode
	if err == nil || !errors.As(err, &code) {
		return err
	}
	switch code {
	case sqlite3.FULL:
		return silo.Errorf(silo.ESTORAGEFULL, "", "The metadata store is out of space; try again once space is freed.")
	case sqlite3.BUSY, sqlite3.LOCKED:
		return silo.Errorf(silo.EUNAVAILABLE, "", "The metadata store is busy; try again shortly.")
	}
	return fmt.Errorf("sqlite: %w", err)
}

// translateWrite is translate for a write to the database in dir. The driver
// reports a write that found the disk full as an I/O error (SQLITE_IOERR, its
// file layer does not see ENOSPC through os.File's wrapping), so an I/O error
// on a volume with (almost) no free space is taken for a full disk.
func translateWrite(dir string, err error) error {
	var code sqlite3.ErrorCode
	if errors.As(err, &code) && code == sqlite3.IOERR && volumeFull(dir) {
		return silo.Errorf(silo.ESTORAGEFULL, "", "The metadata store is out of space; try again once space is freed.")
	}
	return translate(err)
}
