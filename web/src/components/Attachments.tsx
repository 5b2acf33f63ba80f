// The files a message carries: images as thumbnails at their own aspect
// ratio (their box is sized from width/height before anything loads, so
// nothing jumps), opened in the lightbox; audio (voice notes) and video
// played inline; anything else as a card with its name, size and a download.
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { Attachment } from '../api/types';
import { downloadURL, formatDuration, formatSize, isVoiceNote, kindOf, shownBox } from '../lib/files';
import { fileIcons } from './fileIcons';
import { Icon } from './ui';

/** OpenImage opens an image attachment in the conversation's lightbox. */
export const OpenImage = createContext<((a: Attachment) => void) | null>(null);

export function MessageAttachments({ files }: { files: Attachment[] }) {
  const open = useContext(OpenImage);
  const images = files.filter((f) => kindOf(f) === 'image');
  const others = files.filter((f) => kindOf(f) !== 'image');
  return (
    <div className="flex flex-col gap-1.5 py-0.5" data-testid="attachments">
      {images.length === 1 && <ImageTile a={images[0]} onOpen={open} />}
      {images.length > 1 && (
        <div className="grid w-72 max-w-full grid-cols-2 gap-1">
          {images.map((a, i) => (
            <ImageTile key={a.id} a={a} onOpen={open} square wide={i === images.length - 1 && images.length % 2 === 1} />
          ))}
        </div>
      )}
      {others.map((a) => {
        const k = kindOf(a);
        if (k === 'audio') return <AudioPlayer key={a.id} a={a} />;
        if (k === 'video') return <VideoPlayer key={a.id} a={a} />;
        return <FileCard key={a.id} a={a} />;
      })}
    </div>
  );
}

/** ImageTile is an image's thumbnail, in a box whose size is known before it loads. */
function ImageTile({ a, onOpen, square, wide }: { a: Attachment; onOpen: ((a: Attachment) => void) | null; square?: boolean; wide?: boolean }) {
  const [failed, setFailed] = useState(false);
  const box = shownBox(a.width, a.height);
  const style = square ? undefined : { width: `${box.width}px`, maxWidth: '100%', aspectRatio: `${box.width} / ${box.height}` };
  return (
    <button
      type="button"
      onClick={() => onOpen?.(a)}
      aria-label={`Open image ${a.name}`}
      data-testid="attachment-image"
      data-attachment-id={a.id}
      style={style}
      className={`relative block overflow-hidden rounded-xl bg-slate-200 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 ${square ? (wide ? 'col-span-2 aspect-[2/1]' : 'aspect-square') : ''}`}
    >
      {failed ? (
        <span className="absolute inset-0 flex items-center justify-center p-2 text-xs text-slate-700">Image not available</span>
      ) : (
        <img src={a.thumbnail_url} alt={a.name} width={box.width} height={box.height} loading="lazy" decoding="async" onError={() => setFailed(true)} className="h-full w-full object-cover" />
      )}
    </button>
  );
}

function extension(name: string): string {
  const i = name.lastIndexOf('.');
  const ext = i > 0 ? name.slice(i + 1) : '';
  return ext.length > 0 && ext.length <= 4 ? ext.toUpperCase() : 'FILE';
}

/** FileCard is a file shown as what it is: icon, name, size, and a download. */
export function FileCard({ a }: { a: Pick<Attachment, 'name' | 'size' | 'url'> }) {
  return (
    <div className="flex w-72 max-w-full items-center gap-3 rounded-xl bg-surface/70 p-2 ring-1 ring-slate-200" data-testid="file-card">
      <span aria-hidden="true" className="relative inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-lg bg-brand-50 text-brand-700">
        <Icon d={fileIcons.file} className="h-6 w-6" />
      </span>
      <span className="min-w-0 flex-1">
        <span className="block truncate text-sm font-medium text-slate-900" data-testid="file-name" title={a.name}>
          {a.name}
        </span>
        <span className="block text-xs text-slate-600" data-testid="file-size">
          {formatSize(a.size)} · {extension(a.name)}
        </span>
      </span>
      <a
        href={downloadURL(a)}
        download={a.name}
        aria-label={`Download ${a.name}`}
        title="Download"
        data-testid="file-download"
        className="inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full text-slate-700 hover:bg-slate-100 hover:text-slate-900"
      >
        <Icon d={fileIcons.download} />
      </a>
    </div>
  );
}

/**
 * AudioPlayer plays audio inline: play/pause, a position to seek, and the
 * length (from the attachment: a recorded voice note's file may not say).
 */
export function AudioPlayer({ a }: { a: Pick<Attachment, 'name' | 'url' | 'duration' | 'content_type' | 'size'> }) {
  const ref = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState(false);
  const [pos, setPos] = useState(0);
  const [length, setLength] = useState(a.duration ?? 0);
  const voice = isVoiceNote(a);
  const toggle = () => {
    const el = ref.current;
    if (!el) return;
    if (el.paused) void el.play().catch(() => setPlaying(false));
    else el.pause();
  };
  const total = Math.max(length, pos);
  return (
    <div className="w-68 max-w-full" data-testid={voice ? 'voice-note' : 'audio-file'}>
      {!voice && (
        <p className="mb-1 truncate text-sm font-medium text-slate-900" title={a.name}>
          {a.name}
        </p>
      )}
      <div className="flex items-center gap-2">
        <button type="button" onClick={toggle} aria-label={playing ? 'Pause' : voice ? 'Play voice message' : `Play ${a.name}`} data-testid="audio-play" className="inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full bg-accent text-white hover:bg-accent-hover">
          <Icon d={playing ? fileIcons.pause : fileIcons.play} className="h-4 w-4" />
        </button>
        <input
          type="range"
          min={0}
          max={total > 0 ? total : 1}
          step={0.1}
          value={pos}
          onChange={(e) => {
            const el = ref.current;
            const t = Number(e.target.value);
            if (el) el.currentTime = t;
            setPos(t);
          }}
          aria-label="Position"
          aria-valuetext={`${formatDuration(pos)} of ${formatDuration(total)}`}
          className="h-1 min-w-0 flex-1 accent-brand-700"
        />
        <span className="w-10 shrink-0 text-right text-xs tabular-nums text-slate-600" data-testid="audio-time">
          {formatDuration(playing || pos > 0 ? pos : total)}
        </span>
        {!voice && (
          <a href={downloadURL(a)} download={a.name} aria-label={`Download ${a.name}`} className="inline-flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-slate-700 hover:bg-slate-100">
            <Icon d={fileIcons.download} className="h-4 w-4" />
          </a>
        )}
      </div>
      <audio
        ref={ref}
        src={a.url}
        preload="metadata"
        onPlay={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onEnded={() => {
          setPlaying(false);
          setPos(0);
        }}
        onTimeUpdate={(e) => setPos(e.currentTarget.currentTime)}
        onLoadedMetadata={(e) => Number.isFinite(e.currentTarget.duration) && setLength(e.currentTarget.duration)}
        onDurationChange={(e) => Number.isFinite(e.currentTarget.duration) && setLength(e.currentTarget.duration)}
      />
    </div>
  );
}

/** VideoPlayer plays a video inline, in a box of its size when known. */
function VideoPlayer({ a }: { a: Attachment }) {
  const box = shownBox(a.width, a.height, 288, 320);
  return (
    <div className="w-72 max-w-full">
      <video
        src={a.url}
        controls
        preload="metadata"
        playsInline
        aria-label={`Video ${a.name}`}
        data-testid="attachment-video"
        style={a.width && a.height ? { aspectRatio: `${box.width} / ${box.height}` } : undefined}
        className="w-full rounded-xl bg-black"
      />
      <p className="mt-0.5 flex items-center gap-2 text-xs text-slate-600">
        <span className="min-w-0 flex-1 truncate">{a.name}</span>
        {a.duration ? <span>{formatDuration(a.duration)}</span> : null}
        <a href={downloadURL(a)} download={a.name} className="font-medium text-brand-700 underline">
          Download
        </a>
      </p>
    </div>
  );
}

// Object URLs for blobs held in the page (previews of files not yet sent),
// shared by every component showing the same blob and revoked a moment after
// the last one goes.
const objectURLs = new Map<Blob, { url: string; refs: number; timer?: ReturnType<typeof setTimeout> }>();

function objectURLEntry(blob: Blob) {
  let e = objectURLs.get(blob);
  if (!e) {
    e = { url: URL.createObjectURL(blob), refs: 0 };
    objectURLs.set(blob, e);
  }
  return e;
}

/** useObjectURL is an object URL for a blob, revoked once no component shows it. */
export function useObjectURL(blob: Blob | undefined): string | undefined {
  const url = blob ? objectURLEntry(blob).url : undefined;
  useEffect(() => {
    if (!blob) return;
    const e = objectURLEntry(blob);
    e.refs++;
    if (e.timer) clearTimeout(e.timer);
    return () => {
      e.refs--;
      if (e.refs > 0) return;
      e.timer = setTimeout(() => {
        if (e.refs > 0) return;
        URL.revokeObjectURL(e.url);
        objectURLs.delete(blob);
      }, 1000);
    };
  }, [blob]);
  return url;
}
