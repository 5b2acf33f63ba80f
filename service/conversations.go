package service

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"parley"
)

// Conversations lists the user's conversations, newest activity first.
func (s *Service) Conversations(ctx context.Context, userID int64) ([]parley.ConversationSummary, error) {
	list, err := s.store.Conversations(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		fixSummary(&list[i])
	}
	return list, nil
}

// fixSummary names a direct conversation after the other person and hides
// what a summary must not show.
func fixSummary(c *parley.ConversationSummary) {
	if c.Kind == parley.KindDirect {
		c.Code = ""
		if c.Peer != nil {
			p := c.Peer.Public()
			c.Peer = &p
			c.Name = p.DisplayName
			if c.Name == "" {
				c.Name = p.Username
			}
		}
	}
	c.Unread = max(0, c.LastSeq-c.ReadSeq)
}

// Conversation returns one of the user's conversations.
func (s *Service) Conversation(ctx context.Context, userID, id int64) (parley.ConversationSummary, error) {
	if _, err := s.member(ctx, id, userID); err != nil {
		return parley.ConversationSummary{}, err
	}
	list, err := s.store.Conversations(ctx, userID)
	if err != nil {
		return parley.ConversationSummary{}, err
	}
	for _, c := range list {
		if c.ID == id {
			fixSummary(&c)
			return c, nil
		}
	}
	return parley.ConversationSummary{}, parley.ErrNotFound
}

// codeAlphabet is what generated codes are made of: 32 symbols that stay
// distinct without regard to case (codes are matched that way), without
// i, l, o and u, so none is mistaken for another when read out. Each is 5
// bits: a generated code, 12 of them in groups of four, carries 60 bits.
const codeAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// CodeBits is the entropy of a generated join code.
const CodeBits = 60

func generateCode() string {
	b := make([]byte, CodeBits/5)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	out := make([]byte, 0, len(b)+len(b)/4)
	for i := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[b[i]&31]) // 256 is a multiple of 32: uniform
	}
	return string(out)
}

// CreateGroup creates a group owned by userID. An empty code is generated.
func (s *Service) CreateGroup(ctx context.Context, userID int64, name, code string) (parley.ConversationSummary, error) {
	name = parley.NormalizeName(name)
	if err := parley.ValidateGroupName(name); err != nil {
		return parley.ConversationSummary{}, err
	}
	generated := code == ""
	if !generated {
		if err := parley.ValidateCode(code); err != nil {
			return parley.ConversationSummary{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		if generated {
			code = generateCode()
		}
		c, sys, err := s.store.CreateGroup(ctx, name, code, userID, s.Now())
		if parley.ErrorCode(err) == parley.ECODETAKEN && generated && attempt < 5 {
			continue
		} else if err != nil {
			return parley.ConversationSummary{}, err
		}
		s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventJoin, ConversationID: c.ID, UserID: userID, Mod: sys.Mod})
		sum, err := s.Conversation(ctx, userID, c.ID)
		if err != nil {
			return parley.ConversationSummary{}, err
		}
		s.publishConversation(ctx, userID, "created", sum)
		s.publishMessage(ctx, sys, "new")
		return sum, nil
	}
}

// JoinGroup adds userID to the group with that code; joined is false when
// they already were a member. ip is the client's address: failed joins are
// limited per user and per address (JoinFailuresPerUser,
// JoinFailuresPerAddress), each attempt counted before the code is looked
// up and taken back if the code is right, so codes cannot be guessed fast.
func (s *Service) JoinGroup(ctx context.Context, userID int64, code, ip string) (parley.ConversationSummary, bool, error) {
	now := s.Now()
	userKey, ipKey := joinUserKey(userID), joinAddressKey(ip)
	if err := s.reserve(ctx, now, JoinWindow, "Too many wrong group codes; try again later.",
		parley.AttemptLimit{Key: userKey, Max: JoinFailuresPerUser, Since: now.Add(-JoinWindow)},
		parley.AttemptLimit{Key: ipKey, Max: JoinFailuresPerAddress, Since: now.Add(-JoinWindow)}); err != nil {
		return parley.ConversationSummary{}, false, err
	}
	code = strings.TrimSpace(code)
	if !parley.CodeMayExist(code) {
		return parley.ConversationSummary{}, false, &parley.Error{Code: parley.EGROUPNOTFOUND, Field: "code", Message: "No group has that code."}
	}
	c, err := s.store.GroupByCode(ctx, code)
	if parley.ErrorCode(err) != parley.EGROUPNOTFOUND {
		s.forget(ctx, now, userKey, ipKey) // right code (or no answer): not a failed guess
	}
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	m, added, sys, err := s.store.AddMember(ctx, c.ID, userID, s.cfg.MaxGroupMembers, now)
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	sum, err := s.Conversation(ctx, userID, c.ID)
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	if added {
		s.announceJoin(ctx, m, sum, sys)
	}
	return sum, added, nil
}

func (s *Service) announceJoin(ctx context.Context, m parley.Member, sum parley.ConversationSummary, sys parley.Message) {
	// Subscribe the joiner's connections first, so that they see the system
	// message and everything after it.
	s.publish(ctx, parley.UserTopic(m.UserID), parley.Event{Type: parley.EventJoin, ConversationID: m.ConversationID, UserID: m.UserID,
		Mod: sys.Mod, Frame: encode(ConversationFrame{Ev: "conversation", Change: "added", Conversation: sum})})
	s.publish(ctx, parley.ConversationTopic(m.ConversationID), parley.Event{Type: parley.EventFrame, ConversationID: m.ConversationID,
		Frame: encode(MemberFrame{Ev: "member", ConversationID: m.ConversationID, Change: "joined", Member: m})})
	if sys.Seq > 0 {
		s.publishMessage(ctx, sys, "new")
	}
}

func (s *Service) publishConversation(ctx context.Context, userID int64, change string, sum parley.ConversationSummary) {
	s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventFrame, UserID: userID,
		Frame: encode(ConversationFrame{Ev: "conversation", Change: change, Conversation: sum})})
}

// Direct returns the direct conversation of userID and the named user,
// creating it on first use.
func (s *Service) Direct(ctx context.Context, userID int64, username string) (parley.ConversationSummary, bool, error) {
	other, err := s.store.UserByUsername(ctx, parley.NormalizeUsername(username))
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	if other.ID == userID {
		return parley.ConversationSummary{}, false, parley.FieldErrorf("username", "You cannot start a direct chat with yourself.")
	}
	accepts, err := s.accepts(ctx, other, userID)
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	if !accepts {
		// No new direct chat with someone who does not accept messages
		// (or blocks userID: the same answer); an existing one is still
		// returned (sends to it are refused).
		list, err := s.store.Conversations(ctx, userID)
		if err != nil {
			return parley.ConversationSummary{}, false, err
		}
		for _, c := range list {
			if c.Kind == parley.KindDirect && c.Peer != nil && c.Peer.ID == other.ID {
				fixSummary(&c)
				return c, false, nil
			}
		}
		return parley.ConversationSummary{}, false, parley.Errorf(parley.ENOTACCEPTING, "%s is not accepting direct messages.", other.Username)
	}
	c, created, err := s.store.Direct(ctx, userID, other.ID, s.Now())
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	sum, err := s.Conversation(ctx, userID, c.ID)
	if err != nil {
		return parley.ConversationSummary{}, false, err
	}
	if created {
		for _, uid := range []int64{userID, other.ID} {
			s.publish(ctx, parley.UserTopic(uid), parley.Event{Type: parley.EventJoin, ConversationID: c.ID, UserID: uid, Mod: c.LastMod + 1})
		}
		s.publishConversation(ctx, userID, "created", sum)
		if theirs, err := s.Conversation(ctx, other.ID, c.ID); err == nil {
			s.publishConversation(ctx, other.ID, "added", theirs)
		}
	}
	return sum, created, nil
}

// Members lists a conversation's members for a member.
func (s *Service) Members(ctx context.Context, userID, id int64) ([]parley.Member, error) {
	if _, err := s.member(ctx, id, userID); err != nil {
		return nil, err
	}
	return s.store.Members(ctx, id)
}

// moderator returns the actor's membership if they may moderate the group.
func (s *Service) moderator(ctx context.Context, userID, id int64) (parley.Member, parley.Conversation, error) {
	m, err := s.member(ctx, id, userID)
	if err != nil {
		return m, parley.Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return m, c, err
	}
	if c.Kind != parley.KindGroup {
		return m, c, parley.Errorf(parley.EINVALID, "Only groups have admins.")
	}
	if !m.CanModerate() {
		return m, c, parley.Errorf(parley.EFORBIDDEN, "Only the group's admins can do that.")
	}
	return m, c, nil
}

// Rename renames a group (admins only).
func (s *Service) Rename(ctx context.Context, userID, id int64, name string) (parley.ConversationSummary, error) {
	name = parley.NormalizeName(name)
	if err := parley.ValidateGroupName(name); err != nil {
		return parley.ConversationSummary{}, err
	}
	if _, _, err := s.moderator(ctx, userID, id); err != nil {
		return parley.ConversationSummary{}, err
	}
	_, sys, err := s.store.RenameGroup(ctx, id, name, userID, s.Now())
	if err != nil {
		return parley.ConversationSummary{}, err
	}
	s.publishMessage(ctx, sys, "new")
	s.announceConversation(ctx, id, "renamed")
	return s.Conversation(ctx, userID, id)
}

// announceConversation sends a conversation event to every member, each with
// their own summary.
func (s *Service) announceConversation(ctx context.Context, id int64, change string) {
	members, err := s.store.Members(ctx, id)
	if err != nil {
		s.log.Warn("announce conversation", "err", err)
		return
	}
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return
	}
	for _, m := range members {
		sum := parley.ConversationSummary{Conversation: c, Role: m.Role, ReadSeq: m.ReadSeq, DeliveredSeq: m.DeliveredSeq}
		fixSummary(&sum)
		s.publishConversation(ctx, m.UserID, change, sum)
	}
}

// SetCode sets (or with code "" generates) a new join code (admins only).
func (s *Service) SetCode(ctx context.Context, userID, id int64, code string) (parley.ConversationSummary, error) {
	generated := code == ""
	if !generated {
		if err := parley.ValidateCode(code); err != nil {
			return parley.ConversationSummary{}, err
		}
	}
	if _, _, err := s.moderator(ctx, userID, id); err != nil {
		return parley.ConversationSummary{}, err
	}
	for attempt := 0; ; attempt++ {
		if generated {
			code = generateCode()
		}
		_, sys, err := s.store.SetCode(ctx, id, code, userID, s.Now())
		if parley.ErrorCode(err) == parley.ECODETAKEN && generated && attempt < 5 {
			continue
		} else if err != nil {
			return parley.ConversationSummary{}, err
		}
		s.publishMessage(ctx, sys, "new")
		s.announceConversation(ctx, id, "code")
		return s.Conversation(ctx, userID, id)
	}
}

// SetRole changes a member's role. Admins may make members admins and back;
// only the owner may hand over ownership (becoming admin).
func (s *Service) SetRole(ctx context.Context, userID, id, target int64, role string) (parley.Member, error) {
	actor, _, err := s.moderator(ctx, userID, id)
	if err != nil {
		return parley.Member{}, err
	}
	switch role {
	case parley.RoleAdmin, parley.RoleMember, parley.RoleOwner:
	default:
		return parley.Member{}, parley.FieldErrorf("role", "role must be owner, admin or member.")
	}
	tm, err := s.store.Member(ctx, id, target)
	if err != nil {
		return parley.Member{}, err
	}
	if tm.Role == parley.RoleOwner || (role == parley.RoleOwner && actor.Role != parley.RoleOwner) {
		return parley.Member{}, parley.Errorf(parley.EFORBIDDEN, "Only the owner can hand over ownership, and the owner's role cannot be changed by others.")
	}
	if tm.Role == role {
		return tm, nil
	}
	m, sys, err := s.store.SetRole(ctx, id, target, role, userID, s.Now())
	if err != nil {
		return parley.Member{}, err
	}
	s.publishMessage(ctx, sys, "new")
	changed := []parley.Member{m}
	if role == parley.RoleOwner { // the previous owner is admin now
		if prev, err := s.store.Member(ctx, id, actor.UserID); err == nil {
			changed = append(changed, prev)
		}
	}
	for _, cm := range changed {
		s.publish(ctx, parley.ConversationTopic(id), parley.Event{Type: parley.EventFrame, ConversationID: id,
			Frame: encode(MemberFrame{Ev: "member", ConversationID: id, Change: "role", Member: cm})})
	}
	return m, nil
}

// AddMember adds the person with that username to a group on an admin's
// behalf, lifting the ban a removal left: a removed member comes back only
// this way. The person must accept messages (ENOTACCEPTING), the group's
// member limit holds, and each admin may add AddsPerHour people an hour.
// added is false when they already were a member.
func (s *Service) AddMember(ctx context.Context, userID, id int64, username string) (parley.Member, bool, error) {
	if _, _, err := s.moderator(ctx, userID, id); err != nil {
		return parley.Member{}, false, err
	}
	target, err := s.store.UserByUsername(ctx, parley.NormalizeUsername(username))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.Member{}, false, &parley.Error{Code: parley.ENOTFOUND, Field: "username", Message: "No one has that username."}
	} else if err != nil {
		return parley.Member{}, false, err
	}
	if m, err := s.store.Member(ctx, id, target.ID); err == nil {
		return m, false, nil
	}
	if !target.AcceptingMessages {
		return parley.Member{}, false, parley.Errorf(parley.ENOTACCEPTING, "%s is not accepting messages, so cannot be added.", target.Username)
	}
	now := s.Now()
	key := addUserKey(userID)
	if err := s.reserve(ctx, now, time.Hour, "You have added many people this hour; try again later.",
		parley.AttemptLimit{Key: key, Max: AddsPerHour, Since: now.Add(-time.Hour)}); err != nil {
		return parley.Member{}, false, err
	}
	m, added, sys, err := s.store.AddMemberBy(ctx, id, target.ID, userID, s.cfg.MaxGroupMembers, now)
	if err != nil || !added {
		s.forget(ctx, now, key)
		return m, false, err
	}
	sum, err := s.Conversation(ctx, target.ID, id)
	if err != nil {
		return parley.Member{}, false, err
	}
	s.announceJoin(ctx, m, sum, sys)
	return m, true, nil
}

// RemoveMember removes target from a group (admins only; the owner cannot be
// removed).
func (s *Service) RemoveMember(ctx context.Context, userID, id, target int64) error {
	if target == userID {
		return s.Leave(ctx, userID, id)
	}
	if _, _, err := s.moderator(ctx, userID, id); err != nil {
		return err
	}
	tm, err := s.store.Member(ctx, id, target)
	if err != nil {
		return err
	}
	if tm.Role == parley.RoleOwner {
		return parley.Errorf(parley.EFORBIDDEN, "The owner cannot be removed.")
	}
	sys, err := s.store.RemoveMember(ctx, id, target, userID, s.Now())
	if err != nil {
		return err
	}
	s.announceLeave(ctx, tm, "removed", sys)
	return nil
}

// Leave ends the user's membership of a group.
func (s *Service) Leave(ctx context.Context, userID, id int64) error {
	m, err := s.member(ctx, id, userID)
	if err != nil {
		return err
	}
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return err
	}
	if c.Kind != parley.KindGroup {
		return parley.Errorf(parley.EINVALID, "Direct chats cannot be left.")
	}
	sys, err := s.store.RemoveMember(ctx, id, userID, userID, s.Now())
	if err != nil {
		return err
	}
	s.announceLeave(ctx, m, "left", sys)
	return nil
}

func (s *Service) announceLeave(ctx context.Context, m parley.Member, change string, sys parley.Message) {
	id := m.ConversationID
	// The leaver stops receiving the conversation's events first.
	c, _ := s.store.Conversation(ctx, id)
	sum := parley.ConversationSummary{Conversation: c, Role: m.Role}
	fixSummary(&sum)
	sum.Code = ""
	s.publish(ctx, parley.UserTopic(m.UserID), parley.Event{Type: parley.EventLeave, ConversationID: id, UserID: m.UserID,
		Frame: encode(ConversationFrame{Ev: "conversation", Change: "removed", Conversation: sum})})
	s.publishMessage(ctx, sys, "new")
	s.publish(ctx, parley.ConversationTopic(id), parley.Event{Type: parley.EventFrame, ConversationID: id,
		Frame: encode(MemberFrame{Ev: "member", ConversationID: id, Change: change, Member: m})})
	// Ownership may have moved.
	if m.Role == parley.RoleOwner {
		if members, err := s.store.Members(ctx, id); err == nil {
			for _, o := range members {
				if o.Role == parley.RoleOwner {
					s.publish(ctx, parley.ConversationTopic(id), parley.Event{Type: parley.EventFrame, ConversationID: id,
						Frame: encode(MemberFrame{Ev: "member", ConversationID: id, Change: "role", Member: o})})
				}
			}
		}
	}
}
