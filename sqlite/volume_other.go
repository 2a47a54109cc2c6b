//go:build !linux

package sqlite

// volumeFull cannot tell a full volume off Linux: an I/O error stays internal.
func volumeFull(string) bool { return false }
