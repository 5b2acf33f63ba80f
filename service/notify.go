package service

import (
	"context"

	"parley"
)

// UpdateNotifySettings changes the user's notification settings for a
// conversation: level is "default", "all", "mentions" or "off"; mute is
// "1h", "8h", "1w", "always" or "off" (unmute). nil leaves a setting as it
// is.
func (s *Service) UpdateNotifySettings(ctx context.Context, userID, conversationID int64, level, mute *string) (parley.NotifySettings, error) {
	var upd parley.NotifyUpdate
	if level != nil {
		if !parley.ValidNotifyLevel(*level) || *level == "" {
			return parley.NotifySettings{}, parley.FieldErrorf("level", "level must be default, all, mentions or off.")
		}
		upd.Level = level
	}
	if mute != nil {
		upd.Mute = true
		if *mute != "off" {
			d, ok := parley.MuteChoices[*mute]
			if !ok {
				return parley.NotifySettings{}, parley.FieldErrorf("mute", "mute must be 1h, 8h, 1w, always or off.")
			}
			until := parley.MuteForever
			if d > 0 {
				until = s.Now().Add(d)
			}
			upd.MutedUntil = &until
		}
	}
	if level == nil && mute == nil {
		return parley.NotifySettings{}, parley.Errorf(parley.EINVALID, "Give level, mute or both.")
	}
	if conversationID <= 0 {
		return parley.NotifySettings{}, parley.ErrNotFound
	}
	return s.store.UpdateNotifySettings(ctx, conversationID, userID, upd)
}
