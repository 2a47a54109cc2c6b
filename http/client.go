package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/silo-dev/silo"
)

// Client is a client of a Silo (or OpenAI) server that implements
// silo.UploadService and silo.FileService, so the CLI and the end-to-end tests
// are plain callers of the service interfaces. It never retries: callers decide
// what is safe to send twice.
type Client struct {
	baseURL string
	apiKey  string
	hc      *http.Client
}

var (
	_ silo.UploadService = (*Client)(nil)
	_ silo.FileService   = (*Client)(nil)
)

// NewClient returns a Client of the API at baseURL, which ends in /v1 as the
// SDKs' base URLs do (http://127.0.0.1:8080/v1), sending apiKey as a bearer
// token when it is not empty. A nil hc means http.DefaultClient.
func NewClient(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), apiKey: apiKey, hc: hc}
}

// newRequest returns a request of path (already escaped) under the base URL.
func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return nil, err
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "silo-client")
	return req, nil
}

// send sends req and returns the response of a 2xx answer; any other answer
// becomes an error and its body is closed.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, responseError(req, resp)
	}
	return resp, nil
}

// do sends req and decodes the JSON answer into out.
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("silo: %s %s: answer %s is not the JSON expected: %w", req.Method, req.URL.Path, resp.Status, err)
	}
	return nil
}

// postJSON sends in as the JSON body of a POST to path and decodes the answer.
func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, out)
}

// get sends a GET of path and decodes the answer.
func (c *Client) get(ctx context.Context, path string, out any) error {
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return c.do(req, out)
}

// ResponseError is an error answer of the server: its status and its retry
// advice, around the *silo.Error of its envelope (or a plain error when it
// was no envelope: a proxy's page, say), which errors.As finds through it.
type ResponseError struct {
	StatusCode int
	// ShouldRetry is the x-should-retry header: "true", "false" or "".
	ShouldRetry string
	// Envelope is the error object as the server sent it, nil when the
	// answer was no envelope. Err's code is Silo's name for it.
	Envelope *ErrorJSON
	Err      error
}

func (e *ResponseError) Error() string { return e.Err.Error() }
func (e *ResponseError) Unwrap() error { return e.Err }

// Retryable reports whether the request may succeed if sent again, as the
// official SDKs decide: the server's x-should-retry when it gives one, else
// 408, 409, 429 and every 5xx.
func (e *ResponseError) Retryable() bool {
	switch e.ShouldRetry {
	case "true":
		return true
	case "false":
		return false
	}
	s := e.StatusCode
	return s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500
}

// responseError turns an error answer into a *ResponseError around a
// *silo.Error from the error table, or around a plain error naming the status
// when it is no envelope.
func responseError(req *http.Request, resp *http.Response) error {
	re := &ResponseError{StatusCode: resp.StatusCode, ShouldRetry: resp.Header.Get("x-should-retry")}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e ErrorJSON
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" && e.Error.Type == "" {
		snippet := strings.TrimSpace(string(b))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		re.Err = fmt.Errorf("silo: %s %s: unexpected answer %s: %q", req.Method, req.URL.Path, resp.Status, snippet)
		return re
	}
	re.Envelope = &e
	se := &silo.Error{Code: codeFromWire(resp.StatusCode, e.Error.Code), Message: e.Error.Message}
	if e.Error.Param != nil {
		se.Param = *e.Error.Param
	}
	re.Err = se
	return re
}

// idPath returns prefix/id/suffix with id escaped, so that no id can reach
// another route.
func idPath(prefix, id, suffix string) string {
	return prefix + "/" + url.PathEscape(id) + suffix
}
