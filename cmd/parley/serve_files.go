package main

import (
	"fmt"
	"strconv"
	"strings"

	"parley/app"
	phttp "parley/http"
	"parley/media"
	"parley/service"
)

// filesFlags declares the flags of file storage and uploads on f before
// parsing and returns what applies them to cfg after.
func filesFlags(f *flags) func(cfg *app.Config) error {
	storage := f.String("storage-url", "PARLEY_STORAGE_URL", "",
		"S3-compatible storage for files, s3://bucket?endpoint=host:port&region=…&prefix=… (endpoint http://… for no TLS); empty keeps files in the data dir's blobs folder")
	accessKey := f.String("s3-access-key", "PARLEY_S3_ACCESS_KEY", "", "access key of the S3 storage (empty: $AWS_ACCESS_KEY_ID, $MINIO_ROOT_USER, ~/.aws/credentials or the instance role)")
	secretKey := f.Secret("s3-secret-key", "PARLEY_S3_SECRET_KEY", "secret key of the S3 storage")
	maxUpload := f.Size("max-upload", "PARLEY_MAX_UPLOAD", service.DefaultMaxUpload, "largest file one upload may be")
	quota := f.Size("upload-quota", "PARLEY_UPLOAD_QUOTA", service.DefaultUploadQuota, "bytes of files one user may have uploaded (deleting their messages frees them)")
	maxAttach := f.Int("max-attachments", "PARLEY_MAX_ATTACHMENTS", service.DefaultMaxAttachments, "files one message may carry")
	maxPixels := f.Int("max-image-pixels", "PARLEY_MAX_IMAGE_PIXELS", media.DefaultMaxPixels, "largest image (width × height) read; larger ones are refused from their header")
	rate := f.Int("upload-rate", "PARLEY_UPLOAD_RATE", app.DefaultUploadRate, "uploads (files and photos) per user per minute")
	timeout := f.Duration("upload-timeout", "PARLEY_UPLOAD_TIMEOUT", phttp.DefaultUploadTimeout, "time limit of a request carrying a file (one that stops sending for 30 s ends sooner)")
	workers := f.Int("image-workers", "PARLEY_IMAGE_WORKERS", service.DefaultImageWorkers, "images decoded at once for thumbnails and photos (each may take width × height × 4 bytes of memory)")
	tempDir := f.String("upload-temp-dir", "PARLEY_UPLOAD_TEMP_DIR", "", "folder holding uploads while they arrive (empty: the data dir's tmp folder)")
	return func(cfg *app.Config) error {
		if *maxUpload < 1 || *quota < 1 || *maxAttach < 1 || *maxPixels < 1 || *rate < 1 || *timeout <= 0 || *workers < 1 {
			return fmt.Errorf("upload limits out of range: --max-upload, --upload-quota, --max-attachments, --max-image-pixels, --upload-rate, --upload-timeout and --image-workers must be positive")
		}
		if *storage != "" && !strings.HasPrefix(*storage, "s3://") {
			return fmt.Errorf("--storage-url must be an s3:// URL (or empty for the data dir)")
		}
		cfg.StorageURL, cfg.S3AccessKey, cfg.S3SecretKey = *storage, *accessKey, *secretKey
		cfg.Files = service.FilesConfig{MaxUpload: *maxUpload, Quota: *quota, MaxAttachments: *maxAttach,
			MaxPixels: int64(*maxPixels), ImageWorkers: *workers, TempDir: *tempDir}
		cfg.UploadRate, cfg.UploadTimeout = *rate, *timeout
		return nil
	}
}

// sizeValue is a flag holding a number of bytes, written as a whole number
// with an optional unit: 25MiB, 1GiB, 512KiB, 1000000.
type sizeValue int64

var sizeUnits = []struct {
	suffix string
	n      int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}

func (v *sizeValue) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("not a size")
	}
	*v = sizeValue(n * mult)
	return nil
}

func (v *sizeValue) String() string {
	n := int64(*v)
	for _, u := range sizeUnits[:4] {
		if n >= u.n && n%u.n == 0 && (n/u.n < 1024 || u.suffix == "TiB") {
			return strconv.FormatInt(n/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (v *sizeValue) Get() any { return *v }

// Size declares a flag holding a number of bytes (see sizeValue).
func (f *flags) Size(name, env string, def int64, help string) *int64 {
	f.bind(name, env)
	v := sizeValue(def)
	f.Var(&v, name, help+" ($"+env+"; a size like 25MiB)")
	return (*int64)(&v)
}
