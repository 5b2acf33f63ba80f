package media_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"parley/media"
)

// BenchmarkThumbnail: a 12-megapixel JPEG photo to its 640-pixel thumbnail.
func BenchmarkThumbnail(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := media.Thumbnail(bytes.NewReader(data), "image/jpeg", media.ThumbnailSide, media.DefaultMaxPixels); err != nil {
			b.Fatal(err)
		}
	}
}
