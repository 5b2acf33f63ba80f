package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// Strip copies an image from src to dst without its metadata: for JPEG,
// every APPn segment but JFIF, ICC profiles and Adobe's colour marker (so
// EXIF with its GPS position, XMP, IPTC, maker notes and embedded
// previews go), comments, and anything after the image's end — keeping the
// EXIF orientation alone, in a minimal EXIF segment, so that the picture is
// still shown upright; for PNG, every ancillary chunk that is not about
// colour, transparency, pixel size or animation (text, EXIF, times), and
// anything after IEND; for WebP, the EXIF and XMP chunks. The pixels are
// copied as they are: nothing is re-encoded. It reports whether anything
// was removed. GIF files are copied unchanged (the format carries no
// camera metadata).
func Strip(dst io.Writer, src io.ReadSeeker, contentType string) (changed bool, err error) {
	switch contentType {
	case "image/jpeg":
		return stripJPEG(dst, src)
	case "image/png":
		return stripPNG(dst, src)
	case "image/webp":
		return stripWebP(dst, src)
	}
	_, err = io.Copy(dst, src)
	return false, err
}

var errMalformed = errNotImage

// JPEG markers.
const (
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mAPP0 = 0xE0
	mAPP1 = 0xE1
	mAPP2 = 0xE2
	mAPPE = 0xEE
	mCOM  = 0xFE
)

// jpegSegment reads the next marker and, for markers with one, the
// segment's payload.
func jpegSegment(r *bufio.Reader) (marker byte, payload []byte, err error) {
	b, err := r.ReadByte()
	if err != nil || b != 0xFF {
		return 0, nil, errMalformed
	}
	for b == 0xFF { // fill bytes
		if b, err = r.ReadByte(); err != nil {
			return 0, nil, errMalformed
		}
	}
	marker = b
	if marker == mSOI || marker == mEOI || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
		return marker, nil, nil
	}
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return 0, nil, errMalformed
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n < 2 {
		return 0, nil, errMalformed
	}
	payload = make([]byte, n-2)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, errMalformed
	}
	return marker, payload, nil
}

func writeSegment(w io.Writer, marker byte, payload []byte) error {
	hdr := []byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// keepJPEG reports whether an APPn or COM segment stays.
func keepJPEG(marker byte, payload []byte) bool {
	switch {
	case marker == mAPP0:
		return bytes.HasPrefix(payload, []byte("JFIF\x00")) || bytes.HasPrefix(payload, []byte("JFXX\x00"))
	case marker == mAPP2:
		return bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00"))
	case marker == mAPPE:
		return bytes.HasPrefix(payload, []byte("Adobe"))
	case marker == mAPP1:
		// Only what Strip itself writes: an orientation and nothing else.
		o := exifOrientation(payload)
		return o > 1 && bytes.Equal(payload, orientationExif(o))
	case marker >= mAPP0 && marker <= 0xEF, marker == mCOM:
		return false
	}
	return true
}

func stripJPEG(dst io.Writer, src io.Reader) (bool, error) {
	r := bufio.NewReader(src)
	w := bufio.NewWriter(dst)
	if m, _, err := jpegSegment(r); err != nil || m != mSOI {
		return false, errMalformed
	}
	w.Write([]byte{0xFF, mSOI})
	changed, wroteOrientation := false, false
	for {
		marker, payload, err := jpegSegment(r)
		if err != nil {
			return false, err
		}
		if marker == mEOI {
			w.Write([]byte{0xFF, mEOI})
			break
		}
		if keepJPEG(marker, payload) && marker == mAPP1 {
			if wroteOrientation {
				continue
			}
			wroteOrientation = true
		} else if !keepJPEG(marker, payload) {
			changed = true
			if o := exifOrientation(payload); marker == mAPP1 && o > 1 && !wroteOrientation {
				if err := writeSegment(w, mAPP1, orientationExif(o)); err != nil {
					return false, err
				}
				wroteOrientation = true
			}
			continue
		}
		if err := writeSegment(w, marker, payload); err != nil {
			return false, err
		}
		if marker == mSOS {
			// Entropy-coded data up to the next marker that is not a
			// stuffed 0xFF or a restart marker.
			if err := copyScan(w, r); err != nil {
				return false, err
			}
		}
	}
	// Bytes after the image's end (appended previews, depth maps, other
	// files) are dropped.
	if _, err := r.ReadByte(); err == nil {
		changed = true
	}
	return changed, w.Flush()
}

// copyScan copies entropy-coded bytes from r to w and leaves r at the
// 0xFF of the next marker.
func copyScan(w *bufio.Writer, r *bufio.Reader) error {
	for {
		p, err := r.Peek(2)
		if err != nil {
			return errMalformed
		}
		if p[0] != 0xFF {
			w.WriteByte(p[0])
			r.Discard(1)
			continue
		}
		if p[1] == 0x00 || (p[1] >= 0xD0 && p[1] <= 0xD7) {
			w.Write(p)
			r.Discard(2)
			continue
		}
		return nil
	}
}

// jpegOrientation returns the EXIF orientation of a JPEG (1 if none).
func jpegOrientation(src io.Reader) int {
	r := bufio.NewReader(src)
	if m, _, err := jpegSegment(r); err != nil || m != mSOI {
		return 1
	}
	for {
		marker, payload, err := jpegSegment(r)
		if err != nil || marker == mSOS || marker == mEOI {
			return 1
		}
		if marker == mAPP1 {
			if o := exifOrientation(payload); o > 0 {
				return o
			}
		}
	}
}

// exifOrientation reads tag 0x0112 from IFD0 of an APP1 EXIF payload: 0
// when there is none or it is out of range.
func exifOrientation(p []byte) int {
	if !bytes.HasPrefix(p, []byte("Exif\x00\x00")) || len(p) < 14 {
		return 0
	}
	t := p[6:]
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(t[4:8]))
	if off < 8 || off+2 > len(t) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 0
		}
	}
	return 0
}

// orientationExif is an APP1 payload holding only an orientation.
func orientationExif(o int) []byte {
	p := []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08")
	p = append(p, 0, 1) // one entry
	p = append(p, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0)
	return append(p, 0, 0, 0, 0) // no next IFD
}

// pngKeep lists the ancillary PNG chunks that stay: colour, transparency,
// physical size, animation (APNG).
var pngKeep = map[string]bool{
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true, "bKGD": true,
	"pHYs": true, "cICP": true, "mDCV": true, "cLLI": true, "acTL": true, "fcTL": true, "fdAT": true,
}

const pngSig = "\x89PNG\r\n\x1a\n"

func stripPNG(dst io.Writer, src io.Reader) (bool, error) {
	r := bufio.NewReader(src)
	w := bufio.NewWriter(dst)
	sig := make([]byte, 8)
	if _, err := io.ReadFull(r, sig); err != nil || string(sig) != pngSig {
		return false, errMalformed
	}
	w.Write(sig)
	changed := false
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return false, errMalformed
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		critical := typ[0] >= 'A' && typ[0] <= 'Z'
		if n > 1<<31 {
			return false, errMalformed
		}
		if critical || pngKeep[typ] {
			w.Write(hdr[:])
			crc := crc32.NewIEEE()
			crc.Write(hdr[4:8])
			if _, err := io.CopyN(io.MultiWriter(w, crc), r, n); err != nil {
				return false, errMalformed
			}
			var sum [4]byte
			if _, err := io.ReadFull(r, sum[:]); err != nil || binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
				return false, errMalformed
			}
			w.Write(sum[:])
		} else {
			changed = true
			if _, err := io.CopyN(io.Discard, r, n+4); err != nil {
				return false, errMalformed
			}
		}
		if typ == "IEND" {
			break
		}
	}
	if _, err := r.ReadByte(); err == nil {
		changed = true
	}
	return changed, w.Flush()
}

// stripWebP removes the EXIF and XMP chunks of a WebP file and their flags
// in the VP8X header. The RIFF size changes, so the chunks are listed
// first and copied in a second pass.
// maxWebPChunks bounds the chunks of a WebP file Strip lists (an animation
// has one per frame).
const maxWebPChunks = 100_000

func stripWebP(dst io.Writer, src io.ReadSeeker) (bool, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(src, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WEBP" {
		return false, errMalformed
	}
	riff := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	type chunk struct {
		off, size int64 // of the whole chunk, header and padding included
		fourcc    string
	}
	var chunks []chunk
	keep := int64(4) // "WEBP"
	for off := int64(12); off < 8+riff; {
		var ch [8]byte
		if _, err := src.Seek(off, io.SeekStart); err != nil {
			return false, err
		}
		if _, err := io.ReadFull(src, ch[:]); err != nil {
			return false, errMalformed
		}
		size := 8 + int64(binary.LittleEndian.Uint32(ch[4:]))
		size += size & 1
		c := chunk{off: off, size: size, fourcc: string(ch[:4])}
		if len(chunks) == maxWebPChunks || (c.fourcc == "VP8X" && size > 64) {
			return false, errMalformed
		}
		chunks = append(chunks, c)
		if c.fourcc != "EXIF" && c.fourcc != "XMP " {
			keep += size
		}
		off += size
	}
	end, err := src.Seek(0, io.SeekEnd)
	if err != nil {
		return false, err
	}
	changed := keep != riff || end != 8+riff
	w := bufio.NewWriter(dst)
	binary.LittleEndian.PutUint32(hdr[4:8], uint32(keep))
	w.Write(hdr[:])
	for _, c := range chunks {
		if c.fourcc == "EXIF" || c.fourcc == "XMP " {
			continue
		}
		if _, err := src.Seek(c.off, io.SeekStart); err != nil {
			return false, err
		}
		if c.fourcc == "VP8X" {
			head := make([]byte, c.size)
			if _, err := io.ReadFull(src, head); err != nil || len(head) < 9 {
				return false, errMalformed
			}
			head[8] &^= 0x08 | 0x04 // EXIF and XMP flags
			w.Write(head)
			continue
		}
		if _, err := io.CopyN(w, src, c.size); err != nil {
			return false, errMalformed
		}
	}
	return changed, w.Flush()
}
