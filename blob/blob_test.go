package blob

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Sample contents of each kind, recognisable by their first bytes.
var (
	pdfContent  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
	pngContent  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	jpegContent = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 64)...)
	gifContent  = []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	webpContent = []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")
	textContent = []byte("Please use the carton label from draft 3, not draft 2.\n")
	csvContent  = []byte("sku,length_mm,width_mm\nA-100,120,80\nA-101,\"1,5\",90\n")
	htmlContent = []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
)

// zipContent returns a zip archive holding empty files with the given names.
func zipContent(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, "<x/>"); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func docxContent(t *testing.T) []byte {
	return zipContent(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml")
}

func xlsxContent(t *testing.T) []byte {
	return zipContent(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")
}

// openTestDir opens a store in a fresh directory and returns it with the path.
func openTestDir(t *testing.T, p Policy) (*Dir, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blobs")
	d, err := OpenDir(path, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func refFor(content []byte) Ref {
	sum := sha256.Sum256(content)
	return Ref("sha256:" + hex.EncodeToString(sum[:]))
}

func objectPath(dir string, ref Ref) string {
	digest := strings.TrimPrefix(string(ref), "sha256:")
	return filepath.Join(dir, "objects", digest[:2], digest[2:])
}

// countFiles returns how many regular files are under dir/sub.
func countFiles(t *testing.T, dir, sub string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, sub), func(_ string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readAll(t *testing.T, d *Dir, ref Ref) ([]byte, Meta, error) {
	t.Helper()
	rc, m, err := d.Open(context.Background(), ref)
	if err != nil {
		return nil, Meta{}, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return data, m, err
}

// TestPutOpenRoundTrip ensures that attachments of every allowed kind are
// stored under the SHA-256 of their content and read back byte for byte,
// with the media type recorded.
// R23
func TestPutOpenRoundTrip(t *testing.T) {
	d, path := openTestDir(t, DefaultPolicy())
	tests := []struct {
		name, declared, want string
		content              []byte
	}{
		{"pdf contract", TypePDF, TypePDF, pdfContent},
		{"png label", TypePNG, TypePNG, pngContent},
		{"jpeg inspection photo", TypeJPEG, TypeJPEG, jpegContent},
		{"gif", TypeGIF, TypeGIF, gifContent},
		{"webp", TypeWebP, TypeWebP, webpContent},
		{"text note", TypeText, "text/plain; charset=utf-8", textContent},
		{"declared with params", "Text/Plain; charset=latin1", "text/plain; charset=utf-8", append([]byte("Hi. "), textContent...)},
		{"csv dimension sheet", TypeCSV, "text/csv; charset=utf-8", csvContent},
		{"csv declared as text", TypeText, "text/plain; charset=utf-8", append([]byte("#"), csvContent...)},
		{"docx design draft", TypeDocx, TypeDocx, docxContent(t)},
		{"xlsx dimension sheet", TypeXlsx, TypeXlsx, xlsxContent(t)},
		{"docx declared as zip", TypeZip, TypeZip, zipContent(t, "[Content_Types].xml", "word/x.xml", "other")},
		{"zip", TypeZip, TypeZip, zipContent(t, "photo1.jpg", "photo2.jpg")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m, err := d.Put(ctx, bytes.NewReader(tt.content), tt.declared)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			want := Meta{Ref: refFor(tt.content), Size: int64(len(tt.content)), MediaType: tt.want}
			if m != want {
				t.Fatalf("Put = %+v, want %+v", m, want)
			}
			if _, err := os.Stat(objectPath(path, m.Ref)); err != nil {
				t.Errorf("object not at objects/ab/cdef…: %v", err)
			}
			got, om, err := readAll(t, d, m.Ref)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if !bytes.Equal(got, tt.content) || om != want {
				t.Errorf("read back %q, %+v; want %q, %+v", got, om, tt.content, want)
			}
			if sm, err := d.Stat(ctx, m.Ref); err != nil || sm != want {
				t.Errorf("Stat = %+v, %v; want %+v", sm, err, want)
			}
		})
	}
	if n := countFiles(t, path, "tmp"); n != 0 {
		t.Errorf("%d temporary files left behind", n)
	}
}

// TestPutDeduplicates ensures that storing the same content twice keeps one
// copy and returns the same Meta, even when declared differently the second
// time.
func TestPutDeduplicates(t *testing.T) {
	d, path := openTestDir(t, DefaultPolicy())
	ctx := context.Background()
	first, err := d.Put(ctx, bytes.NewReader(csvContent), TypeCSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, declared := range []string{TypeCSV, TypeText} {
		again, err := d.Put(ctx, bytes.NewReader(csvContent), declared)
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Errorf("second Put (%s) = %+v, want %+v", declared, again, first)
		}
	}
	if n := countFiles(t, path, "objects"); n != 2 {
		t.Errorf("%d files in objects, want one object and its sidecar", n)
	}
	if n := countFiles(t, path, "tmp"); n != 0 {
		t.Errorf("%d temporary files left behind", n)
	}
}

// endless is a reader that never ends and counts what was read from it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += int64(len(p))
	return len(p), nil
}

// TestPutSizeLimit ensures that content of exactly SizeMax bytes is stored,
// that one byte more is refused with ErrTooLarge, that an endless upload is
// cut off after SizeMax+1 bytes, and that refused content leaves nothing.
func TestPutSizeLimit(t *testing.T) {
	const sizeMax = 100_000 // spans several copy buffers
	p := DefaultPolicy()
	p.SizeMax = sizeMax
	d, path := openTestDir(t, p)
	ctx := context.Background()

	at := bytes.Repeat([]byte("x"), sizeMax)
	m, err := d.Put(ctx, bytes.NewReader(at), TypeText)
	if err != nil || m.Size != sizeMax {
		t.Fatalf("Put of SizeMax bytes = %+v, %v; want stored", m, err)
	}

	over := append(bytes.Repeat([]byte("y"), sizeMax), 'y')
	if _, err := d.Put(ctx, bytes.NewReader(over), TypeText); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of SizeMax+1 bytes: err = %v, want ErrTooLarge", err)
	}
	if _, err := d.Stat(ctx, refFor(over)); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused content is visible: %v", err)
	}

	src := &endless{}
	if _, err := d.Put(ctx, src, TypeText); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of endless content: err = %v, want ErrTooLarge", err)
	}
	if src.read > sizeMax+1 {
		t.Errorf("read %d bytes of endless content, want at most %d", src.read, sizeMax+1)
	}
	if n := countFiles(t, path, "tmp"); n != 0 {
		t.Errorf("%d temporary files left behind", n)
	}
	if n := countFiles(t, path, "objects"); n != 2 {
		t.Errorf("%d files in objects, want only the accepted object and its sidecar", n)
	}
}

// TestPutTypeNotAllowed ensures that a declared type outside the policy is
// refused with ErrTypeNotAllowed before the content is read.
func TestPutTypeNotAllowed(t *testing.T) {
	d, _ := openTestDir(t, DefaultPolicy())
	for _, declared := range []string{"text/html", "application/x-msdownload", "image/svg+xml", "", "not a type"} {
		t.Run(declared, func(t *testing.T) {
			src := &endless{}
			_, err := d.Put(context.Background(), src, declared)
			if !errors.Is(err, ErrTypeNotAllowed) {
				t.Fatalf("err = %v, want ErrTypeNotAllowed", err)
			}
			if src.read != 0 {
				t.Errorf("read %d bytes of refused content", src.read)
			}
		})
	}
}

// TestPutTypeMismatch ensures that content which is not what its allowed
// declared type says is refused with ErrTypeMismatch and not stored.
func TestPutTypeMismatch(t *testing.T) {
	d, _ := openTestDir(t, DefaultPolicy())
	tests := []struct {
		name, declared string
		content        []byte
	}{
		{"pdf declared as png", TypePNG, pdfContent},
		{"png declared as jpeg", TypeJPEG, pngContent},
		{"html declared as text", TypeText, htmlContent},
		{"pdf declared as csv", TypeCSV, pdfContent},
		{"ragged text declared as csv", TypeCSV, []byte("a,b,c\nd,e\n")},
		{"xlsx declared as docx", TypeDocx, xlsxContent(t)},
		{"plain zip declared as docx", TypeDocx, zipContent(t, "word/document.xml")},
		{"docx declared as xlsx", TypeXlsx, docxContent(t)},
		{"text declared as zip", TypeZip, textContent},
		{"text declared as pdf", TypePDF, textContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			_, err := d.Put(ctx, bytes.NewReader(tt.content), tt.declared)
			if !errors.Is(err, ErrTypeMismatch) {
				t.Fatalf("err = %v, want ErrTypeMismatch", err)
			}
			if _, err := d.Stat(ctx, refFor(tt.content)); !errors.Is(err, ErrNotFound) {
				t.Errorf("refused content is visible: %v", err)
			}
		})
	}
}

// TestPutEmpty ensures that empty content is refused with ErrEmpty.
func TestPutEmpty(t *testing.T) {
	d, _ := openTestDir(t, DefaultPolicy())
	if _, err := d.Put(context.Background(), strings.NewReader(""), TypeText); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err = %v, want ErrEmpty", err)
	}
}

// TestUnknownAndMalformedRefs ensures that Open and Stat return ErrNotFound
// for a well-formed ref that was never stored, and ErrInvalidRef for
// anything that is not a canonical ref.
func TestUnknownAndMalformedRefs(t *testing.T) {
	d, _ := openTestDir(t, DefaultPolicy())
	ctx := context.Background()
	tests := []struct {
		name string
		ref  Ref
		want error
	}{
		{"unknown", refFor([]byte("never stored")), ErrNotFound},
		{"empty", "", ErrInvalidRef},
		{"prefix only", "sha256:", ErrInvalidRef},
		{"short", "sha256:abc", ErrInvalidRef},
		{"upper case", Ref(strings.ToUpper(string(refFor(textContent)))), ErrInvalidRef},
		{"other algorithm", Ref("md5:" + strings.Repeat("a", 64)), ErrInvalidRef},
		{"no prefix", Ref(strings.Repeat("a", 64)), ErrInvalidRef},
		{"too long", refFor(textContent) + "0", ErrInvalidRef},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := d.Open(ctx, tt.ref); !errors.Is(err, tt.want) {
				t.Errorf("Open: err = %v, want %v", err, tt.want)
			}
			if _, err := d.Stat(ctx, tt.ref); !errors.Is(err, tt.want) {
				t.Errorf("Stat: err = %v, want %v", err, tt.want)
			}
			if tt.want == ErrInvalidRef {
				if _, err := ParseRef(string(tt.ref)); !errors.Is(err, ErrInvalidRef) {
					t.Errorf("ParseRef: err = %v, want ErrInvalidRef", err)
				}
			}
		})
	}
	if r, err := ParseRef(string(refFor(textContent))); err != nil || r != refFor(textContent) {
		t.Errorf("ParseRef of a valid ref = %q, %v", r, err)
	}
}

// TestRefWithDotDotRejected ensures that a ref containing "../" can never
// name a file, even when built by conversion instead of ParseRef and even
// when a file exists where it would point.
func TestRefWithDotDotRejected(t *testing.T) {
	d, path := openTestDir(t, DefaultPolicy())
	outside := filepath.Join(filepath.Dir(path), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ref := range []Ref{
		"sha256:../../secret",
		Ref("sha256:../../../secret" + strings.Repeat("a", 64-len("../../../secret"))),
		Ref("sha256:ab/../../../secret" + strings.Repeat("a", 64-len("ab/../../../secret"))),
	} {
		if _, err := ParseRef(string(ref)); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("ParseRef(%q): err = %v, want ErrInvalidRef", ref, err)
		}
		if _, _, err := d.Open(ctx, ref); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("Open(%q): err = %v, want ErrInvalidRef", ref, err)
		}
		if _, err := d.Stat(ctx, ref); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("Stat(%q): err = %v, want ErrInvalidRef", ref, err)
		}
	}
}

// TestCorruptionDetected ensures that content changed on disk after it was
// stored is reported as ErrCorrupt: a flipped byte when the content is read
// to its end, a truncation or a lost sidecar already by Stat — and that
// storing the right content again repairs a copy Stat found corrupt.
func TestCorruptionDetected(t *testing.T) {
	d, path := openTestDir(t, DefaultPolicy())
	ctx := context.Background()
	m, err := d.Put(ctx, bytes.NewReader(pdfContent), TypePDF)
	if err != nil {
		t.Fatal(err)
	}
	object := objectPath(path, m.Ref)

	flipped := bytes.Clone(pdfContent)
	flipped[len(flipped)-2] ^= 0x01
	if err := os.WriteFile(object, flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readAll(t, d, m.Ref); !errors.Is(err, ErrCorrupt) {
		t.Errorf("read of a flipped byte: err = %v, want ErrCorrupt", err)
	}

	if err := os.WriteFile(object, pdfContent[:10], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, m.Ref); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Stat of truncated content: err = %v, want ErrCorrupt", err)
	}
	if _, err := d.Put(ctx, bytes.NewReader(pdfContent), TypePDF); err != nil {
		t.Fatalf("Put to repair: %v", err)
	}
	if got, _, err := readAll(t, d, m.Ref); err != nil || !bytes.Equal(got, pdfContent) {
		t.Errorf("after repair: read %q, %v", got, err)
	}

	if err := os.Remove(object + ".meta"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, m.Ref); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Stat without sidecar: err = %v, want ErrCorrupt", err)
	}
}

// TestPutConcurrentSameContent ensures that ten goroutines storing the same
// content at once all succeed with the same Meta and leave one copy.
func TestPutConcurrentSameContent(t *testing.T) {
	d, path := openTestDir(t, DefaultPolicy())
	content := docxContent(t)
	const writers = 10
	metas := make([]Meta, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			metas[i], errs[i] = d.Put(context.Background(), bytes.NewReader(content), TypeDocx)
		})
	}
	wg.Wait()
	want := Meta{Ref: refFor(content), Size: int64(len(content)), MediaType: TypeDocx}
	for i := range writers {
		if errs[i] != nil || metas[i] != want {
			t.Errorf("writer %d: %+v, %v; want %+v", i, metas[i], errs[i], want)
		}
	}
	if got, _, err := readAll(t, d, want.Ref); err != nil || !bytes.Equal(got, content) {
		t.Errorf("read back: %v", err)
	}
	if n := countFiles(t, path, "objects"); n != 2 {
		t.Errorf("%d files in objects, want one object and its sidecar", n)
	}
	if n := countFiles(t, path, "tmp"); n != 0 {
		t.Errorf("%d temporary files left behind", n)
	}
}

// TestPutCanceled ensures that a Put whose context is canceled stops and
// stores nothing.
func TestPutCanceled(t *testing.T) {
	d, path := openTestDir(t, DefaultPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Put(ctx, bytes.NewReader(textContent), TypeText); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := countFiles(t, path, "objects") + countFiles(t, path, "tmp"); n != 0 {
		t.Errorf("%d files left behind", n)
	}
}

// TestOpenDirRejectsInvalidPolicy ensures that a policy which could store
// nothing, or names a malformed type, is refused when the store is opened.
func TestOpenDirRejectsInvalidPolicy(t *testing.T) {
	tests := map[string]Policy{
		"zero size":      {SizeMax: 0, MediaTypes: []string{TypePDF}},
		"no types":       {SizeMax: 10},
		"malformed type": {SizeMax: 10, MediaTypes: []string{"pdf/"}},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			if d, err := OpenDir(t.TempDir(), p); err == nil {
				d.Close()
				t.Fatal("OpenDir succeeded")
			}
		})
	}
}
