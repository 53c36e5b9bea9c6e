package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/tradeassure/tradeassure/trade"
)

// FileSizeMax is the largest file the API takes, in bytes (25 MiB): the server answers a larger
// one with 413 file_too_large.
const FileSizeMax = 25 << 20

// ErrFileTooLarge is returned by Download for a file longer than FileSizeMax: not the API's.
var ErrFileTooLarge = errors.New("tradeassure: file larger than FileSizeMax")

// File is an uploaded file, or a downloaded one's description.
type File struct {
	Ref       string `json:"ref"`        // sha256:…, what attachments and photos name
	Name      string `json:"name"`       // the file name
	MediaType string `json:"media_type"` // as recorded at upload, checked against the content
	Size      int64  `json:"size"`       // bytes
}

// Attachment is the file as a contract's attachments, a message's attachments or an inspection
// report's photos name it.
func (f File) Attachment() trade.Attachment {
	return trade.Attachment{Name: f.Name, Ref: f.Ref, Size: f.Size, MediaType: f.MediaType}
}

// Upload uploads a file of the given media type and name, to attach to a contract (R3), a
// message (R23) or an inspection report's photos (R16): your organization may attach the files
// it uploaded and those the order already refers to. At most FileSizeMax+1 bytes of content are
// read, and held so that a retry sends them again with the same idempotency key (generated when
// empty); the server refuses a larger file with 413 file_too_large, a type it does not take with
// 415 media_type_not_allowed and content that is not of mediaType with 422
// content_type_mismatch.
func (c *Client) Upload(ctx context.Context, name, mediaType string, content io.Reader, idempotencyKey string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(content, FileSizeMax+1))
	if err != nil {
		return nil, fmt.Errorf("upload %q: read: %w", name, err)
	}
	var f File
	r := request{method: http.MethodPost, path: "/v1/files", query: url.Values{"name": {name}}, body: data,
		contentType: mediaType, idemKey: keyOr(idempotencyKey), safe: true}
	if _, err := c.do(ctx, r, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Download writes the file ref of an order to w, streaming it, and returns its description:
// any file of the order's contract versions, proposal, inspection reports or thread, for anyone
// who may see the order. It is retried, as a read, after a 429, a 5xx or a lost connection until
// the file starts to arrive; a file the order does not refer to is a 404 attachment_not_found.
func (c *Client) Download(ctx context.Context, orderID, ref string, w io.Writer) (*File, error) {
	r := request{method: http.MethodGet, path: "/v1/orders/" + url.PathEscape(orderID) + "/attachments/" + url.PathEscape(ref), safe: true}
	for attempt := 1; ; attempt++ {
		f, err := c.downloadOnce(ctx, r, w)
		var p *Problem
		if err == nil || !errors.As(err, &p) && !errors.Is(err, errNoAnswer) {
			return f, err
		}
		wait, retry := c.backoff(ctx, r, attempt, err)
		if !retry {
			return nil, err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, err
		}
	}
}

// errNoAnswer marks a download that got no answer at all: it may be tried again.
var errNoAnswer = errors.New("no answer")

// downloadOnce is one attempt of a download: a problem, an error wrapping errNoAnswer, or the
// file written to w.
func (c *Client) downloadOnce(ctx context.Context, r request, w io.Writer) (*File, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", userAgent)
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %w", r.method, r.path, errNoAnswer, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, ResponseMax))
		return nil, problemOf(res.StatusCode, res.Header, body)
	}
	f := &File{MediaType: res.Header.Get("Content-Type")}
	if _, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition")); err == nil {
		f.Name = params["filename"]
	}
	if etag := res.Header.Get("ETag"); len(etag) > 2 {
		f.Ref = etag[1 : len(etag)-1]
	}
	n, err := io.Copy(w, io.LimitReader(res.Body, FileSizeMax+1))
	f.Size = n
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %s: read: %w", r.method, r.path, err)
	case n > FileSizeMax:
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, ErrFileTooLarge)
	case res.ContentLength >= 0 && n != res.ContentLength:
		return nil, fmt.Errorf("%s %s: got %d of %d bytes", r.method, r.path, n, res.ContentLength)
	}
	return f, nil
}

// DownloadBytes is Download into memory.
func (c *Client) DownloadBytes(ctx context.Context, orderID, ref string) ([]byte, *File, error) {
	var buf bytes.Buffer
	f, err := c.Download(ctx, orderID, ref, &buf)
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), f, nil
}

// PostMessage posts to the order's thread (R23), with files uploaded by your organization or
// already on the order as attachments; the thread is evidence in a dispute.
func (c *Client) PostMessage(ctx context.Context, orderID, body string, attachments []trade.Attachment, idempotencyKey string) (*trade.Message, error) {
	var m trade.Message
	r := request{method: http.MethodPost, path: "/v1/orders/" + url.PathEscape(orderID) + "/messages",
		body: map[string]any{"body": body, "attachments": attachments}, idemKey: keyOr(idempotencyKey), safe: true}
	if _, err := c.do(ctx, r, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
