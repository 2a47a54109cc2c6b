package s3

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Ping asks the endpoint whether the bucket is there (HeadBucket), with one
// attempt: a probe that retries only answers later.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	return err
}
