package media_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/image/webp"

	"parley"
	"parley/media"
	"parley/media/mediatest"
)

func TestSniff(t *testing.T) {
	cases := []struct {
		head     []byte
		declared string
		want     string
		inline   bool
	}{
		{mediatest.JPEG(8, 8, 1), "", "image/jpeg", true},
		{mediatest.PNG(8, 8), "image/jpeg", "image/png", true},
		{mediatest.WebP(), "", "image/webp", true},
		{[]byte("GIF89a\x01\x00\x01\x00"), "", "image/gif", true},
		{[]byte("<!DOCTYPE html><script>alert(1)</script>"), "image/png", "text/html", false},
		{[]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml", "text/xml", false},
		{[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "image/svg+xml", "text/plain", false},
		{[]byte("%PDF-1.7\n"), "", "application/pdf", true},
		{[]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"), "audio/webm;codecs=opus", "audio/webm", true},
		{[]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"), "", "video/webm", true},
		{[]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead"), "", "audio/ogg", true},
		{[]byte("ID3\x03\x00"), "", "audio/mpeg", true},
		{[]byte("\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42"), "", "audio/mp4", true},
		{[]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"), "", "video/mp4", true},
		{[]byte("PK\x03\x04"), "", "application/zip", false},
		{[]byte("just some text"), "application/pdf", "text/plain", false},
		{[]byte{0, 1, 2, 3, 0xfe}, "image/png", "application/octet-stream", false},
	}
	for _, c := range cases {
		got := media.Sniff(c.head, c.declared)
		if got != c.want || media.Inline(got) != c.inline {
			t.Errorf("Sniff(%q, %q) = %q (inline %v), want %q (inline %v)", c.head[:min(len(c.head), 16)], c.declared,
				got, media.Inline(got), c.want, c.inline)
		}
	}
}

func TestInspect(t *testing.T) {
	info, err := media.Inspect(bytes.NewReader(mediatest.JPEG(40, 30, 1)), "image/jpeg", media.DefaultMaxPixels)
	if err != nil || info.Width != 40 || info.Height != 30 {
		t.Fatalf("JPEG 40×30: %+v, %v", info, err)
	}
	// Orientation 6 (turned a quarter): shown 30 wide, 40 high.
	info, err = media.Inspect(bytes.NewReader(mediatest.JPEG(40, 30, 6)), "image/jpeg", media.DefaultMaxPixels)
	if err != nil || info.Width != 30 || info.Height != 40 || info.Orientation != 6 {
		t.Fatalf("JPEG 40×30 orientation 6: %+v, %v", info, err)
	}
	info, err = media.Inspect(bytes.NewReader(mediatest.WebP()), "image/webp", media.DefaultMaxPixels)
	if err != nil || info.Width != 1 || info.Height != 1 {
		t.Fatalf("WebP: %+v, %v", info, err)
	}
	if _, err := media.Inspect(bytes.NewReader([]byte("not an image")), "image/png", media.DefaultMaxPixels); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("garbage: %v", err)
	}
}

// A decompression bomb is refused from its header: 100 megapixels in a
// few kilobytes.
func TestBomb(t *testing.T) {
	bomb := mediatest.Bomb(10_000, 10_000)
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, err := media.Inspect(bytes.NewReader(bomb), "image/png", media.DefaultMaxPixels)
	if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), "50 megapixels") {
		t.Fatalf("Inspect(bomb) = %v, want invalid: larger than 50 megapixels", err)
	}
	if _, err := media.Thumbnail(bytes.NewReader(bomb), "image/png", 100, media.DefaultMaxPixels); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("Thumbnail(bomb) = %v", err)
	}
	// The limit is a setting.
	if _, err := media.Inspect(bytes.NewReader(mediatest.JPEG(40, 30, 1)), "image/jpeg", 1000); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("1200 pixels with a limit of 1000: %v", err)
	}
	// Just under the limit is read.
	if _, err := media.Inspect(bytes.NewReader(mediatest.Bomb(7000, 7000)), "image/png", media.DefaultMaxPixels); err != nil {
		t.Fatalf("49 MP: %v", err)
	}
}

func strip(t *testing.T, data []byte, ctype string) []byte {
	t.Helper()
	var out bytes.Buffer
	changed, err := media.Strip(&out, bytes.NewReader(data), ctype)
	if err != nil {
		t.Fatalf("Strip(%s): %v", ctype, err)
	}
	if !changed {
		t.Fatalf("Strip(%s) removed nothing", ctype)
	}
	if bytes.Contains(out.Bytes(), []byte(mediatest.Secret)) {
		t.Fatalf("Strip(%s) left the metadata", ctype)
	}
	return out.Bytes()
}

func TestStripJPEG(t *testing.T) {
	orig := mediatest.JPEG(64, 48, 6)
	out := strip(t, orig, "image/jpeg")
	// The pixels are untouched and the picture still turns.
	a, _ := jpeg.Decode(bytes.NewReader(orig))
	b, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("stripped JPEG: %v", err)
	}
	if a.Bounds() != b.Bounds() || a.At(10, 10) != b.At(10, 10) {
		t.Fatal("stripping changed the pixels")
	}
	info, err := media.Inspect(bytes.NewReader(out), "image/jpeg", media.DefaultMaxPixels)
	if err != nil || info.Orientation != 6 {
		t.Fatalf("orientation after Strip: %+v, %v", info, err)
	}
	// A second pass has nothing left to remove.
	var again bytes.Buffer
	if changed, err := media.Strip(&again, bytes.NewReader(out), "image/jpeg"); err != nil || changed || !bytes.Equal(again.Bytes(), out) {
		t.Fatalf("second Strip: changed %v, %v", changed, err)
	}
}

func TestStripPNG(t *testing.T) {
	out := strip(t, mediatest.PNG(20, 10), "image/png")
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil || img.Bounds().Dx() != 20 {
		t.Fatalf("stripped PNG: %v", err)
	}
}

func TestStripWebP(t *testing.T) {
	out := strip(t, mediatest.WebP(), "image/webp")
	if bytes.Contains(out, []byte("EXIF")) || bytes.Contains(out, []byte("XMP ")) {
		t.Fatal("EXIF or XMP chunk left")
	}
	if out[20]&0x0c != 0 {
		t.Fatalf("VP8X flags still say EXIF/XMP: %#x", out[20])
	}
	if _, err := webp.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("stripped WebP: %v", err)
	}
}

func TestStripMalformed(t *testing.T) {
	for _, ctype := range []string{"image/jpeg", "image/png", "image/webp"} {
		var out bytes.Buffer
		if _, err := media.Strip(&out, bytes.NewReader([]byte("RIFF garbage that is not an image")), ctype); err == nil {
			t.Errorf("Strip(%s) of garbage succeeded", ctype)
		}
	}
	// A truncated JPEG is refused.
	j := mediatest.JPEG(32, 32, 1)
	var out bytes.Buffer
	if _, err := media.Strip(&out, bytes.NewReader(j[:len(j)/2]), "image/jpeg"); err == nil {
		t.Error("Strip of a truncated JPEG succeeded")
	}
}

func TestThumbnail(t *testing.T) {
	// 1200×800 turned a quarter: shown 800 wide, 1200 high.
	p, err := media.Thumbnail(bytes.NewReader(mediatest.JPEG(1200, 800, 6)), "image/jpeg", 300, media.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 200 || p.Height != 300 || p.ContentType != "image/jpeg" {
		t.Fatalf("thumbnail %d×%d %s, want 200×300 image/jpeg", p.Width, p.Height, p.ContentType)
	}
	if bytes.Contains(p.Data, []byte(mediatest.Secret)) || bytes.Contains(p.Data, []byte("Exif")) {
		t.Fatal("thumbnail carries metadata")
	}
	img, err := jpeg.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatal(err)
	}
	// Orientation 6 turns the stored picture clockwise: its green top row
	// becomes the right column.
	if !near(img.At(img.Bounds().Dx()-2, 150), color.RGBA{20, 200, 20, 255}) {
		t.Fatalf("right edge is %v, want green", img.At(img.Bounds().Dx()-2, 150))
	}
	// Small images are not enlarged; transparency keeps PNG.
	tr := image.NewNRGBA(image.Rect(0, 0, 10, 5))
	var buf bytes.Buffer
	png.Encode(&buf, tr)
	p, err = media.Thumbnail(bytes.NewReader(buf.Bytes()), "image/png", 300, media.DefaultMaxPixels)
	if err != nil || p.Width != 10 || p.Height != 5 || p.ContentType != "image/png" {
		t.Fatalf("small transparent: %d×%d %s, %v", p.Width, p.Height, p.ContentType, err)
	}
	if _, err := media.Thumbnail(bytes.NewReader(mediatest.WebP()), "image/webp", 300, media.DefaultMaxPixels); err != nil {
		t.Fatalf("WebP: %v", err)
	}
}

func TestAvatar(t *testing.T) {
	p, err := media.Avatar(bytes.NewReader(mediatest.JPEG(600, 300, 1)), "image/jpeg", 128, media.DefaultMaxPixels)
	if err != nil || p.Width != 128 || p.Height != 128 {
		t.Fatalf("avatar %d×%d, %v", p.Width, p.Height, err)
	}
	if strings.Contains(string(p.Data), mediatest.Secret) {
		t.Fatal("avatar carries metadata")
	}
	img, _ := jpeg.Decode(bytes.NewReader(p.Data))
	// The centre square of a red|blue picture is half red, half blue.
	if !near(img.At(20, 100), color.RGBA{200, 20, 20, 255}) || !near(img.At(108, 100), color.RGBA{20, 20, 200, 255}) {
		t.Fatalf("avatar is not the centre square: %v, %v", img.At(20, 100), img.At(108, 100))
	}
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { return int(x>>8)-int(y) < 40 && int(y)-int(x>>8) < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
