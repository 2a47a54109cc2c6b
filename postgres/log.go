package postgres

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/tracelog"
)

// tracer returns a pgx tracer that sends pgx's log lines (each query, each
// connection) to log at debug, or nil when log would drop them anyway, so
// that a server not at debug pays nothing.
func tracer(log *slog.Logger) *tracelog.TraceLog {
	if log == nil || !log.Enabled(context.Background(), slog.LevelDebug) {
		return nil
	}
	return &tracelog.TraceLog{
		LogLevel: tracelog.LogLevelDebug,
		Logger: tracelog.LoggerFunc(func(ctx context.Context, level tracelog.LogLevel, msg string, data map[string]any) {
			attrs := make([]slog.Attr, 0, len(data)+1)
			attrs = append(attrs, slog.String("pgx_level", level.String()))
			for k, v := range data {
				attrs = append(attrs, slog.Any(k, v))
			}
			log.LogAttrs(ctx, slog.LevelDebug, "pgx: "+msg, attrs...)
		}),
	}
}
