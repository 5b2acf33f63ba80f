// Choosing files for a message: the attach button, a drop anywhere on the
// conversation, and (in the composer) a paste; the chosen files show above
// the text box with a preview and a remove button until Send.
import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import { session } from '../app';
import { formatDuration, formatSize } from '../lib/files';
import { clearError, DEFAULT_LIMITS, stage, staged, unstage, type StagedFile } from '../state/staged';
import { useStore } from '../state/store';
import { useObjectURL } from './Attachments';
import { fileIcons } from './fileIcons';
import { Icon, icons } from './ui';

export function useFileLimits() {
  return useStore(session, (s) => s.features.files) ?? DEFAULT_LIMITS;
}

/** AttachButton opens the file chooser; what is chosen joins the next message. */
export function AttachButton({ conversationId }: { conversationId: number }) {
  const input = useRef<HTMLInputElement>(null);
  const limits = useFileLimits();
  return (
    <>
      <button type="button" onClick={() => input.current?.click()} aria-label="Attach files" title="Attach files" data-testid="attach-button" className="mb-0.5 inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full text-slate-600 hover:bg-slate-100 hover:text-slate-900">
        <Icon d={fileIcons.paperclip} />
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length) stage(conversationId, files, limits);
        }}
      />
    </>
  );
}

/** StagedFiles lists the files chosen for the next message. */
export function StagedFiles({ conversationId }: { conversationId: number }) {
  const st = useStore(staged, (s) => s[conversationId]);
  if (!st || (st.files.length === 0 && !st.error)) return null;
  return (
    <div className="mb-2">
      {st.files.length > 0 && (
        <ul className="flex gap-2 overflow-x-auto pb-1" aria-label="Files to send" data-testid="staged-files">
          {st.files.map((f) => (
            <StagedChip key={f.key} f={f} onRemove={() => unstage(conversationId, f.key)} />
          ))}
        </ul>
      )}
      {st.error && (
        <p role="alert" className="mt-1 flex items-start gap-2 text-xs text-red-700" data-testid="staged-error">
          <span className="flex-1">{st.error}</span>
          <button type="button" onClick={() => clearError(conversationId)} className="font-medium underline">
            OK
          </button>
        </p>
      )}
    </div>
  );
}

function StagedChip({ f, onRemove }: { f: StagedFile; onRemove: () => void }) {
  const image = f.file.type.startsWith('image/');
  const url = useObjectURL(image ? f.file : undefined);
  return (
    <li className="relative flex h-16 shrink-0 items-center gap-2 rounded-xl bg-surface pr-9 ring-1 ring-slate-200" data-testid="staged-file" data-name={f.name}>
      {image && url ? (
        <img src={url} alt="" className="h-16 w-16 rounded-l-xl object-cover" />
      ) : (
        <span aria-hidden="true" className="ml-2 inline-flex h-10 w-10 items-center justify-center rounded-lg bg-brand-50 text-brand-700">
          <Icon d={f.file.type.startsWith('audio/') ? icons.mic : fileIcons.file} />
        </span>
      )}
      <span className="w-28 min-w-0 py-1">
        <span className="block truncate text-xs font-medium text-slate-900" title={f.name}>
          {f.name}
        </span>
        <span className="block text-xs text-slate-600">
          {formatSize(f.file.size)}
          {f.measures?.duration ? ` · ${formatDuration(f.measures.duration)}` : ''}
        </span>
      </span>
      <button type="button" onClick={onRemove} aria-label={`Remove ${f.name}`} className="absolute right-1 top-1 inline-flex h-7 w-7 items-center justify-center rounded-full text-slate-700 hover:bg-slate-100">
        <Icon d={icons.close} className="h-4 w-4" />
      </button>
    </li>
  );
}

function hasFiles(e: DragEvent): boolean {
  return [...e.dataTransfer.types].includes('Files');
}

/** FileDrop takes files dropped anywhere on its children into the conversation's next message. */
export function FileDrop({ conversationId, enabled, children, className }: { conversationId: number; enabled: boolean; children: ReactNode; className?: string }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const limits = useFileLimits();
  if (!enabled) return <div className={className}>{children}</div>;
  return (
    <div
      className={`relative ${className ?? ''}`}
      data-testid="file-drop"
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current++;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        const files = [...e.dataTransfer.files];
        if (files.length) stage(conversationId, files, limits);
      }}
    >
      {children}
      {over && (
        <div className="pointer-events-none absolute inset-2 z-30 flex items-center justify-center rounded-2xl border-2 border-dashed border-brand-500 bg-surface/90" data-testid="drop-overlay">
          <p className="flex items-center gap-2 text-base font-semibold text-brand-700">
            <Icon d={fileIcons.paperclip} />
            Drop files to send them here
          </p>
        </div>
      )}
    </div>
  );
}
