package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// print writes v, a wire object, on stdout in the --format chosen: json is
// indented by two spaces, jsonl is one line, pretty is a plain listing of
// keys and values under the title.
func (c *clientConfig) print(title string, v any) error {
	return writeObject(c.e.stdout, c.format, title, v)
}

func writeObject(w io.Writer, format, title string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch format {
	case "jsonl":
		buf.Write(raw)
	case "pretty":
		buf.WriteString(title + "\n")
		if err := writePretty(&buf, raw); err != nil {
			return err
		}
	default:
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return err
		}
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// writePretty writes the JSON document raw as indented "key: value" lines,
// keeping the order of the keys.
func writePretty(w *bytes.Buffer, raw []byte) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var b strings.Builder
	if err := prettyValue(&b, d, "  "); err != nil {
		return err
	}
	w.WriteString(strings.TrimPrefix(b.String(), "\n"))
	return nil
}

func prettyValue(b *strings.Builder, d *json.Decoder, indent string) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		empty := true
		for d.More() {
			empty = false
			if t == '{' {
				k, err := d.Token()
				if err != nil {
					return err
				}
				fmt.Fprintf(b, "\n%s%v: ", indent, k)
			} else {
				fmt.Fprintf(b, "\n%s- ", indent)
			}
			if err := prettyValue(b, d, indent+"  "); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil {
			return err
		}
		if empty && t == '{' {
			b.WriteString("{}")
		} else if empty {
			b.WriteString("[]")
		}
	case nil:
		b.WriteString("null")
	default:
		fmt.Fprint(b, t)
	}
	return nil
}
