package service

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strconv"
	"time"

	"parley"
)

// Exports are limited: each reads the whole history of every conversation
// of the person and their files.
const (
	ExportsPerUser = 3
	ExportWindow   = time.Hour
)

func exportKey(userID int64) string { return "export:" + strconv.FormatInt(userID, 10) }

// exportPage is how many messages are read from the store at a time.
const exportPage = 200

// Export writes the user's data as a zip of JSON, streamed: nothing but
// the page of messages in hand and the list of one conversation's files
// are held in memory.
//
//	profile.json                       {"user": …, "blocks": […]}
//	conversations.json                 {"conversations": […]} as the conversation list has them
//	conversations/<id>/messages.json   {"messages": […]} every message of the conversation, by seq
//	attachments/<id>/<name>            the files of those messages (when the node serves files)
//
// Exports are limited to ExportsPerUser per ExportWindow (rate_limited);
// open is called once the export is allowed, and gives the writer it goes
// to. An error after open leaves the zip unfinished (a reader sees it is
// truncated).
func (s *Service) Export(ctx context.Context, u parley.User, open func() io.Writer) error {
	now := s.Now()
	if err := s.reserve(ctx, now, ExportWindow, "Too many exports; try again later.",
		parley.AttemptLimit{Key: exportKey(u.ID), Max: ExportsPerUser, Since: now.Add(-ExportWindow)}); err != nil {
		return err
	}
	blocks, err := s.Blocks(ctx, u.ID)
	if err != nil {
		return err
	}
	convs, err := s.Conversations(ctx, u.ID)
	if err != nil {
		return err
	}
	z := zip.NewWriter(open())
	put := func(name string, v any) error {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if err := put("profile.json", map[string]any{"user": u, "blocks": blocks}); err != nil {
		return err
	}
	if err := put("conversations.json", map[string]any{"conversations": convs}); err != nil {
		return err
	}
	var files []parley.Attachment
	for _, c := range convs {
		w, err := z.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("conversations/%d/messages.json", c.ID), Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, "{\"messages\": [\n"); err != nil {
			return err
		}
		first := true
		for after := int64(0); ; {
			page, err := s.store.Messages(ctx, c.ID, parley.MessageQuery{AfterSeq: after, Limit: exportPage})
			if err != nil {
				return err
			}
			for _, m := range page {
				b, err := json.Marshal(m)
				if err != nil {
					return err
				}
				if !first {
					if _, err := io.WriteString(w, ",\n"); err != nil {
						return err
					}
				}
				first = false
				if _, err := w.Write(b); err != nil {
					return err
				}
				files = append(files, m.Attachments...)
				after = m.Seq
			}
			if len(page) < exportPage {
				break
			}
		}
		if _, err := io.WriteString(w, "\n]}\n"); err != nil {
			return err
		}
		// The conversation's files, after its messages.
		if s.files != nil {
			for _, a := range files {
				if err := s.exportFile(ctx, z, a, now); err != nil {
					return err
				}
			}
		}
		files = files[:0]
	}
	return z.Close()
}

// exportFile adds an attachment's bytes; one gone meanwhile (its message
// deleted) is left out.
func (s *Service) exportFile(ctx context.Context, z *zip.Writer, a parley.Attachment, now time.Time) error {
	up, err := s.store.Upload(ctx, a.ID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	b, err := s.files.Open(ctx, up.Key)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	defer b.Close()
	name := path.Base(a.Name)
	if name == "." || name == "/" || name == "" {
		name = "file"
	}
	w, err := z.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("attachments/%d/%s", a.ID, name), Method: zip.Store, Modified: now})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, b)
	return err
}
