package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
)

// UploadBodyMax is the largest request body of POST /v1/files: one file of the size the blob
// store's policy takes, the same limit as the portal's forms (escrow.UploadSizeMax). It replaces
// BodyMax for that operation only.
const UploadBodyMax = escrow.UploadSizeMax

// FileView is an uploaded file: name its ref in a contract's attachments, a message's
// attachments or an inspection report's photos.
type FileView struct {
	Ref       string `json:"ref" doc:"The SHA-256 of the content (sha256:…): what attachments and photos name."`
	Name      string `json:"name" doc:"The file name given with ?name=."`
	MediaType string `json:"media_type" doc:"The media type, as declared and checked against the content; text types carry their charset."`
	Size      int64  `json:"size" doc:"Bytes."`
}

// uploadTypes are the media types POST /v1/files takes, for the document: the blob store's
// default policy.
var uploadTypes = blob.DefaultPolicy().MediaTypes

// uploadIn is the input of POST /v1/files: the body is the file itself, read as a stream by the
// handler (huma reads no body for an operation without a Body field).
type uploadIn struct {
	IdempotencyKey string    `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255" doc:"Unique per intended upload; a retry with the same key returns the first response."`
	Name           string    `query:"name" required:"true" doc:"The file's name: 1 to 255 bytes of UTF-8, without control characters, slashes or backslashes."`
	contentType    string    // the file's media type, as the request body's (documented there)
	body           io.Reader // the file
	length         int64     // Content-Length, or -1 when not given
}

// Resolve keeps the request body, its media type and its declared length for the handler.
func (in *uploadIn) Resolve(ctx huma.Context) []error {
	in.body, in.contentType, in.length = ctx.BodyReader(), ctx.Header("Content-Type"), -1
	if v := ctx.Header("Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return []error{&huma.ErrorDetail{Location: "header.Content-Length", Message: "not a length", Value: v}}
		}
		in.length = n
	}
	return nil
}

func (s *Server) registerFiles(a huma.API) {
	content := map[string]*huma.MediaType{}
	for _, t := range uploadTypes {
		content[t] = &huma.MediaType{Schema: &huma.Schema{Type: "string", Format: "binary"}}
	}
	huma.Register(a, huma.Operation{OperationID: "upload_file", Method: http.MethodPost, Path: "/v1/files",
		Summary: "Upload a file to attach to a contract, a message or an inspection report (R3, R16, R23)",
		Tags:    []string{"Files"}, Security: bearerAuth, DefaultStatus: http.StatusCreated, MaxBodyBytes: UploadBodyMax,
		Description: "The request body is the file itself, its Content-Type the file's media type (PDF, PNG, JPEG, " +
			"WebP, GIF, plain text, CSV, ZIP, Word .docx or Excel .xlsx), and ?name= its name. At most 25 MiB " +
			"(413 file_too_large); a type not taken is 415 media_type_not_allowed, content that is not what its " +
			"type says 422 content_type_mismatch, an empty body 422 empty_file, a bad name 422 invalid_file_name. " +
			"The answer's ref goes into attachments or photos: an organization may attach the files it uploaded " +
			"and the ones the order already refers to, nothing else.",
		RequestBody: &huma.RequestBody{Required: true, Description: "The file's bytes.", Content: content},
	}, func(ctx context.Context, in *uploadIn) (*struct{ Body FileView }, error) {
		if in.length > UploadBodyMax {
			return nil, s.fail(ctx, fault.New(fault.Invalid, "file_too_large", "a file has at most %d bytes (%d MiB)", UploadBodyMax, UploadBodyMax>>20))
		}
		up, err := s.svc.Upload(ctx, actor(ctx), in.IdempotencyKey, in.Name, in.contentType, in.body)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, errorf(http.StatusRequestEntityTooLarge, "file_too_large", "a file has at most %d bytes (%d MiB)", UploadBodyMax, UploadBodyMax>>20)
		case fault.ReasonOf(err) == "invalid_file_name":
			p := problemOf(err)
			p.Errors = []*huma.ErrorDetail{{Location: "query.name", Message: p.Detail, Value: in.Name}}
			return nil, p
		case err != nil:
			return nil, s.fail(ctx, err)
		}
		return &struct{ Body FileView }{FileView{Ref: up.Ref, Name: up.Name, MediaType: up.MediaType, Size: up.Size}}, nil
	})

	huma.Register(a, huma.Operation{OperationID: "get_order_attachment", Method: http.MethodGet, Path: "/v1/orders/{id}/attachments/{ref}",
		Summary: "Download a file the order refers to (R3, R16, R23)", Tags: []string{"Files"}, Security: bearerAuth,
		Description: "A file of the order's contract versions, open proposal, inspection reports or message thread, to " +
			"whoever may see the order (its inspection company included); 404 for any other file. Always a download " +
			"(Content-Disposition: attachment) of the media type recorded at upload, never sniffed, sandboxed. The " +
			"ETag is the ref: If-None-Match with it answers 304.",
		Responses: map[string]*huma.Response{
			"200": {Description: "The file", Content: map[string]*huma.MediaType{
				"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}},
			"304": {Description: "Not modified: the file is the one the If-None-Match ETag names."},
		}},
		func(ctx context.Context, in *struct {
			ID          string `path:"id" maxLength:"64" doc:"The order ID."`
			Ref         string `path:"ref" maxLength:"71" doc:"The file's ref (sha256:…)."`
			IfNoneMatch string `header:"If-None-Match" maxLength:"1024" doc:"An ETag from a previous download: 304 if it is this file."`
		}) (*huma.StreamResponse, error) {
			etag := `"` + in.Ref + `"`
			if noneMatch(in.IfNoneMatch, etag) {
				// Still only for someone who may see the order's file.
				if _, err := s.svc.OrderAttachment(ctx, actor(ctx), in.ID, in.Ref); err != nil {
					return nil, s.fail(ctx, err)
				}
				return &huma.StreamResponse{Body: func(hc huma.Context) {
					hc.SetHeader("ETag", etag)
					hc.SetHeader("Cache-Control", "private, no-cache")
					hc.SetStatus(http.StatusNotModified)
				}}, nil
			}
			att, rc, err := s.svc.OpenAttachment(ctx, actor(ctx), in.ID, in.Ref)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				defer rc.Close()
				disposition := mime.FormatMediaType("attachment", map[string]string{"filename": escrow.SafeFileName(att.Name)})
				if disposition == "" {
					disposition = "attachment"
				}
				for k, v := range map[string]string{
					"Content-Type": att.MediaType, "Content-Length": strconv.FormatInt(att.Size, 10),
					"Content-Disposition": disposition, "ETag": etag, "Cache-Control": "private, no-cache",
					"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
				} {
					hc.SetHeader(k, v)
				}
				hc.SetStatus(http.StatusOK)
				if _, err := io.Copy(hc.BodyWriter(), rc); err != nil {
					s.log.Error("attachment download", "order", in.ID, "ref", in.Ref, "err", err)
				}
			}}, nil
		})
}

// noneMatch reports whether an If-None-Match header names etag (weak comparison, RFC 9110
// §13.1.2) or is "*".
func noneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
