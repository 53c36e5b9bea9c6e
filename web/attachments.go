package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits of uploads. A file streams into the blob store, whose
// policy (blob.DefaultPolicy: 25 MiB, documents, pictures, spreadsheets, archives) has the last
// word; the rows and attachments a contract may have are the domain's (trade.LineItemsMax,
// trade.RequirementsMax, trade.AttachmentsMax, trade.MessageAttachmentsMax).
const (
	// UploadFileMax is the largest file one form takes, in bytes: the same as the API's
	// (escrow.UploadSizeMax, the blob store's default).
	UploadFileMax = escrow.UploadSizeMax
	// UploadFilesMax is how many files one form submission may carry.
	UploadFilesMax = 5
	// UploadFieldsMax bounds the bytes of a submission that are not files: a contract at the
	// domain's maximums (200 line items, 2 × 200 requirements) fits.
	UploadFieldsMax = 2 << 20
	// UploadBodyMax is the largest body of an upload route (contract, message, report).
	UploadBodyMax = UploadFilesMax*UploadFileMax + UploadFieldsMax
	// UploadPartsMax is how many fields and files one submission may have.
	UploadPartsMax = 3000
	// UploadFieldMax bounds one field that is not a file: the longest message, in UTF-8.
	UploadFieldMax = 4 * trade.MessageMax
)

// uploadRoute reports whether a request posts to a route that takes files, and so gets the
// larger body limit UploadBodyMax instead of FormBodyMax.
func uploadRoute(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/orders/") {
		return false
	}
	for _, suffix := range []string{"/contract", "/contract/check", "/messages", "/report"} {
		if strings.HasSuffix(r.URL.Path, suffix) {
			return true
		}
	}
	return false
}

// uploadTypes maps the file name extensions people attach to the media types the blob store's
// default policy allows; the store checks the content agrees.
var uploadTypes = map[string]string{".pdf": blob.TypePDF, ".png": blob.TypePNG, ".jpg": blob.TypeJPEG,
	".jpeg": blob.TypeJPEG, ".webp": blob.TypeWebP, ".gif": blob.TypeGIF, ".txt": blob.TypeText, ".csv": blob.TypeCSV,
	".zip": blob.TypeZip, ".docx": blob.TypeDocx, ".xlsx": blob.TypeXlsx}

// uploadAccept is the file inputs' accept attribute: the same list, as a hint to the browser.
const uploadAccept = ".pdf,.png,.jpg,.jpeg,.webp,.gif,.txt,.csv,.zip,.docx,.xlsx"

// upload is a submitted form whose files were stored: its fields, with each stored file
// appended to its input's list as "name[i].ref", "name[i].name" and "name[i].keep", and what
// went wrong with a file, by input name.
type upload struct {
	values url.Values
	errs   map[string]string
	failed string // about the submission as a whole
}

// report puts the upload's problems into the form, next to the file inputs.
func (u *upload) report(f *form) {
	for name, msg := range u.errs {
		f.add(name, msg)
	}
	if u.failed != "" && f.Error == "" {
		f.Error = u.failed
	}
}

// readUpload reads a form that may carry files in the inputs named fileInputs. A multipart
// body is read as a stream: each file goes straight into the blob store, within the named
// limits, and a file that is refused (too large, a type not allowed, content that is not what
// its name says) is reported next to its input while the rest of the form is kept. Files come
// last in the portal's forms, so even a body cut off at UploadBodyMax keeps every other field.
// Other bodies are parsed as usual. r.PostForm is set to the fields read, for the code that
// reads it (idempotency keys, versions).
func (s *Server) readUpload(r *http.Request, fileInputs ...string) (*upload, error) {
	u := &upload{values: url.Values{}, errs: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		// Without files, the fields alone have their own, smaller limit: they are held in memory.
		r.Body = http.MaxBytesReader(nil, r.Body, UploadFieldsMax)
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		u.values = formValues(r.PostForm)
		return u, nil
	}
	stored := map[string][]trade.Attachment{}
	files, parts, last := 0, 0, ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			u.cutOff(err, last)
			break
		}
		if parts++; parts > UploadPartsMax {
			u.failed = fmt.Sprintf("The form has more than %d fields; it was not read to the end.", UploadPartsMax)
			break
		}
		name := p.FormName()
		if p.FileName() == "" && !slices.Contains(fileInputs, name) {
			if err := u.field(p, name); err != nil {
				u.cutOff(err, last)
				break
			}
			continue
		}
		last = name
		if p.FileName() == "" || !slices.Contains(fileInputs, name) {
			continue // an empty file input, or a file where none is taken: drained by NextPart
		}
		if files++; files > UploadFilesMax {
			u.problem(name, fmt.Sprintf("Attach at most %d files at a time.", UploadFilesMax))
			continue
		}
		a, msg, err := s.store(r.Context(), p)
		var be *bodyError
		switch {
		case errors.As(err, &be):
			u.cutOff(err, name)
		case err != nil:
			return nil, err
		case msg != "":
			u.problem(name, msg)
			continue
		default:
			stored[name] = append(stored[name], a)
			continue
		}
		break
	}
	for name, as := range stored {
		next := 0
		for u.values.Has(indexed(name, next, "ref")) {
			next++
		}
		for i, a := range as {
			u.values.Set(indexed(name, next+i, "ref"), a.Ref)
			u.values.Set(indexed(name, next+i, "name"), a.Name)
			u.values.Set(indexed(name, next+i, "keep"), "yes")
		}
		for _, a := range as {
			// Recorded as the organization's upload (escrow.MayAttach): a form re-shown after an
			// error keeps its files without a second upload.
			if _, err := s.svc.RecordUpload(r.Context(), actorOf(r), blob.Ref(a.Ref), a.Name); err != nil {
				return nil, err
			}
		}
	}
	r.PostForm, r.Form = u.values, u.values
	return u, nil
}

// field reads one ordinary field of a multipart form, within UploadFieldMax.
func (u *upload) field(p *multipart.Part, name string) error {
	b, err := io.ReadAll(io.LimitReader(p, UploadFieldMax+1))
	if err != nil {
		return err
	}
	if len(b) > UploadFieldMax {
		u.errs[name] = fmt.Sprintf("This is longer than %d bytes.", UploadFieldMax)
		return nil
	}
	u.values.Add(name, string(b))
	return nil
}

// problem records what went wrong with an input's files; each problem is said once, all of them
// next to the input.
func (u *upload) problem(input, msg string) {
	switch prev := u.errs[input]; {
	case prev == "":
		u.errs[input] = msg
	case !strings.Contains(prev, msg):
		u.errs[input] = prev + " " + msg
	}
}

// cutOff records why the body could not be read to its end, next to the file input being read.
func (u *upload) cutOff(err error, input string) {
	msg := "The upload was interrupted or could not be read; choose the files again."
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		msg = fmt.Sprintf("The files together are too large: a form takes at most %d files of %d MB each.", UploadFilesMax, UploadFileMax>>20)
	}
	if input == "" {
		u.failed = msg
		return
	}
	u.problem(input, msg)
}

// errFileTooLarge is the upload's own size limit, checked as the file streams in.
var errFileTooLarge = errors.New("file too large")

// capped reads one uploaded file: it stops at UploadFileMax and remembers an error reading the
// request itself (a body cut off, a malformed part), which is the sender's, not the store's.
type capped struct {
	r    io.Reader
	left int64
	err  error
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	if c.left -= int64(n); c.left < 0 {
		return n, errFileTooLarge
	}
	return n, err
}

// bodyError is a failure to read the request while a file streamed in.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read upload: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// store puts one uploaded file into the blob store. A file the person must fix comes back as a
// message for them; only a failure of the store itself is an error.
func (s *Server) store(ctx context.Context, p *multipart.Part) (trade.Attachment, string, error) {
	name := attachmentName(p.FileName())
	if s.blobs == nil {
		return trade.Attachment{}, "This server stores no attachments.", nil
	}
	declared := uploadTypes[strings.ToLower(path.Ext(name))]
	if declared == "" {
		declared, _, _ = mime.ParseMediaType(p.Header.Get("Content-Type"))
	}
	body := &capped{r: p, left: UploadFileMax}
	m, err := s.blobs.Put(ctx, body, declared)
	switch {
	case err == nil:
		return trade.Attachment{Name: name, Ref: string(m.Ref), Size: m.Size, MediaType: m.MediaType}, "", nil
	case body.err != nil:
		return trade.Attachment{}, "", &bodyError{body.err}
	case errors.Is(err, errFileTooLarge), errors.Is(err, blob.ErrTooLarge):
		return trade.Attachment{}, fmt.Sprintf("%s is larger than %d MB.", name, UploadFileMax>>20), nil
	case errors.Is(err, blob.ErrTypeNotAllowed):
		return trade.Attachment{}, name + " is not a type of file we take: PDF, PNG, JPEG, WebP, GIF, text, CSV, ZIP, Word (.docx) or Excel (.xlsx).", nil
	case errors.Is(err, blob.ErrTypeMismatch):
		return trade.Attachment{}, name + " is not what its name says it is (" + declared + ").", nil
	case errors.Is(err, blob.ErrEmpty):
		return trade.Attachment{}, name + " is empty.", nil
	}
	return trade.Attachment{}, "", fmt.Errorf("store upload %q: %w", name, err)
}

// attachmentName is the file's name as the domain takes it (escrow.SafeFileName).
func attachmentName(name string) string { return escrow.SafeFileName(name) }

// keptAttachments reads the attachment list of a form: every entry whose "keep" box is ticked,
// if the person's organization may attach it (escrow.MayAttach: a file of this order or one it
// uploaded; the use case checks again). At most max are taken.
func (s *Server) keptAttachments(ctx context.Context, f *form, o *trade.Order, list string, max int) []trade.Attachment {
	var out []trade.Attachment
	for i := 0; i < UploadPartsMax && f.Values.Has(indexed(list, i, "ref")); i++ {
		if f.Value(indexed(list, i, "keep")) != "yes" {
			continue
		}
		a := trade.Attachment{Ref: f.Value(indexed(list, i, "ref")), Name: attachmentName(f.Value(indexed(list, i, "name")))}
		if ok, err := s.svc.MayAttach(ctx, viewerFrom(ctx).Actor, o, a.Ref); err != nil || !ok {
			if err != nil {
				s.log.Error("check attachment", "ref", a.Ref, "err", err)
			}
			f.add(list, "Attach the file again: "+a.Name+" is not one you uploaded.")
			continue
		}
		out = append(out, a)
	}
	if len(out) > max {
		f.add(list, fmt.Sprintf("Attach at most %d files.", max))
	}
	return out
}

// keptRow is one attachment a form carries (already stored), for its "keep" checkbox.
type keptRow struct {
	Index     int
	List      string
	Ref, Name string
	Keep      bool
}

// Kept lists the attachments the form carries in list.
func (f *form) Kept(list string) []keptRow {
	var out []keptRow
	for i := 0; i < UploadPartsMax && f.Values.Has(indexed(list, i, "ref")); i++ {
		out = append(out, keptRow{Index: i, List: list, Ref: f.Value(indexed(list, i, "ref")),
			Name: f.Value(indexed(list, i, "name")), Keep: f.Value(indexed(list, i, "keep")) == "yes"})
	}
	return out
}

// download serves an attachment of an order (R3, R23) to someone who may see the order, and
// only if the order refers to it (escrow.OpenAttachment): knowing a file's hash is not enough to
// fetch it. It is always a download (Content-Disposition: attachment), of the type the store
// recorded after checking the content, never sniffed, and sandboxed should a browser show it
// anyway.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	att, rc, err := s.svc.OpenAttachment(ctx, a, r.PathValue("id"), r.PathValue("ref"))
	if fault.ReasonOf(err) == "attachment_not_found" {
		s.render(w, r, http.StatusNotFound, "error.html", "Not found", errorData{Message: "This order has no such attachment."})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", att.MediaType)
	h.Set("Content-Length", strconv.FormatInt(att.Size, 10))
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": att.Name})
	if disposition == "" { // a name that cannot be said in the header: a download all the same
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Error("attachment download", "order", r.PathValue("id"), "ref", att.Ref, "err", err)
	}
}

// ID is the element ID of the row's "keep" checkbox.
func (k keptRow) ID() string { return inputID(indexed(k.List, k.Index, "keep")) }

// fileField is a file input with the files its form already carries, as the "files" template
// renders it: the error next to it, the limits in its hint.
type fileField struct {
	Form  *form
	Name  string
	Label string
}

// Files is the file input name of the form, labelled label.
func (f *form) Files(name, label string) fileField {
	return fileField{Form: f, Name: name, Label: label}
}

func (fl fileField) ID() string      { return inputID(fl.Name) }
func (fl fileField) Err() string     { return fl.Form.Err(fl.Name) }
func (fl fileField) Kept() []keptRow { return fl.Form.Kept(fl.Name) }
func (fl fileField) Accept() string  { return uploadAccept }
func (fl fileField) Hint() string {
	return fmt.Sprintf("Up to %d files at a time, %d MB each: PDF, PNG, JPEG, WebP, GIF, text, CSV, ZIP, Word (.docx) or Excel (.xlsx).",
		UploadFilesMax, UploadFileMax>>20)
}

// actionFiles names the file inputs of the order page's action forms: the inspector's report
// carries photos (R16). Other actions take no files.
var actionFiles = map[string][]string{"report": {"photos"}}

// attachmentField puts a domain error about one attachment of a list ("attachments[2].ref",
// "report.photos[0].ref") next to the list's file input, where the person can act on it.
func attachmentField(err error) error {
	e, ok := fault.As(err)
	if !ok {
		return err
	}
	for prefix, input := range map[string]string{"attachments[": "attachments", "report.photos": "photos"} {
		if strings.HasPrefix(e.Field, prefix) {
			c := *e
			c.Field = input
			return &c
		}
	}
	return err
}
