// Package media knows what uploaded bytes are and makes images safe to
// show: it sniffs content types from the bytes (never trusting a name or a
// client's header), decides which types a browser may show inline, reads
// image dimensions without decoding pixels (so decompression bombs are
// refused before they cost memory), removes metadata (EXIF with GPS, XMP,
// IPTC, comments) from JPEG, PNG and WebP files without re-encoding them,
// and draws thumbnails and square avatars, re-encoded, in pure Go.
package media

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
)

// SniffLen is how many leading bytes Sniff looks at.
const SniffLen = 512

// Sniff returns the content type of a file from its first bytes (without
// parameters). declared is the type the client gave, used only to choose
// between the audio and video forms of one container (a voice note in
// WebM or MP4 is audio/webm or audio/mp4); it never makes a file
// something its bytes are not.
func Sniff(head []byte, declared string) string {
	t := http.DetectContentType(head)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	declared, _, _ = mime.ParseMediaType(declared)
	switch {
	case t == "application/ogg":
		t = "audio/ogg"
		if bytes.Contains(head, []byte("\x80theora")) {
			t = "video/ogg"
		}
	case t == "application/octet-stream" && bytes.HasPrefix(head, []byte("fLaC")):
		t = "audio/flac"
	case t == "video/mp4" && len(head) >= 12 && string(head[8:12]) == "M4A ":
		t = "audio/mp4"
	}
	if (t == "video/webm" || t == "video/mp4") && strings.HasPrefix(declared, "audio/") {
		t = "audio/" + strings.TrimPrefix(t, "video/")
	}
	return t
}

// inline lists the types served inline: images Parley can thumbnail, the
// audio and video browsers play, and PDF. Everything else (HTML, SVG, XML,
// scripts, archives, text) is only ever a download.
var inline = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"audio/mpeg": true, "audio/ogg": true, "audio/wave": true, "audio/webm": true, "audio/mp4": true,
	"audio/flac": true,
	"video/mp4":  true, "video/webm": true, "video/ogg": true,
	"application/pdf": true,
}

// Inline reports whether a sniffed type may be shown in the browser.
func Inline(contentType string) bool { return inline[contentType] }

// IsAudioVideo reports whether a sniffed type is audio or video.
func IsAudioVideo(contentType string) bool {
	return strings.HasPrefix(contentType, "audio/") || strings.HasPrefix(contentType, "video/")
}
