package s3

import (
	"crypto/md5"
	"encoding/base64"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The checksums a store sends with the bytes it writes, which the server
// checks before it stores them: CRC32 (the default; the SDK computes it as
// it sends) or, for servers that take no CRC32 checksums (s3://…?checksum=md5),
// Content-MD5, computed here over each buffer.
const (
	checksumCRC32 = "crc32"
	checksumMD5   = "md5"
)

// checksumAlgorithm is the algorithm to name in a multipart upload's requests.
func (s *Store) checksumAlgorithm() types.ChecksumAlgorithm {
	if s.checksum == checksumMD5 {
		return ""
	}
	return types.ChecksumAlgorithmCrc32
}

// contentMD5 is the Content-MD5 header of a request that sends b, or nil.
func (s *Store) contentMD5(b []byte) *string {
	if s.checksum != checksumMD5 {
		return nil
	}
	sum := md5.Sum(b)
	return aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}
