package blob

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
)

// Stat returns the Meta of the content stored under ref.
func (d *Dir) Stat(ctx context.Context, ref Ref) (Meta, error) {
	if err := ctx.Err(); err != nil {
		return Meta{}, fmt.Errorf("stat: %w", err)
	}
	if _, err := ParseRef(string(ref)); err != nil {
		return Meta{}, fmt.Errorf("stat: %w", err)
	}
	_, object, _ := paths(ref)
	info, err := d.root.Stat(object)
	if err != nil {
		return Meta{}, fmt.Errorf("stat %s: %w", ref, notFound(err))
	}
	m, err := d.meta(ref, info)
	if err != nil {
		return Meta{}, fmt.Errorf("stat: %w", err)
	}
	return m, nil
}

// Open returns the content stored under ref. The content is checked against
// ref as it is read, not up front, so that opening is cheap: the reader
// returns ErrCorrupt instead of io.EOF if the bytes no longer hash to ref.
func (d *Dir) Open(ctx context.Context, ref Ref) (io.ReadCloser, Meta, error) {
	if err := ctx.Err(); err != nil {
		return nil, Meta{}, fmt.Errorf("open: %w", err)
	}
	if _, err := ParseRef(string(ref)); err != nil {
		return nil, Meta{}, fmt.Errorf("open: %w", err)
	}
	_, object, _ := paths(ref)
	f, err := d.root.Open(object)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("open %s: %w", ref, notFound(err))
	}
	info, err := f.Stat()
	if err == nil {
		var m Meta
		if m, err = d.meta(ref, info); err == nil {
			return &verifier{f: f, h: sha256.New(), ref: ref}, m, nil
		}
	}
	f.Close()
	return nil, Meta{}, fmt.Errorf("open: %w", err)
}

// notFound translates a missing file into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// meta reads the sidecar of ref and checks it against the object's info.
// Content without a valid sidecar is corrupt: commit writes the sidecar first.
func (d *Dir) meta(ref Ref, object fs.FileInfo) (Meta, error) {
	if !object.Mode().IsRegular() {
		return Meta{}, fmt.Errorf("%s is not a regular file: %w", ref, ErrCorrupt)
	}
	_, _, side := paths(ref)
	f, err := d.root.Open(side)
	if err != nil {
		return Meta{}, fmt.Errorf("read sidecar of %s: %v: %w", ref, err, ErrCorrupt)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, sidecarSizeMax+1))
	if err != nil {
		return Meta{}, fmt.Errorf("read sidecar of %s: %w", ref, err)
	}
	var s sidecar
	if len(data) > sidecarSizeMax || json.Unmarshal(data, &s) != nil || s.MediaType == "" {
		return Meta{}, fmt.Errorf("sidecar of %s is malformed: %w", ref, ErrCorrupt)
	}
	if s.Size != object.Size() {
		return Meta{}, fmt.Errorf("%s has %d bytes, sidecar says %d: %w", ref, object.Size(), s.Size, ErrCorrupt)
	}
	return Meta{Ref: ref, Size: s.Size, MediaType: s.MediaType}, nil
}

// verifier hashes the content as it is read and, at the end, returns
// ErrCorrupt instead of io.EOF if the content does not hash to ref.
type verifier struct {
	f   *os.File
	h   hash.Hash
	ref Ref
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := refOf(v.h.Sum(nil)); got != v.ref {
			return n, fmt.Errorf("read %s: content hashes to %s: %w", v.ref, got, ErrCorrupt)
		}
	}
	return n, err
}

func (v *verifier) Close() error {
	return v.f.Close()
}
