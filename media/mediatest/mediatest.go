// Package mediatest makes image files for tests: photos with EXIF (GPS
// position and orientation), PNG and WebP files with metadata, and a
// decompression bomb.
package mediatest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// Secret is the text planted in every piece of metadata these files carry:
// a test that finds it in an output found metadata.
const Secret = "GPS 48.8584N 2.2945E"

// Picture returns a w × h image: red on the left half, blue on the right,
// with a green top row (so orientation can be checked).
func Picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 200, 255}
			}
			if y < max(1, h/10) {
				c = color.RGBA{20, 200, 20, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// exif returns an APP1 EXIF payload (big-endian TIFF) with an orientation
// entry and a GPS-looking ASCII value holding Secret.
func exif(orientation int) []byte {
	var t bytes.Buffer
	t.WriteString("MM\x00*")
	binary.Write(&t, binary.BigEndian, uint32(8))
	binary.Write(&t, binary.BigEndian, uint16(2)) // entries
	// Orientation, SHORT, 1.
	binary.Write(&t, binary.BigEndian, []uint16{0x0112, 3})
	binary.Write(&t, binary.BigEndian, uint32(1))
	binary.Write(&t, binary.BigEndian, []uint16{uint16(orientation), 0})
	// ImageDescription, ASCII, pointing past the IFD.
	binary.Write(&t, binary.BigEndian, []uint16{0x010E, 2})
	binary.Write(&t, binary.BigEndian, uint32(len(Secret)+1))
	binary.Write(&t, binary.BigEndian, uint32(8+2+24+4))
	binary.Write(&t, binary.BigEndian, uint32(0)) // next IFD
	t.WriteString(Secret + "\x00")
	return append([]byte("Exif\x00\x00"), t.Bytes()...)
}

func segment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

// JPEG returns a w × h JPEG (as stored: before orientation) carrying EXIF
// with orientation and Secret, an XMP segment and a comment with Secret,
// and Secret appended after its end.
func JPEG(w, h, orientation int) []byte {
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, Picture(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	b := enc.Bytes()
	out := append([]byte{}, b[:2]...) // SOI
	out = append(out, segment(0xE1, exif(orientation))...)
	out = append(out, segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+Secret+"</x:xmpmeta>"))...)
	out = append(out, segment(0xFE, []byte(Secret))...)
	out = append(out, b[2:]...)
	return append(out, []byte(Secret)...)
}

func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// PNG returns a w × h PNG with tEXt, eXIf and tIME chunks holding Secret.
func PNG(w, h int) []byte {
	var enc bytes.Buffer
	if err := png.Encode(&enc, Picture(w, h)); err != nil {
		panic(err)
	}
	b := enc.Bytes()
	ihdrEnd := 8 + 8 + 13 + 4
	out := append([]byte{}, b[:ihdrEnd]...)
	out = append(out, pngChunk("tEXt", []byte("Comment\x00"+Secret))...)
	out = append(out, pngChunk("eXIf", exif(1)[6:])...)
	return append(out, b[ihdrEnd:]...)
}

// Bomb returns a PNG of w × h pixels, all zero, that is only a few
// kilobytes long (a decompression bomb when w × h is large).
func Bomb(w, h int) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit greyscale
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+w)
	for range min(h, 64) { // enough rows to look real; the rest is missing
		zw.Write(row)
	}
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// webpLossless1x1 is a 1 × 1 lossless WebP image.
const webpLossless1x1 = "VP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"

// WebP returns a 1 × 1 WebP (extended format) with EXIF and XMP chunks
// holding Secret.
func WebP() []byte {
	riffChunk := func(fourcc string, data []byte) []byte {
		out := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
		out = append(out, data...)
		if len(data)%2 == 1 {
			out = append(out, 0)
		}
		return out
	}
	vp8x := []byte{0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0} // EXIF and XMP flags; 1 × 1 (stored minus one)
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, webpLossless1x1...)
	body = append(body, riffChunk("EXIF", exif(1)[6:])...)
	body = append(body, riffChunk("XMP ", []byte("<x:xmpmeta>"+Secret+"</x:xmpmeta>"))...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}
