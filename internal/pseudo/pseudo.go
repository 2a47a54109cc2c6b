// Package pseudo makes test data: bytes that differ from part to part and
// from seed to seed, the same on every run, without compressing well.
package pseudo

// Bytes returns n bytes of the xorshift sequence of seed.
func Bytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
