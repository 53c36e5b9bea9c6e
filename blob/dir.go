package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Limits of the directory store.
const (
	// TempAgeMax is the age after which a temporary file is taken to be the
	// leftover of a Put that crashed, and removed by OpenDir.
	TempAgeMax = 24 * time.Hour
	// TempSweepMax bounds how many leftovers one OpenDir looks at.
	TempSweepMax = 1000
	// sidecarSizeMax bounds how much of a sidecar is read; ours are far
	// smaller, so a larger one is corrupt.
	sidecarSizeMax = 4 << 10
	copyBufferSize = 32 << 10
)

// Layout inside the root: objects/ab/cdef… holds the content whose digest is
// abcdef…, objects/ab/cdef….meta its sidecar; tmp/ holds Puts in progress.
const (
	objectsDir    = "objects"
	tempDir       = "tmp"
	sidecarSuffix = ".meta"
	dirPerm       = 0o700
	filePerm      = 0o600
)

// Dir is a Store in a local directory. All access goes through an os.Root,
// so no name can reach outside the directory. It is safe for concurrent use
// by several goroutines and processes sharing the directory.
type Dir struct {
	root   *os.Root
	policy policy
}

var _ Store = (*Dir)(nil)

// OpenDir opens the store in the directory at path, creating it if needed,
// to store what p allows.
func OpenDir(path string, p Policy) (*Dir, error) {
	pol, err := p.compile()
	if err != nil {
		return nil, fmt.Errorf("open blob dir: %w", err)
	}
	if err := os.MkdirAll(path, dirPerm); err != nil {
		return nil, fmt.Errorf("open blob dir: %w", err)
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("open blob dir: %w", err)
	}
	for _, name := range []string{objectsDir, tempDir} {
		if err := root.MkdirAll(name, dirPerm); err != nil {
			root.Close()
			return nil, fmt.Errorf("open blob dir: %w", err)
		}
	}
	d := &Dir{root: root, policy: pol}
	d.sweepTemp(time.Now().Add(-TempAgeMax))
	return d, nil
}

// Close releases the directory. Readers returned by Open stay usable.
func (d *Dir) Close() error {
	return d.root.Close()
}

// sweepTemp removes temporary files last written before cutoff. It is best
// effort: a leftover only wastes space, and another process may be removing
// the same files.
func (d *Dir) sweepTemp(cutoff time.Time) {
	dir, err := d.root.Open(tempDir)
	if err != nil {
		return
	}
	defer dir.Close()
	entries, _ := dir.ReadDir(TempSweepMax)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			_ = d.root.Remove(filepath.Join(tempDir, e.Name()))
		}
	}
}

// Put stores the content of r. It reads at most Policy.SizeMax+1 bytes,
// streaming them to a temporary file, and the content only becomes visible
// once it has passed every check and is durable. If the content is already
// stored, Put returns the Meta recorded then (when two Puts of new content
// race with different declared types, one of the two is recorded).
func (d *Dir) Put(ctx context.Context, r io.Reader, declaredType string) (Meta, error) {
	declared, err := essenceOf(declaredType)
	if err != nil || !d.policy.allowed[declared] {
		return Meta{}, fmt.Errorf("put: %q: %w", declaredType, ErrTypeNotAllowed)
	}
	tmp, tmpName, err := d.createTemp()
	if err != nil {
		return Meta{}, fmt.Errorf("put: %w", err)
	}
	committed := false
	defer func() {
		tmp.Close() // a second Close after the explicit one only returns an error
		if !committed {
			_ = d.root.Remove(tmpName)
		}
	}()

	got, err := d.receive(ctx, r, tmp)
	if err != nil {
		return Meta{}, fmt.Errorf("put: %w", err)
	}
	mediaType, err := recordedType(declared, sample{head: got.head, size: got.size, all: tmp})
	if err != nil {
		return Meta{}, fmt.Errorf("put: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Meta{}, fmt.Errorf("put: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Meta{}, fmt.Errorf("put: close: %w", err)
	}

	m := Meta{Ref: refOf(got.sum), Size: got.size, MediaType: mediaType}
	existing, err := d.Stat(ctx, m.Ref)
	switch {
	case err == nil:
		return existing, nil
	case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt):
		// A corrupt copy is overwritten below: we hold the right bytes.
		return Meta{}, fmt.Errorf("put: %w", err)
	}
	if err := d.commit(m, tmpName); err != nil {
		return Meta{}, fmt.Errorf("put: %w", err)
	}
	committed = true
	return m, nil
}

// createTemp creates a new, uniquely named file in the temporary directory.
func (d *Dir) createTemp() (*os.File, string, error) {
	// rand.Text has 130 bits of randomness, and O_EXCL makes sure that even
	// a collision could not clobber another Put's file.
	name := filepath.Join(tempDir, rand.Text()+".tmp")
	f, err := d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return nil, "", fmt.Errorf("create temp: %w", err)
	}
	return f, name, nil
}

// received is what receive learnt while copying the content.
type received struct {
	sum  []byte
	size int64
	head []byte // the first SniffSizeMax bytes
}

// receive copies r to w while hashing and counting, and stops as soon as the
// content is known to be too large, so that a huge upload is never read to
// its end nor held in memory.
func (d *Dir) receive(ctx context.Context, r io.Reader, w io.Writer) (received, error) {
	got := received{head: make([]byte, 0, SniffSizeMax)}
	h := sha256.New()
	buf := make([]byte, copyBufferSize)
	limited := io.LimitReader(r, d.policy.sizeMax+1)
	for {
		if err := ctx.Err(); err != nil {
			return received{}, err
		}
		n, rerr := limited.Read(buf)
		if n > 0 {
			got.size += int64(n)
			if got.size > d.policy.sizeMax {
				return received{}, fmt.Errorf("more than %d bytes: %w", d.policy.sizeMax, ErrTooLarge)
			}
			chunk := buf[:n]
			got.head = append(got.head, chunk[:min(n, SniffSizeMax-len(got.head))]...)
			h.Write(chunk)
			if _, err := w.Write(chunk); err != nil {
				return received{}, fmt.Errorf("write temp: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return received{}, fmt.Errorf("read content: %w", rerr)
		}
	}
	if got.size == 0 {
		return received{}, ErrEmpty
	}
	got.sum = h.Sum(nil)
	return got, nil
}

// sidecar is the stored form of what Meta holds beyond the ref.
type sidecar struct {
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// paths returns where the content of ref and its sidecar live.
func paths(ref Ref) (dir, object, side string) {
	digest := ref.digest()
	dir = filepath.Join(objectsDir, digest[:2])
	object = filepath.Join(dir, digest[2:])
	return dir, object, object + sidecarSuffix
}

// commit makes the content in the temporary file tmpName visible under m.Ref.
// The sidecar is made durable first, so that content is never visible
// without its media type; both renames are atomic, so a concurrent Put of the
// same content only replaces a file with an equivalent one.
func (d *Dir) commit(m Meta, tmpName string) error {
	dir, object, side := paths(m.Ref)
	if err := d.root.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := d.writeSidecar(side, m); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := d.syncDir(dir); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := d.root.Rename(tmpName, object); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := d.syncDir(dir); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeSidecar atomically replaces the sidecar at name with one for m.
func (d *Dir) writeSidecar(name string, m Meta) error {
	data, err := json.Marshal(sidecar{MediaType: m.MediaType, Size: m.Size})
	if err != nil {
		return fmt.Errorf("encode sidecar: %w", err)
	}
	f, tmpName, err := d.createTemp()
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmpName, name)
	}
	if err != nil {
		_ = d.root.Remove(tmpName)
		return fmt.Errorf("write sidecar: %w", err)
	}
	return nil
}

// syncDir makes renames into dir durable. Windows cannot sync a directory,
// and makes renames durable by itself.
func (d *Dir) syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := d.root.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
