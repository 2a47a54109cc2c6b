package inmem_test

import (
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/storetest"
)

func TestMetaStore(t *testing.T) {
	storetest.MetaStore(t, func(t *testing.T) silo.MetaStore { return inmem.NewMetaStore() })
}
