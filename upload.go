package parley

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Upload is a file a user uploaded. Its bytes are a blob (Key); so is its
// thumbnail, made later for images (ThumbKey). Until it is attached to a
// message it is the uploader's alone; then it is that message's attachment,
// visible to the members of the message's conversation, and it goes when
// the message is deleted. An upload never attached is deleted after
// UploadTTL. A forward copies the uploads (UploadStore.CopyAttachments):
// a copy is another upload of the same blob, so each message's files go
// with that message alone, and the bytes stay while either uses them.
type Upload struct {
	ID      int64
	OwnerID int64
	Key     string
	Name    string
	Size    int64
	// ContentType is sniffed from the bytes (media.Sniff), never the
	// client's word.
	ContentType string
	// Width and Height are an image's, read from its header (as shown,
	// after the EXIF orientation), or what the client measured of a video.
	Width, Height int
	// Duration of audio or video in seconds, as the client measured it.
	Duration float64
	// ThumbKey is the thumbnail's blob, "" until it is made.
	ThumbKey  string
	CreatedAt time.Time
	// ConversationID and MessageID are 0 until the upload is attached.
	ConversationID int64
	MessageID      int64
}

// UploadTTL is how long an upload waits to be attached before it is
// deleted.
const UploadTTL = 24 * time.Hour

// Attachment is an upload as a message carries it (docs/protocol.md).
type Attachment struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Size         int64   `json:"size"`
	ContentType  string  `json:"content_type"`
	Width        int     `json:"width,omitempty"`
	Height       int     `json:"height,omitempty"`
	Duration     float64 `json:"duration,omitempty"`
	URL          string  `json:"url"`
	ThumbnailURL string  `json:"thumbnail_url,omitempty"`
}

// Attachment returns the upload as a message carries it.
func (u Upload) Attachment() Attachment {
	a := Attachment{ID: u.ID, Name: u.Name, Size: u.Size, ContentType: u.ContentType,
		Width: u.Width, Height: u.Height, Duration: u.Duration, URL: AttachmentURL(u.ID)}
	if IsImage(u.ContentType) {
		a.ThumbnailURL = a.URL + "/thumbnail"
	}
	return a
}

// IsImage reports whether a (sniffed) content type is an image Parley
// reads: its size is known, its metadata removed, it gets a thumbnail.
func IsImage(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return true
	}
	return false
}

// Attachments returns uploads as a message carries them, in order; nil
// for none.
func Attachments(ups []Upload) []Attachment {
	if len(ups) == 0 {
		return nil
	}
	list := make([]Attachment, len(ups))
	for i, u := range ups {
		list[i] = u.Attachment()
	}
	return list
}

// AttachmentsJSON encodes uploads as a message stores them: the list of
// their attachments, in order; nil for none.
func AttachmentsJSON(ups []Upload) []byte {
	if len(ups) == 0 {
		return nil
	}
	b, err := json.Marshal(Attachments(ups))
	if err != nil {
		panic("encode attachments: " + err.Error()) // plain values always encode
	}
	return b
}

// AttachmentURL is where an attachment is downloaded.
func AttachmentURL(id int64) string { return "/api/v1/attachments/" + strconv.FormatInt(id, 10) }

// AvatarURL is where a user's profile photo is; "" when key (the photo's
// blob) is "". The key's start makes the address change with the photo.
func AvatarURL(userID int64, key string) string {
	if key == "" {
		return ""
	}
	return "/api/v1/users/" + strconv.FormatInt(userID, 10) + "/avatar?v=" + key[:12]
}

// GroupPhotoURL is where a group's photo is; "" when key is "".
func GroupPhotoURL(conversationID int64, key string) string {
	if key == "" {
		return ""
	}
	return "/api/v1/conversations/" + strconv.FormatInt(conversationID, 10) + "/photo?v=" + key[:12]
}

// Errors of uploads.
var (
	// ErrQuota refuses an upload that would take its owner past their
	// quota.
	ErrQuota = &Error{Code: EQUOTA, Message: "Your uploads have reached your storage quota; delete some messages with files first."}
	// ErrBadAttachments refuses a message whose attachments are not all
	// uploads of the sender's waiting to be attached.
	ErrBadAttachments = &Error{Code: EINVALID, Field: "attachments",
		Message: "Each attachment must be one of your uploads not yet sent (uploads wait 24 hours)."}
	// ErrBlobBusy says a blob is being deleted just now: take the
	// reference again in a moment.
	ErrBlobBusy = &Error{Code: EUNAVAILABLE, Message: "The file is being stored; try again."}
)

// BlobLeaseGrace is how long past a deletion lease's end the lease is still
// respected: the margin for clocks of different nodes that disagree and for
// a deletion request still on its way to the storage.
const BlobLeaseGrace = time.Minute

// UploadStore keeps uploads, profile and group photos, and the reference
// counts of the blobs they use.
//
// # Blob references
//
// Blobs are shared: the same bytes uploaded twice are one blob. The store
// counts, per blob key, the records that use it (an upload's file, its
// thumbnail, a profile or group photo). Each method that records a use
// takes a reference in the same transaction, each that ends one releases it.
// A blob whose count falls to 0 is doomed: a deleter leases it
// (LeaseDoomedBlobs), deletes its bytes before the lease ends, and forgets
// it (ForgetBlobs). Taking a reference to a doomed blob revives it, unless
// a deletion lease is active (until its end plus BlobLeaseGrace): then the
// method fails with ErrBlobBusy, nothing changes, and the caller tries
// again. Whoever takes a reference stores the bytes (Blobs.Put) after the
// commit if they are missing, so a revived blob whose bytes are gone gets
// them back, and a blob's bytes are never deleted while a record uses it.
type UploadStore interface {
	// CreateUpload stores u, setting u.ID, and takes a reference to u.Key
	// (a blob of u.Size bytes). ErrQuota if the owner's uploads (attached
	// or not) would then hold more than quota bytes; ENOTFOUND if the owner
	// does not exist; ErrBlobBusy.
	CreateUpload(ctx context.Context, u *Upload, quota int64, now time.Time) error
	// Upload returns an upload; ENOTFOUND if there is none.
	Upload(ctx context.Context, id int64) (Upload, error)
	// UploadUsage is the bytes of all of a user's uploads.
	UploadUsage(ctx context.Context, ownerID int64) (int64, error)
	// SetThumbnail records an upload's thumbnail (a blob of size bytes) and
	// takes a reference to it, if the upload has none yet; if it has one,
	// nothing changes. It returns the upload. ENOTFOUND if there is no such
	// upload; ErrBlobBusy.
	SetThumbnail(ctx context.Context, id int64, key string, size int64, now time.Time) (Upload, error)
	// CopyAttachments copies the attachments of message seq of a
	// conversation, for ownerID to forward: in one transaction, new
	// uploads of ownerID's, not attached, with the same blobs (a reference
	// taken to each, thumbnail included), name, size, type and measures,
	// in the message's order (none for a message without attachments).
	// They are uploads like any other: attached by an append, deleted
	// with their message, or after UploadTTL if never attached. Their
	// sizes count toward ownerID's quota: ErrQuota if ownerID's uploads
	// would then hold more than quota bytes. ENOTFOUND if ownerID is not
	// a member of the conversation, or there is no such message, or it is
	// deleted or a system message.
	CopyAttachments(ctx context.Context, conversationID, seq, ownerID, quota int64, now time.Time) ([]Upload, error)
	// DeleteUpload deletes an upload of ownerID's that is not attached,
	// releasing its blobs; ENOTFOUND if ownerID has no such upload.
	DeleteUpload(ctx context.Context, ownerID, id int64) error
	// DeleteOrphanUploads deletes at most limit uploads never attached and
	// created before before, releasing their blobs, and returns how many.
	DeleteOrphanUploads(ctx context.Context, before time.Time, limit int) (int, error)

	// SetAvatar sets (key != "") or removes (key == "") a user's profile
	// photo, a blob of size bytes: it takes a reference to the new one and
	// releases the old one. ENOTFOUND if there is no such user; ErrBlobBusy.
	SetAvatar(ctx context.Context, userID int64, key string, size int64, now time.Time) (User, error)
	// SetGroupPhoto sets or removes a group's photo the same way.
	// ENOTFOUND if there is no such group; ErrBlobBusy.
	SetGroupPhoto(ctx context.Context, conversationID int64, key string, size int64, now time.Time) (Conversation, error)

	// LeaseDoomedBlobs leases at most limit doomed blobs whose deletion is
	// not leased (or whose lease ended before now minus BlobLeaseGrace)
	// until until, and returns their keys.
	LeaseDoomedBlobs(ctx context.Context, now, until time.Time, limit int) ([]string, error)
	// ForgetBlobs forgets the blobs among keys that are still doomed and
	// leased until until, once their bytes are deleted.
	ForgetBlobs(ctx context.Context, keys []string, until time.Time) error
}
