// The lightbox: one image of the conversation at a time, over everything.
// Esc closes; the arrow keys (or a swipe, or the side buttons) go to the
// previous and next image; a click, the zoom button or +/- zooms to the
// image's own pixels (scroll or drag to look around); Download saves the
// file. Focus stays inside while it is open and goes back where it was.
import { useEffect, useRef, useState, type PointerEvent } from 'react';
import type { Attachment } from '../api/types';
import { downloadURL, formatSize } from '../lib/files';
import { fileIcons } from './fileIcons';
import { Icon, icons } from './ui';

export function Lightbox({ images, index, onIndex, onClose }: { images: Attachment[]; index: number; onIndex: (i: number) => void; onClose: () => void }) {
  const a = images[index];
  const [zoomed, setZoomed] = useState(false);
  const [zoomFor, setZoomFor] = useState(a?.id);
  const dialog = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const stage = useRef<HTMLDivElement>(null);
  const swipe = useRef<{ x: number; y: number; id: number } | null>(null);
  const drag = useRef<{ x: number; y: number; left: number; top: number; moved: boolean } | null>(null);
  const hasPrev = index > 0;
  const hasNext = index < images.length - 1;

  // Zoom is per image: another image opens fitted.
  if (a && zoomFor !== a.id) {
    setZoomFor(a.id);
    setZoomed(false);
  }

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => before?.focus?.();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        onClose();
      } else if (e.key === 'ArrowLeft' && hasPrev) {
        e.preventDefault();
        onIndex(index - 1);
      } else if (e.key === 'ArrowRight' && hasNext) {
        e.preventDefault();
        onIndex(index + 1);
      } else if (e.key === '+' || e.key === '=') setZoomed(true);
      else if (e.key === '-') setZoomed(false);
      else if (e.key === 'Tab') {
        // Keep focus inside the dialog.
        const els = dialog.current?.querySelectorAll<HTMLElement>('button, a[href]');
        if (!els || els.length === 0) return;
        const first = els[0];
        const last = els[els.length - 1];
        if (e.shiftKey && document.activeElement === first) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && document.activeElement === last) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [index, hasPrev, hasNext, onIndex, onClose]);

  // Zoomed in, start at the middle of the image.
  useEffect(() => {
    const el = stage.current;
    if (zoomed && el) {
      el.scrollLeft = (el.scrollWidth - el.clientWidth) / 2;
      el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
    }
  }, [zoomed, a?.id]);

  if (!a) return null;

  const onPointerDown = (e: PointerEvent) => {
    if (zoomed) {
      const el = stage.current!;
      drag.current = { x: e.clientX, y: e.clientY, left: el.scrollLeft, top: el.scrollTop, moved: false };
    } else swipe.current = { x: e.clientX, y: e.clientY, id: e.pointerId };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (d && stage.current) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) d.moved = true;
      stage.current.scrollLeft = d.left - dx;
      stage.current.scrollTop = d.top - dy;
    }
  };
  const onPointerUp = (e: PointerEvent) => {
    const s = swipe.current;
    swipe.current = null;
    if (!s) return;
    const dx = e.clientX - s.x;
    const dy = e.clientY - s.y;
    if (Math.abs(dx) > 60 && Math.abs(dx) > Math.abs(dy)) {
      if (dx < 0 && hasNext) onIndex(index + 1);
      if (dx > 0 && hasPrev) onIndex(index - 1);
    } else if (dy > 100 && Math.abs(dy) > Math.abs(dx)) onClose();
  };
  const onImageClick = () => {
    const d = drag.current;
    drag.current = null;
    if (d?.moved) return;
    setZoomed((z) => !z);
  };

  const zoomWidth = Math.max(a.width ?? 0, (typeof window === 'undefined' ? 1000 : window.innerWidth) * 2);

  return (
    <div ref={dialog} role="dialog" aria-modal="true" aria-label={`Image ${a.name}`} data-testid="lightbox" className="palette-fixed fixed inset-0 z-50 flex flex-col bg-black text-white">
      <div className="flex h-14 shrink-0 items-center gap-2 px-2 sm:px-4">
        <div className="min-w-0 flex-1">
          <p className="truncate text-sm font-medium" data-testid="lightbox-name">
            {a.name}
          </p>
          <p className="text-xs text-slate-300">
            {images.length > 1 && (
              <span data-testid="lightbox-count">
                {index + 1} of {images.length} ·{' '}
              </span>
            )}
            {formatSize(a.size)}
          </p>
        </div>
        <button type="button" onClick={() => setZoomed((z) => !z)} aria-label={zoomed ? 'Zoom out' : 'Zoom in'} aria-pressed={zoomed} className="inline-flex h-11 w-11 items-center justify-center rounded-full hover:bg-white/15">
          <Icon d={zoomed ? fileIcons.zoomOut : fileIcons.zoomIn} />
        </button>
        <a href={downloadURL(a)} download={a.name} aria-label={`Download ${a.name}`} data-testid="lightbox-download" className="inline-flex h-11 w-11 items-center justify-center rounded-full hover:bg-white/15">
          <Icon d={fileIcons.download} />
        </a>
        <button ref={closeRef} type="button" onClick={onClose} aria-label="Close" className="inline-flex h-11 w-11 items-center justify-center rounded-full hover:bg-white/15">
          <Icon d={icons.close} />
        </button>
      </div>
      <div className="relative min-h-0 flex-1">
        <div
          ref={stage}
          data-testid="lightbox-stage"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => ((swipe.current = null), (drag.current = null))}
          className={`absolute inset-0 ${zoomed ? 'cursor-zoom-out overflow-auto' : 'flex cursor-zoom-in items-center justify-center overflow-hidden p-2 sm:p-6'}`}
          style={{ touchAction: zoomed ? 'none' : 'pan-y' }}
        >
          <img
            key={a.id}
            src={a.url}
            alt={a.name}
            width={a.width}
            height={a.height}
            draggable={false}
            onClick={onImageClick}
            data-testid="lightbox-image"
            data-zoomed={zoomed ? 'true' : 'false'}
            style={zoomed ? { width: `${zoomWidth}px`, maxWidth: 'none', height: 'auto' } : { backgroundImage: a.thumbnail_url ? `url("${a.thumbnail_url}")` : undefined }}
            className={zoomed ? 'block select-none' : 'max-h-full max-w-full select-none bg-contain bg-center bg-no-repeat object-contain'}
          />
        </div>
        {hasPrev && (
          <button type="button" onClick={() => onIndex(index - 1)} aria-label="Previous image" className="absolute left-2 top-1/2 inline-flex h-12 w-12 -translate-y-1/2 items-center justify-center rounded-full bg-black/50 hover:bg-black/70">
            <Icon d={fileIcons.left} className="h-6 w-6" />
          </button>
        )}
        {hasNext && (
          <button type="button" onClick={() => onIndex(index + 1)} aria-label="Next image" className="absolute right-2 top-1/2 inline-flex h-12 w-12 -translate-y-1/2 items-center justify-center rounded-full bg-black/50 hover:bg-black/70">
            <Icon d={fileIcons.right} className="h-6 w-6" />
          </button>
        )}
      </div>
    </div>
  );
}
