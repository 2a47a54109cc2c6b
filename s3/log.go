package s3

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger sends the AWS SDK's log lines to an slog.Logger, at debug: they
// are the SDK's own notes (retries, deprecations), not events of Silo.
type sdkLogger struct {
	log *slog.Logger
	ctx context.Context
}

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if !l.log.Enabled(l.ctx, slog.LevelDebug) {
		return
	}
	l.log.LogAttrs(l.ctx, slog.LevelDebug, "aws-sdk: "+fmt.Sprintf(format, v...),
		slog.String("classification", string(c)))
}

// WithContext gives the SDK's lines of one call that call's context.
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{log: l.log, ctx: ctx}
}
