// Voice notes. Hold the microphone button to record and let go to send
// (drag away before letting go to cancel), or click it to start and use
// Send / Delete to finish. Recorded with MediaRecorder (Opus in WebM or Ogg
// where the browser has it); the length is timed here, since the file a
// browser writes as it records often does not say it. A refused or missing
// microphone is explained rather than failing silently.
import { useCallback, useEffect, useRef, useState, type PointerEvent } from 'react';
import { formatDuration, VOICE_PREFIX } from '../lib/files';
import { useNow } from '../lib/useNow';
import { fileIcons } from './fileIcons';
import { Icon, icons } from './ui';

const HOLD_MS = 450;
const MAX_SECONDS = 10 * 60;
const CANCEL_DISTANCE = 80;

export interface VoiceNote {
  blob: Blob;
  name: string;
  duration: number;
}

type RecState = { status: 'idle' } | { status: 'starting'; mode: 'hold' | 'click' } | { status: 'recording'; mode: 'hold' | 'click'; since: number };

function pickType(): string | undefined {
  if (typeof MediaRecorder === 'undefined') return undefined;
  for (const t of ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4']) if (MediaRecorder.isTypeSupported?.(t)) return t;
  return undefined;
}

function extensionFor(type: string): string {
  if (type.includes('ogg')) return 'ogg';
  if (type.includes('mp4')) return 'm4a';
  return 'webm';
}

/** micProblem says in plain words why recording could not start. */
export function micProblem(e: unknown): string {
  const name = (e as { name?: string })?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'Parley may not use your microphone. To record voice messages, allow the microphone for this site in your browser (the icon beside the address) and try again.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Connect one and try again.';
  if (name === 'NotReadableError' || name === 'AbortError') return 'The microphone is in use by another program, or could not be started.';
  return 'Recording could not start in this browser.';
}

export function voiceName(type: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${VOICE_PREFIX} ${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}.${extensionFor(type)}`;
}

/** useVoiceRecorder records voice notes and hands each finished one to onNote. */
export function useVoiceRecorder(onNote: (n: VoiceNote) => void) {
  const [state, setState] = useState<RecState>({ status: 'idle' });
  const [error, setError] = useState<string>();
  const rec = useRef<{ recorder: MediaRecorder; stream: MediaStream; chunks: Blob[]; since: number; send: boolean } | null>(null);
  const wanted = useRef<'none' | 'send' | 'cancel'>('none');
  // (Read through a function: it changes while start awaits the microphone.)
  const wantedNow = () => wanted.current;
  const noteRef = useRef(onNote);
  useEffect(() => {
    noteRef.current = onNote;
  }, [onNote]);

  const finish = useCallback((send: boolean) => {
    const r = rec.current;
    if (!r) {
      // Still asking for the microphone: finish as soon as it answers.
      wanted.current = send ? 'send' : 'cancel';
      return;
    }
    r.send = send;
    if (r.recorder.state !== 'inactive') r.recorder.stop();
  }, []);

  const start = useCallback(async (mode: 'hold' | 'click') => {
    if (rec.current || state.status !== 'idle') return;
    setError(undefined);
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      setError('This browser cannot record audio.');
      return;
    }
    wanted.current = 'none';
    setState({ status: 'starting', mode });
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      setError(micProblem(e));
      setState({ status: 'idle' });
      return;
    }
    if (wantedNow() === 'cancel') {
      stream.getTracks().forEach((t) => t.stop());
      setState({ status: 'idle' });
      return;
    }
    const type = pickType();
    let recorder: MediaRecorder;
    try {
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    } catch (e) {
      stream.getTracks().forEach((t) => t.stop());
      setError(micProblem(e));
      setState({ status: 'idle' });
      return;
    }
    const r = { recorder, stream, chunks: [] as Blob[], since: Date.now(), send: false };
    rec.current = r;
    recorder.ondataavailable = (e) => {
      if (e.data.size > 0) r.chunks.push(e.data);
    };
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      rec.current = null;
      setState({ status: 'idle' });
      const seconds = (Date.now() - r.since) / 1000;
      if (!r.send) return;
      if (seconds < 0.5 || r.chunks.length === 0) {
        setError('Too short to send: hold the button while you speak, or click it to start and stop.');
        return;
      }
      const t = recorder.mimeType || type || 'audio/webm';
      noteRef.current({ blob: new Blob(r.chunks, { type: t }), name: voiceName(t), duration: Math.min(seconds, MAX_SECONDS) });
    };
    recorder.start(250);
    setState((s) => ({ status: 'recording', mode: s.status === 'starting' ? s.mode : mode, since: r.since }));
    if (wantedNow() === 'send') finish(true);
  }, [state.status, finish]);

  const toClickMode = useCallback(() => setState((s) => (s.status === 'idle' ? s : { ...s, mode: 'click' })), []);

  // Never record past the limit.
  useEffect(() => {
    if (state.status !== 'recording') return;
    const t = setTimeout(() => finish(true), MAX_SECONDS * 1000 - (Date.now() - state.since));
    return () => clearTimeout(t);
  }, [state, finish]);

  // Leaving the conversation stops (and drops) a recording.
  useEffect(
    () => () => {
      const r = rec.current;
      if (r) {
        r.send = false;
        if (r.recorder.state !== 'inactive') r.recorder.stop();
        r.stream.getTracks().forEach((t) => t.stop());
      }
    },
    [],
  );

  return { state, error, clearError: () => setError(undefined), start, finish, toClickMode };
}

type Recorder = ReturnType<typeof useVoiceRecorder>;

/** MicButton starts a voice note: hold to record, or click to start. */
export function MicButton({ recorder }: { recorder: Recorder }) {
  const press = useRef<{ at: number; x: number; y: number; pointer: boolean } | null>(null);
  const onPointerDown = (e: PointerEvent<HTMLButtonElement>) => {
    if (e.button !== 0) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture?.(e.pointerId);
    press.current = { at: Date.now(), x: e.clientX, y: e.clientY, pointer: true };
    void recorder.start('hold');
  };
  const onPointerUp = (e: PointerEvent<HTMLButtonElement>) => {
    const p = press.current;
    press.current = null;
    if (!p) return;
    const far = Math.hypot(e.clientX - p.x, e.clientY - p.y) > CANCEL_DISTANCE;
    if (far) recorder.finish(false);
    else if (Date.now() - p.at >= HOLD_MS) recorder.finish(true);
    else recorder.toClickMode();
  };
  return (
    <button
      type="button"
      aria-label="Record a voice message"
      title="Hold to record, or click to start"
      data-testid="mic-button"
      onPointerDown={onPointerDown}
      onPointerUp={onPointerUp}
      onPointerCancel={() => {
        press.current = null;
        recorder.finish(false);
      }}
      onClick={(e) => {
        // A click without a pointer press (keyboard, assistive technology) starts click mode.
        if (e.detail === 0) void recorder.start('click');
      }}
      onContextMenu={(e) => e.preventDefault()}
      className="mb-0.5 inline-flex h-10 w-10 shrink-0 touch-none select-none items-center justify-center rounded-full bg-accent text-white transition hover:bg-accent-hover"
    >
      <Icon d={icons.mic} className="h-5 w-5" />
    </button>
  );
}

/** RecordingBar is what the composer shows while a voice note records. */
export function RecordingBar({ recorder }: { recorder: Recorder }) {
  const s = recorder.state;
  const now = useNow(s.status === 'recording', 250);
  const seconds = s.status === 'recording' ? Math.max(0, (now - s.since) / 1000) : 0;
  const click = s.status !== 'idle' && s.mode === 'click';
  return (
    <div className="flex min-h-10 flex-1 items-center gap-2" data-testid="recording-bar">
      {click && (
        <button type="button" onClick={() => recorder.finish(false)} aria-label="Delete recording" className="inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full text-red-700 hover:bg-red-50">
          <Icon d={fileIcons.trash} />
        </button>
      )}
      <span className="flex min-w-0 flex-1 items-center gap-2 rounded-2xl border border-slate-300 bg-surface px-4 py-2 text-[15px]" role="status">
        <span aria-hidden="true" className={`h-2.5 w-2.5 shrink-0 rounded-full bg-red-600 ${s.status === 'recording' ? 'animate-pulse' : 'opacity-40'}`} />
        <span className="tabular-nums text-slate-900" data-testid="recording-time">
          {s.status === 'starting' ? 'Starting…' : formatDuration(seconds)}
        </span>
        <span className="truncate text-sm text-slate-600">{click ? 'Recording' : 'Release to send, drag away to cancel'}</span>
      </span>
      {click && (
        <button type="button" onClick={() => recorder.finish(true)} aria-label="Send voice message" data-testid="send-voice" className="mb-0.5 inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full bg-accent text-white hover:bg-accent-hover">
          <Icon d={icons.send} className="h-5 w-5" />
        </button>
      )}
    </div>
  );
}
