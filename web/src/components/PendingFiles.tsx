// The files of a message still in the outbox: each with its preview (an
// image from the page's own copy, at its size), a progress bar while it goes
// up, a button to cancel it, and, when the server refused it, why and a
// retry.
import { client } from '../app';
import { formatDuration, formatSize, shownBox } from '../lib/files';
import type { OutboxFile, OutboxItem } from '../state/chat';
import { useStore } from '../state/store';
import { useObjectURL } from './Attachments';
import { fileIcons } from './fileIcons';
import { Icon, icons } from './ui';

export function PendingFiles({ item }: { item: OutboxItem }) {
  return (
    <ul className="flex flex-col gap-1.5 py-0.5" aria-label="Files of this message">
      {item.files!.map((f) => (
        <PendingFile key={f.key} f={f} item={item} />
      ))}
    </ul>
  );
}

function PendingFile({ f, item }: { f: OutboxFile; item: OutboxItem }) {
  const progress = useStore(client.uploads.progress, (p) => p[f.key]);
  const url = useObjectURL(f.type.startsWith('image/') && !f.upload ? client.uploads.blob(f.key) : undefined);
  const image = f.type.startsWith('image/');
  const box = shownBox(f.width, f.height, 240, 240);
  const pct = progress && progress.total > 0 ? Math.round((100 * progress.loaded) / progress.total) : f.upload ? 100 : 0;
  const state = f.error ? 'failed' : f.upload ? 'uploaded' : progress ? 'uploading' : 'waiting';
  const preview = image && (url || f.upload?.thumbnail_url);
  return (
    <li className="w-64 max-w-full rounded-xl bg-surface/60 p-1.5 ring-1 ring-slate-200" data-testid="pending-file" data-state={state} data-name={f.name}>
      {preview && (
        <div className="relative mb-1 overflow-hidden rounded-lg bg-slate-200" style={{ width: `${box.width}px`, maxWidth: '100%', aspectRatio: `${box.width} / ${box.height}` }}>
          <img src={url ?? f.upload?.thumbnail_url} alt={f.name} className="h-full w-full object-cover" data-testid="pending-preview" />
        </div>
      )}
      <div className="flex items-center gap-2">
        {!preview && <Icon d={f.type.startsWith('audio/') ? icons.mic : fileIcons.file} className="h-5 w-5 shrink-0 text-slate-600" />}
        <span className="min-w-0 flex-1">
          <span className="block truncate text-sm text-slate-900">{f.name}</span>
          <span className="block text-xs text-slate-600">
            {formatSize(f.size)}
            {f.duration ? ` · ${formatDuration(f.duration)}` : ''}
            {state === 'uploading' && ` · ${pct}%`}
            {state === 'waiting' && ' · waiting'}
            {state === 'uploaded' && ' · uploaded'}
          </span>
        </span>
        {f.error && (
          <button type="button" onClick={() => client.retry(item.client_msg_id)} aria-label={`Retry ${f.name}`} title="Retry" className="inline-flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-red-700 hover:bg-red-50 pointer-coarse:h-11 pointer-coarse:w-11">
          <Icon d={fileIcons.retry} className="h-4 w-4" />
        </button>
        )}
        <button
          type="button"
          onClick={() => client.removeFile(item.client_msg_id, f.key)}
          aria-label={state === 'uploading' ? `Cancel upload of ${f.name}` : `Remove ${f.name}`}
          title={state === 'uploading' ? 'Cancel upload' : 'Remove'}
          className="inline-flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-slate-700 hover:bg-slate-100 pointer-coarse:h-11 pointer-coarse:w-11"
        >
          <Icon d={icons.close} className="h-4 w-4" />
        </button>
      </div>
      {(state === 'uploading' || state === 'waiting') && (
        <div role="progressbar" aria-label={`Uploading ${f.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid="upload-progress" className="mt-1 h-1.5 overflow-hidden rounded-full bg-slate-200">
          <div className="h-full rounded-full bg-brand-600 transition-[width]" style={{ width: `${pct}%` }} />
        </div>
      )}
      {f.error && (
        <p role="alert" className="mt-1 text-xs text-red-700">
          {f.error}
        </p>
      )}
    </li>
  );
}
