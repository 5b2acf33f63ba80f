package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"sync"
	"time"

	"parley/client"
)

// UploadConfig sets up the upload scenario.
type UploadConfig struct {
	// Sizes of the files uploaded, one run each (default 100 KiB and
	// 10 MiB).
	Sizes []int64
	// Count is the uploads of each size (default 200 for files up to
	// 1 MiB, 40 above).
	Count int
	// Concurrency is the uploads in flight (default 4).
	Concurrency int
	// Photos is how many photos are uploaded one at a time to time their
	// thumbnails (default 10); PhotoWidth × PhotoHeight their size
	// (default 4000 × 3000, 12 megapixels).
	Photos                  int
	PhotoWidth, PhotoHeight int
}

// Upload measures uploads per second and MB/s for files of each size (each
// file's bytes differ, so none is stored only once), then the time a
// thumbnail takes: a photo is uploaded and its thumbnail asked for at once
// (the request waits for the background worker that makes it).
func Upload(ctx context.Context, t Target, cfg UploadConfig) ([]*Result, error) {
	if len(cfg.Sizes) == 0 {
		cfg.Sizes = []int64{100 << 10, 10 << 20}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Photos <= 0 {
		cfg.Photos = 10
	}
	if cfg.PhotoWidth <= 0 || cfg.PhotoHeight <= 0 {
		cfg.PhotoWidth, cfg.PhotoHeight = 4000, 3000
	}
	t.Concurrency = max(t.Concurrency, cfg.Concurrency)
	e := newEnv(t)
	defer e.close()
	users, err := e.users(ctx, "u", cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, size := range cfg.Sizes {
		count := cfg.Count
		if count <= 0 {
			count = 200
			if size > 1<<20 {
				count = 40
			}
		}
		r, err := e.uploads(ctx, users, size, count, cfg.Concurrency)
		if r != nil {
			results = append(results, r)
		}
		if err != nil {
			return results, err
		}
	}
	r, err := e.thumbnails(ctx, users[0], cfg)
	if r != nil {
		results = append(results, r)
	}
	return results, err
}

// uploads uploads count files of size bytes, concurrency at a time, user i
// taking every concurrency-th.
func (e *env) uploads(ctx context.Context, users []*user, size int64, count, concurrency int) (*Result, error) {
	r := &Result{Scenario: "upload", Started: time.Now()}
	r.param("file size", humanSize(size), "")
	r.param("uploads", count, "")
	r.param("concurrency", concurrency, "")
	e.logf("upload: %d files of %s", count, humanSize(size))
	var (
		h  Hist
		mu sync.Mutex
	)
	e.waitQuiet(ctx)
	srv := watchProc(e.PID, 200*time.Millisecond)
	self := watchProc(os.Getpid(), 200*time.Millisecond)
	mach := watchMachine()
	start := time.Now()
	err := parallel(ctx, count, concurrency, func(ctx context.Context, i int) error {
		u := users[i%len(users)]
		t0 := time.Now()
		up, err := u.c.Upload(ctx, fmt.Sprintf("file-%d.bin", i), &distinct{seed: byte(i), n: size, tag: int64(i)},
			size, client.UploadOptions{})
		if err != nil {
			return fmt.Errorf("upload %d: %w", i, err)
		}
		if up.Size != size {
			return fmt.Errorf("upload %d: stored %d bytes of %d", i, up.Size, size)
		}
		mu.Lock()
		h.Add(time.Since(t0))
		mu.Unlock()
		return nil
	})
	took := time.Since(start)
	use, selfUse := srv.end(), self.end()
	busy, _ := mach.busyPercent()
	if err != nil {
		return r, err
	}
	r.fig("uploads/s", round(float64(count)/took.Seconds(), 1), "")
	r.fig("throughput", round(float64(count)*float64(size)/took.Seconds()/1e6, 1), "MB/s")
	r.latency("upload", &h)
	r.usage(use)
	r.machine(busy, use, selfUse)
	r.Complete = true
	r.note("each upload streams to a temporary file, is hashed (SHA-256), then stored as a blob (fsync, rename)")
	return r, nil
}

// thumbnails uploads photos one at a time and times the thumbnail of
// each, asked for as soon as the upload is answered.
func (e *env) thumbnails(ctx context.Context, u *user, cfg UploadConfig) (*Result, error) {
	r := &Result{Scenario: "thumbnail", Started: time.Now()}
	r.param("photo", fmt.Sprintf("%d×%d JPEG", cfg.PhotoWidth, cfg.PhotoHeight), "")
	r.param("photos", cfg.Photos, "")
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo(cfg.PhotoWidth, cfg.PhotoHeight), &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	r.param("photo bytes", humanSize(int64(buf.Len())), "")
	e.logf("thumbnail: %d photos of %s", cfg.Photos, humanSize(int64(buf.Len())))
	var up, th Hist
	e.waitQuiet(ctx)
	srv := watchProc(e.PID, 200*time.Millisecond)
	for i := range cfg.Photos {
		data := buf.Bytes()
		t0 := time.Now()
		a, err := u.c.Upload(ctx, fmt.Sprintf("photo-%d.jpg", i), bytes.NewReader(data), int64(len(data)),
			client.UploadOptions{Type: "image/jpeg"})
		if err != nil {
			return r, fmt.Errorf("upload photo %d: %w", i, err)
		}
		t1 := time.Now()
		res, err := u.c.Download(ctx, a.ThumbnailURL, nil)
		if err != nil {
			return r, fmt.Errorf("thumbnail %d: %w", i, err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || n == 0 {
			return r, fmt.Errorf("thumbnail %d: %d bytes, %v", i, n, err)
		}
		up.Add(t1.Sub(t0))
		th.Add(time.Since(t1))
	}
	use := srv.end()
	r.latency("photo upload", &up)
	r.latency("thumbnail", &th)
	r.usage(use)
	r.Complete = true
	r.note("thumbnail: from the upload's answer to the thumbnail's last byte; the server decodes the photo, scales it to 640 pixels and encodes a JPEG, in the background or for the first request")
	r.note("the photos are the same bytes: stored once, but each upload is read, stripped of metadata and decoded for its thumbnail")
	return r, nil
}

// distinct yields n bytes that differ for each tag, cheaply.
type distinct struct {
	seed byte
	tag  int64
	off  int64
	n    int64
}

func (d *distinct) Read(p []byte) (int, error) {
	if d.off >= d.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), d.n-d.off))
	for i := range k {
		p[i] = byte(d.off+int64(i)) ^ d.seed
	}
	if d.off == 0 && k >= 8 { // the tag makes each file's hash its own
		for i := range 8 {
			p[i] = byte(d.tag >> (8 * i))
		}
	}
	d.off += int64(k)
	return k, nil
}

// photo draws a w × h picture with some detail, so that it compresses like
// a photo rather than a flat colour.
func photo(w, h int) image.Image {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8((x*x + y*3 + (x^y)*7) >> 3)
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(i * 13)
		img.Cr[i] = uint8(i * 7)
	}
	return img
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}
