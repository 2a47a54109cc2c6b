package silo

import (
	"mime"
	"path"
	"strings"
)

// mimeTypes are the media types of the files people send to the Files API,
// by lower-case extension. Go's own table knows only a few of these and fills
// the rest from the machine's /etc/mime.types, when there is one, so the same
// file would get another mime_type on another machine; this table wins.
var mimeTypes = map[string]string{
	".jsonl":   "application/jsonl",
	".json":    "application/json",
	".csv":     "text/csv",
	".tsv":     "text/tab-separated-values",
	".txt":     "text/plain",
	".md":      "text/markdown",
	".html":    "text/html",
	".htm":     "text/html",
	".xml":     "application/xml",
	".pdf":     "application/pdf",
	".parquet": "application/vnd.apache.parquet",
	".docx":    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pptx":    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".png":     "image/png",
	".jpg":     "image/jpeg",
	".jpeg":    "image/jpeg",
	".gif":     "image/gif",
	".webp":    "image/webp",
	".mp3":     "audio/mpeg",
	".wav":     "audio/wav",
	".m4a":     "audio/mp4",
	".flac":    "audio/flac",
	".ogg":     "audio/ogg",
	".mp4":     "video/mp4",
	".webm":    "video/webm",
	".zip":     "application/zip",
	".gz":      "application/gzip",
	".tar":     "application/x-tar",
}

// MimeType returns the media type of a file by its name's extension, as a
// client fills in an Upload's mime_type: the table above, else Go's (without
// parameters such as charset), else application/octet-stream.
func MimeType(filename string) string {
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(filename, `\`, "/")))
	if t, ok := mimeTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}
