package blob

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// sample is what the type check may look at: the first SniffSizeMax bytes,
// and, for archives, the whole content.
type sample struct {
	head []byte
	size int64
	all  io.ReaderAt
}

// complete reports whether head holds the whole content.
func (s sample) complete() bool {
	return int64(len(s.head)) == s.size
}

// recordedType checks that the content agrees with declared (an allowed
// media type, without parameters) and returns the media type to record:
// declared, with the detected charset for text types. The content decides
// what it is; the declaration only chooses among names that fit it, such as
// application/zip or a more precise Office type for a .docx.
func recordedType(declared string, s sample) (string, error) {
	essence, params, err := mime.ParseMediaType(http.DetectContentType(s.head))
	if err != nil {
		return "", fmt.Errorf("sniff media type: %w", err)
	}
	var ok bool
	switch declared {
	case TypeCSV:
		ok = essence == TypeText && looksLikeCSV(s.head, s.complete())
	case TypeDocx, TypeXlsx:
		ok = essence == TypeZip && officeType(s.all, s.size) == declared
	default:
		ok = essence == declared
	}
	if !ok {
		return "", fmt.Errorf("declared %s, content is %s: %w", declared, essence, ErrTypeMismatch)
	}
	if cs := params["charset"]; cs != "" && strings.HasPrefix(declared, "text/") {
		return mime.FormatMediaType(declared, map[string]string{"charset": cs}), nil
	}
	return declared, nil
}

// looksLikeCSV reports whether the complete lines of head parse as CSV
// records with the same number of fields. When the first line is longer than
// head it cannot be judged, and the text is given the benefit of the doubt.
func looksLikeCSV(head []byte, complete bool) bool {
	if !complete {
		end := bytes.LastIndexByte(head, '\n')
		if end < 0 {
			return true
		}
		head = head[:end+1]
	}
	r := csv.NewReader(bytes.NewReader(head))
	r.ReuseRecord = true
	for {
		_, err := r.Read()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// officeType returns TypeDocx or TypeXlsx when the zip archive in r is an
// Office Open XML document or workbook, and "" otherwise. It only reads the
// archive's directory of names: nothing is decompressed.
func officeType(r io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return ""
	}
	var manifest, word, sheet bool
	for _, f := range zr.File {
		switch {
		case f.Name == "[Content_Types].xml":
			manifest = true
		case strings.HasPrefix(f.Name, "word/"):
			word = true
		case strings.HasPrefix(f.Name, "xl/"):
			sheet = true
		}
	}
	switch {
	case !manifest || word == sheet:
		return ""
	case word:
		return TypeDocx
	default:
		return TypeXlsx
	}
}
