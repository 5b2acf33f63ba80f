// Writing a message: Enter sends, Shift+Enter starts a new line. Messages go
// through the outbox, so they wait while offline. "Suggest" streams AI
// suggestions as chips; picking one only fills the box for editing.
// Files (attach button, drop, paste) go with the text as its caption; with
// nothing to send, the microphone button records a voice note.
import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react';
import type { Member } from '../api/types';
import { chat, client, session } from '../app';
import { stage, staged, take } from '../state/staged';
import { draftOf, saveDraft, setReplyTo, useReplyTo } from '../state/compose';
import { useStore } from '../state/store';
import { insertMention, mentionCandidates, mentionQuery } from '../lib/mentions';
import { AttachButton, StagedFiles, useFileLimits } from './ComposerFiles';
import { EmojiButton } from './EmojiPicker';
import { MentionList } from './MentionList';
import { ReplyBar } from './ReplyQuote';
import { MicButton, RecordingBar, useVoiceRecorder, type VoiceNote } from './VoiceRecorder';
import { SuggestionChips, useSuggestions } from './SuggestionChips';
import { Icon, icons } from './ui';

const MAX = 4096;

export function Composer({ conversationId, onSent }: { conversationId: number; onSent?: () => void }) {
  // What was written and not sent stays, across reloads.
  const [text, setText] = useState(() => draftOf(chat.get().me?.id, conversationId));
  const ref = useRef<HTMLTextAreaElement>(null);
  const suggestionsOn = useStore(session, (s) => s.features.suggestions);
  const online = useStore(chat, (s) => s.connection.status === 'online');
  const sugg = useSuggestions(conversationId);
  const replyTo = useReplyTo(conversationId);
  const meId = useStore(chat, (s) => s.me?.id);

  useEffect(() => saveDraft(chat.get().me?.id, conversationId, text), [conversationId, text]);

  // Answering a message: write the answer.
  useEffect(() => {
    if (replyTo) ref.current?.focus();
  }, [replyTo]);
  const filesOn = useStore(session, (s) => !!s.features.files);
  const limits = useFileLimits();
  const stagedCount = useStore(staged, (s) => s[conversationId]?.files.length ?? 0);
  const onNote = useCallback(
    (n: VoiceNote) => {
      client.send(conversationId, '', { files: [{ blob: n.blob, name: n.name, duration: n.duration }] });
      onSent?.();
    },
    [conversationId, onSent],
  );
  const recorder = useVoiceRecorder(onNote);
  const recording = recorder.state.status !== 'idle';
  const members = useStore(chat, (s) => s.members[conversationId]);
  // Where the caret is, and the '@' whose offer Esc dismissed.
  const [caret, setCaret] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const listId = useId();
  const mq = mentionQuery(text, caret);
  const offer = useMemo(() => (mq && mq.start !== dismissed && members ? mentionCandidates(members, mq.query, meId) : []), [mq?.start, mq?.query, dismissed, members, meId]); // eslint-disable-line react-hooks/exhaustive-deps
  const open = offer.length > 0;
  const activeIndex = Math.min(active, offer.length - 1);

  // Each conversation opened gets a fresh Composer (ConversationView is keyed
  // by conversation), so a clean box; focus it.
  useEffect(() => {
    ref.current?.focus();
  }, [conversationId]);

  // Grow with the text, up to a limit (the placeholder changes with the connection).
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text, online]);

  const chars = [...text].length;
  const canSend = (text.trim().length > 0 || stagedCount > 0) && chars <= MAX;

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!canSend) return;
    const caption = text.trim() === '' ? '' : text;
    const replySeq = replyTo?.seq;
    setText('');
    setReplyTo(conversationId, null);
    const files = stagedCount > 0 ? await take(conversationId) : [];
    client.send(conversationId, caption, { replyTo: replySeq, files });
    sugg.reset();
    onSent?.();
    ref.current?.focus();
  };

  // Where the caret goes once text changed by code (a mention, an emoji, a
  // suggestion) is in the box. It is placed in the same render, before the
  // next key is read: placed on the next animation frame, it landed after
  // a key typed in between and moved the caret back over it.
  const [placeCaret, setPlaceCaret] = useState<{ at: number; focus: boolean } | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!placeCaret || !el) return;
    if (placeCaret.focus) el.focus();
    el.setSelectionRange(placeCaret.at, placeCaret.at);
  }, [placeCaret]);

  const pickMention = (m: Member) => {
    if (!mq) return;
    const r = insertMention(text, caret, mq, m.username);
    setText(r.text);
    setCaret(r.caret);
    setActive(0);
    setPlaceCaret({ at: r.caret, focus: true });
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open && !e.nativeEvent.isComposing) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setActive((activeIndex + (e.key === 'ArrowDown' ? 1 : -1) + offer.length) % offer.length);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        pickMention(offer[activeIndex]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissed(mq!.start);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    } else if (e.key === 'Escape' && replyTo) {
      e.preventDefault();
      setReplyTo(conversationId, null);
    }
  };

  // A pasted image (or file) joins the message; pasted text goes in as usual.
  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    if (!filesOn) return;
    const files = [...e.clipboardData.files];
    if (files.length === 0) return;
    e.preventDefault();
    stage(conversationId, files, limits);
  };

  // An emoji goes in where the caret is, and the caret goes after it.
  const insert = (t: string) => {
    const el = ref.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    setText(text.slice(0, start) + t + text.slice(end));
    setPlaceCaret({ at: start + t.length, focus: false });
  };

  const pick = (s: string) => {
    setText(s);
    setPlaceCaret({ at: s.length, focus: true });
  };

  return (
    <div className="relative border-t border-slate-200 bg-slate-50 px-3 py-2 sm:px-4">
      {replyTo && <ReplyBar message={replyTo} meId={meId} onCancel={() => (setReplyTo(conversationId, null), ref.current?.focus())} />}
      {suggestionsOn && <SuggestionChips state={sugg.state} onPick={pick} onClose={sugg.reset} />}
      {filesOn && <StagedFiles conversationId={conversationId} />}
      {open && <MentionList id={listId} members={offer} active={activeIndex} onPick={pickMention} onHover={setActive} />}
      <form onSubmit={send} className="flex items-end gap-2">
        {suggestionsOn && !recording && (
          <button
            type="button"
            onClick={() => void sugg.start(text)}
            disabled={sugg.state.status === 'streaming'}
            className="mb-0.5 inline-flex h-10 shrink-0 items-center gap-1 rounded-full px-3 text-sm font-medium text-brand-700 hover:bg-brand-50 disabled:opacity-50"
            title="Suggest a message"
            aria-label="Suggest"
          >
            <Icon d={icons.sparkle} className="h-4 w-4" />
            <span className="hidden sm:inline">Suggest</span>
          </button>
        )}
        {recording ? (
          <RecordingBar recorder={recorder} />
        ) : (
          <>
        <EmojiButton onPick={insert} onClose={() => ref.current?.focus()} />
        {filesOn && <AttachButton conversationId={conversationId} />}
        <label htmlFor="composer" className="sr-only">
          Message
        </label>
        <textarea
          id="composer"
          ref={ref}
          rows={1}
          value={text}
          placeholder={online ? 'Message' : 'Message (offline)'}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            setActive(0);
            client.setTyping(conversationId, e.target.value.length > 0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${offer[activeIndex].user_id}` : undefined}
          onBlur={() => client.setTyping(conversationId, false)}
          onKeyDown={onKey}
          onPaste={onPaste}
          aria-describedby={chars > MAX ? 'composer-too-long' : undefined}
          className="min-h-10 flex-1 resize-none rounded-2xl border border-slate-300 bg-surface px-4 py-2 text-[15px] leading-6 outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
        />
          </>
        )}
        {filesOn && (recorder.state.status !== 'idle' ? recorder.state.mode === 'hold' : !canSend && text === '') ? (
          <MicButton recorder={recorder} />
        ) : recording ? null : (
          <button type="submit" disabled={!canSend} aria-label="Send" className="mb-0.5 inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full bg-accent text-white transition hover:bg-accent-hover disabled:bg-slate-300">
            <Icon d={icons.send} className="h-5 w-5" />
          </button>
        )}
      </form>
      {recorder.error && (
        <p role="alert" className="mt-1 flex items-start gap-2 text-xs text-red-700" data-testid="mic-error">
          <span className="flex-1">{recorder.error}</span>
          <button type="button" onClick={recorder.clearError} className="font-medium underline">
            OK
          </button>
        </p>
      )}
      {chars > MAX && (
        <p id="composer-too-long" role="alert" className="mt-1 text-xs text-red-700">
          Messages can be at most {MAX} characters ({chars} now).
        </p>
      )}
    </div>
  );
}
