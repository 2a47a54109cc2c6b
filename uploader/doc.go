// Package uploader sends a large file as an Upload of parallel parts, as
// `silo upload` does, to Silo or any server of the OpenAI Uploads API,
// OpenAI's included. It works over silo.UploadService: give it the HTTP
// client of package github.com/silo-dev/silo/http (or the service itself, in
// a test).
//
// An upload creates the Upload, streams the parts from an io.ReaderAt, at
// most Options.Parallel at a time, tries each request again after a failure
// that may pass (see Retryable), and completes the Upload with the parts in
// file order. With Options.MD5 it computes the MD5 digest of the file from
// the bytes the parts are read for anyway (one pass) and the server checks it.
//
// With Options.StateDir the acknowledged parts are recorded on disk as they
// come; if the upload is interrupted (its context cancelled, the process
// killed), an upload of the same source started later continues the same
// Upload and sends only the parts that were not acknowledged.
//
// A source that implements Stat, as *os.File does, is watched for changes:
// an upload whose file changed size or modification time while its parts
// went up is cancelled rather than completed from a mix of two versions
// (ErrSourceChanged), and a saved state of a file changed since is not
// resumed.
//
// # Memory
//
// Parts are streamed: without MD5 the uploader holds no part's bytes, only
// the HTTP transport's buffers of each request in flight. With MD5 the bytes
// of parts read ahead of the one being hashed are kept until it is: at most
// (w−1)×PartSize where w = min(Parallel, max(2, 256 MiB / PartSize)), which
// is less than 256 MiB (192 MiB with 64 MiB parts).
package uploader
