package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"parley"
)

// DefaultMaxPixels is the default largest image (width × height) Parley
// reads: 50 megapixels. Larger ones are refused from their header alone.
const DefaultMaxPixels = 50_000_000

// Info is what an image's header says.
type Info struct {
	// Width and Height are as displayed: swapped when the EXIF
	// orientation turns the picture a quarter.
	Width, Height int
	// Orientation is the EXIF orientation (1 to 8; 1 when absent).
	Orientation int
}

var errNotImage = parley.FieldErrorf("file", "The image could not be read.")

// tooManyPixels refuses an image over the limit.
func tooManyPixels(maxPixels int64) error {
	return parley.FieldErrorf("file", "The image is larger than %.0f megapixels.", float64(maxPixels)/1e6)
}

func decodeConfig(r io.Reader, contentType string) (image.Config, error) {
	switch contentType {
	case "image/jpeg":
		return jpeg.DecodeConfig(r)
	case "image/png":
		return png.DecodeConfig(r)
	case "image/gif":
		return gif.DecodeConfig(r)
	case "image/webp":
		return webp.DecodeConfig(r)
	}
	return image.Config{}, errNotImage
}

// Inspect reads an image's dimensions and orientation from its header,
// without decoding its pixels; an EINVALID error past maxPixels.
func Inspect(r io.ReadSeeker, contentType string, maxPixels int64) (Info, error) {
	cfg, err := decodeConfig(r, contentType)
	if err != nil {
		return Info{}, errNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, errNotImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return Info{}, tooManyPixels(maxPixels)
	}
	info := Info{Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	if contentType == "image/jpeg" {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return Info{}, err
		}
		info.Orientation = jpegOrientation(r)
		if info.Orientation >= 5 {
			info.Width, info.Height = info.Height, info.Width
		}
	}
	return info, nil
}

// decode decodes a whole image (the first frame of a GIF) after checking
// its size from the header again.
func decode(r io.ReadSeeker, contentType string, maxPixels int64) (image.Image, Info, error) {
	info, err := Inspect(r, contentType, maxPixels)
	if err != nil {
		return nil, info, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, info, err
	}
	var img image.Image
	switch contentType {
	case "image/jpeg":
		img, err = jpeg.Decode(r)
	case "image/png":
		img, err = png.Decode(r)
	case "image/gif":
		img, err = gif.Decode(r)
	case "image/webp":
		img, err = webp.Decode(r)
	}
	if err != nil {
		return nil, info, errNotImage
	}
	return img, info, nil
}

// Picture is an encoded image made by Thumbnail or Avatar.
type Picture struct {
	Data          []byte
	ContentType   string
	Width, Height int
}

// ThumbnailSide bounds a thumbnail's longer side, in pixels.
const ThumbnailSide = 640

// Thumbnail decodes an image and returns it upright (its EXIF orientation
// applied), scaled to fit in side × side pixels (never enlarged), and
// re-encoded — JPEG, or PNG when it has transparency — so that nothing of
// the original's metadata survives. Images over maxPixels are refused from
// their header.
func Thumbnail(r io.ReadSeeker, contentType string, side int, maxPixels int64) (Picture, error) {
	img, info, err := decode(r, contentType, maxPixels)
	if err != nil {
		return Picture{}, err
	}
	w, h := fit(info.Width, info.Height, side)
	return encode(orient(scale(img, info.Orientation, w, h), info.Orientation))
}

// AvatarSide is the side of an avatar, in pixels.
const AvatarSide = 256

// Avatar decodes an image and returns its centered square, upright, scaled
// to side × side pixels (or its own side if smaller) and re-encoded.
func Avatar(r io.ReadSeeker, contentType string, side int, maxPixels int64) (Picture, error) {
	img, info, err := decode(r, contentType, maxPixels)
	if err != nil {
		return Picture{}, err
	}
	b := img.Bounds()
	sq := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, sq, sq).Add(b.Min).Add(image.Pt((b.Dx()-sq)/2, (b.Dy()-sq)/2))
	side = min(side, sq)
	dst := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	return encode(orient(dst, info.Orientation))
}

// fit scales w × h down to fit in side × side.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}

// scale draws img at w × h (displayed size; swapped for orientations that
// turn the picture a quarter, as orient turns it afterwards). A picture
// many times larger is first shrunk by a whole factor, averaging blocks of
// pixels (cheap, and it keeps the filter's buffers small), then filtered
// down the rest of the way.
func scale(img image.Image, orientation, w, h int) *image.RGBA {
	if orientation >= 5 {
		w, h = h, w
	}
	b := img.Bounds()
	if f := min(b.Dx()/w, b.Dy()/h) / 2; f >= 2 {
		img = shrink(img, f)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// shrink returns img at 1/f of its size, each pixel the average of an f × f
// block (the chroma of a JPEG's block taken at its centre). Images other
// than JPEG's and PNG's usual kinds are returned unchanged.
func shrink(img image.Image, f int) image.Image {
	b := img.Bounds()
	w, h := b.Dx()/f, b.Dy()/f
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	n := uint32(f * f)
	switch src := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				var sum uint32
				x0, y0 := b.Min.X+x*f, b.Min.Y+y*f
				for dy := range f {
					i := src.YOffset(x0, y0+dy)
					for _, v := range src.Y[i : i+f] {
						sum += uint32(v)
					}
				}
				c := src.COffset(x0+f/2, y0+f/2)
				r, g, bl := color.YCbCrToRGB(uint8(sum/n), src.Cb[c], src.Cr[c])
				o := out.PixOffset(x, y)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = r, g, bl, 0xff
			}
		}
	case *image.NRGBA:
		// Colours weighted by their alpha: transparent pixels lend none.
		for y := range h {
			for x := range w {
				var r, g, bl, a uint32
				for dy := range f {
					i := src.PixOffset(b.Min.X+x*f, b.Min.Y+y*f+dy)
					for p := src.Pix[i : i+4*f]; len(p) >= 4; p = p[4:] {
						pa := uint32(p[3])
						r, g, bl, a = r+uint32(p[0])*pa, g+uint32(p[1])*pa, bl+uint32(p[2])*pa, a+pa
					}
				}
				o := out.PixOffset(x, y)
				if a > 0 { // premultiplied: colour × alpha / 255
					out.Pix[o], out.Pix[o+1], out.Pix[o+2] = uint8(r/n/255), uint8(g/n/255), uint8(bl/n/255)
				}
				out.Pix[o+3] = uint8(a / n)
			}
		}
	case *image.RGBA:
		for y := range h {
			for x := range w {
				var sum [4]uint32
				for dy := range f {
					i := src.PixOffset(b.Min.X+x*f, b.Min.Y+y*f+dy)
					for p := src.Pix[i : i+4*f]; len(p) >= 4; p = p[4:] {
						sum[0], sum[1], sum[2], sum[3] = sum[0]+uint32(p[0]), sum[1]+uint32(p[1]), sum[2]+uint32(p[2]), sum[3]+uint32(p[3])
					}
				}
				o := out.PixOffset(x, y)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = uint8(sum[0]/n), uint8(sum[1]/n), uint8(sum[2]/n), uint8(sum[3]/n)
			}
		}
	default:
		return img
	}
	return out
}

// orient applies an EXIF orientation (2 to 8: mirror and quarter turns).
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.SetRGBA(dx, dy, src.RGBAAt(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// encode writes img as JPEG, or as PNG if any pixel is not opaque.
func encode(img *image.RGBA) (Picture, error) {
	var buf bytes.Buffer
	p := Picture{Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	if img.Opaque() {
		p.ContentType = "image/jpeg"
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82}); err != nil {
			return Picture{}, fmt.Errorf("media: encode JPEG: %w", err)
		}
	} else {
		p.ContentType = "image/png"
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, img); err != nil {
			return Picture{}, fmt.Errorf("media: encode PNG: %w", err)
		}
	}
	p.Data = buf.Bytes()
	return p, nil
}

// IsNotImage reports whether err says the bytes are not a readable image.
func IsNotImage(err error) bool { return errors.Is(err, errNotImage) }
