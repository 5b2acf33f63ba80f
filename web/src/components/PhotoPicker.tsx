// Choosing a profile or group photo: pick an image, place it in the square
// (drag it, or use the arrow keys; zoom with the slider), and save. The
// square is cut here (512 × 512) and sent; the server makes its own 256 px
// square from it, re-encoded, so nothing of the original's metadata is kept.
import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { useObjectURL } from './Attachments';
import { Avatar, Button, FormError } from './ui';

const FRAME = 240;
const OUT = 512;

/** PhotoControl shows a photo (or initials) with Change and Remove. */
export function PhotoControl({ name, seed, src, label, onSave, onRemove }: { name: string; seed: number; src?: string; label: string; onSave: (square: Blob) => Promise<void>; onRemove: () => Promise<void> }) {
  const input = useRef<HTMLInputElement>(null);
  const [chosen, setChosen] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onRemove();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col gap-3">
      <div className="flex items-center gap-4">
        <Avatar name={name} seed={seed} size="xl" src={src} />
        <div className="flex flex-wrap gap-2">
          <Button kind="secondary" onClick={() => input.current?.click()} disabled={busy} data-testid="photo-change">
            {src ? 'Change photo' : 'Add a photo'}
          </Button>
          {src && (
            <Button kind="ghost" onClick={() => void remove()} disabled={busy}>
              Remove photo
            </Button>
          )}
        </div>
        <input
          ref={input}
          type="file"
          accept="image/jpeg,image/png,image/gif,image/webp"
          hidden
          aria-label={label}
          data-testid="photo-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) {
              setError(undefined);
              setChosen(f);
            }
          }}
        />
      </div>
      {chosen && (
        <PhotoCropper
          file={chosen}
          onCancel={() => setChosen(null)}
          onDone={async (blob) => {
            setBusy(true);
            setError(undefined);
            try {
              await onSave(blob);
              setChosen(null);
            } catch (e) {
              setError((e as Error).message);
            } finally {
              setBusy(false);
            }
          }}
          busy={busy}
        />
      )}
      <FormError>{error}</FormError>
    </div>
  );
}

interface Place {
  x: number;
  y: number;
  zoom: number;
}

/** PhotoCropper places an image in a square and cuts it out. */
function PhotoCropper({ file, onCancel, onDone, busy }: { file: File; onCancel: () => void; onDone: (b: Blob) => Promise<void>; busy: boolean }) {
  const url = useObjectURL(file);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [place, setPlace] = useState<Place>({ x: 0, y: 0, zoom: 1 });
  const [error, setError] = useState<string>();
  const drag = useRef<{ x: number; y: number; px: number; py: number } | null>(null);

  useEffect(() => {
    let live = true;
    createImageBitmap(file).then(
      (b) => {
        if (!live) return;
        const w = b.width;
        const h = b.height;
        b.close();
        const s = FRAME / Math.min(w, h);
        setSize({ w, h });
        setPlace({ x: (FRAME - w * s) / 2, y: (FRAME - h * s) / 2, zoom: 1 });
      },
      () => live && setError('This file is not an image Parley can read (JPEG, PNG, GIF or WebP).'),
    );
    return () => {
      live = false;
    };
  }, [file]);

  const scale = size ? (FRAME / Math.min(size.w, size.h)) * place.zoom : 1;
  const clamp = (p: Place): Place => {
    if (!size) return p;
    const s = (FRAME / Math.min(size.w, size.h)) * p.zoom;
    const W = size.w * s;
    const H = size.h * s;
    return { zoom: p.zoom, x: Math.min(0, Math.max(FRAME - W, p.x)), y: Math.min(0, Math.max(FRAME - H, p.y)) };
  };
  const setZoom = (zoom: number) =>
    setPlace((p) => {
      // Zoom about the middle of the square.
      const k = zoom / p.zoom;
      const c = FRAME / 2;
      return clamp({ zoom, x: c - (c - p.x) * k, y: c - (c - p.y) * k });
    });

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    e.currentTarget.setPointerCapture?.(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY, px: place.x, py: place.y };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (d) setPlace((p) => clamp({ ...p, x: d.px + e.clientX - d.x, y: d.py + e.clientY - d.y }));
  };
  const onKey = (e: KeyboardEvent) => {
    const step = e.shiftKey ? 40 : 10;
    const moves: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    setPlace((p) => clamp({ ...p, x: p.x + m[0], y: p.y + m[1] }));
  };

  const save = async () => {
    if (!size) return;
    try {
      const bitmap = await createImageBitmap(file);
      const c = document.createElement('canvas');
      c.width = OUT;
      c.height = OUT;
      const g = c.getContext('2d')!;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, OUT, OUT);
      g.drawImage(bitmap, -place.x / scale, -place.y / scale, FRAME / scale, FRAME / scale, 0, 0, OUT, OUT);
      bitmap.close();
      const blob = await new Promise<Blob | null>((res) => c.toBlob(res, 'image/jpeg', 0.92));
      if (!blob) throw new Error('The photo could not be made.');
      await onDone(blob);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="rounded-xl bg-slate-50 p-4 ring-1 ring-slate-200" data-testid="photo-cropper">
      <p className="mb-3 text-sm text-slate-700" id="crop-help">
        Drag the picture (or use the arrow keys) to place it in the square; zoom with the slider.
      </p>
      {error ? (
        <FormError>{error}</FormError>
      ) : (
        <div
          role="img"
          aria-label="Photo, as it will be cut"
          aria-describedby="crop-help"
          tabIndex={0}
          onKeyDown={onKey}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={() => (drag.current = null)}
          onPointerCancel={() => (drag.current = null)}
          className="relative mx-auto cursor-move touch-none overflow-hidden rounded-lg bg-slate-200 outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
          style={{ width: FRAME, height: FRAME }}
        >
          {url && size && <img src={url} alt="" draggable={false} className="absolute max-w-none select-none" style={{ left: place.x, top: place.y, width: size.w * scale, height: size.h * scale }} />}
          <span aria-hidden="true" className="pointer-events-none absolute inset-0 rounded-full shadow-[0_0_0_999px_rgba(0,0,0,0.35)]" />
        </div>
      )}
      <label className="mx-auto mt-3 flex max-w-60 items-center gap-2 text-sm text-slate-700">
        Zoom
        <input type="range" min={1} max={4} step={0.01} value={place.zoom} onChange={(e) => setZoom(Number(e.target.value))} disabled={!size} className="flex-1 accent-brand-700" />
      </label>
      <div className="mt-3 flex justify-end gap-2">
        <Button kind="ghost" onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
        <Button onClick={() => void save()} disabled={!size || busy} data-testid="photo-save">
          {busy ? 'Saving…' : 'Save photo'}
        </Button>
      </div>
    </div>
  );
}
