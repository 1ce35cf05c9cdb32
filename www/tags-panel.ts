// The DICOM tag browser in the Metadata panel: every data element of the
// shown series' first file (read again from the dropped File — local, no
// request), filtered as you type by tag, keyword or value.

import type { EngineClient } from './engine-client';
import { el, errText } from './dom';
import type { TagRow, VolumeInfo } from './protocol';

export interface TagsHost {
  current(): VolumeInfo | null;
  /** The dropped file of that name, if it is still at hand. */
  file(name: string): Blob | null;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

export class TagsPanel {
  private rows: TagRow[] = [];
  private forVol: number | null = null;
  private readonly ui = {
    box: el('tags-box', HTMLDivElement),
    show: el('tags-show', HTMLButtonElement),
    filter: el('tags-filter', HTMLInputElement),
    table: el('tags-table', HTMLTableSectionElement),
    count: el('tags-count', HTMLParagraphElement),
  };

  constructor(
    private readonly client: EngineClient,
    private readonly host: TagsHost,
  ) {
    this.ui.show.addEventListener('click', () => void this.load());
    this.ui.filter.addEventListener('input', () => this.render());
  }

  /** Called when another volume is shown. */
  update(vol: VolumeInfo | null): void {
    const dicom = vol?.source_file ?? null;
    this.ui.box.hidden = dicom === null;
    if (vol?.id !== this.forVol) {
      this.rows = [];
      this.forVol = null;
      this.ui.table.replaceChildren();
      this.ui.count.textContent = '';
      this.ui.filter.disabled = true;
    }
  }

  private async load(): Promise<void> {
    const vol = this.host.current();
    const name = vol?.source_file;
    if (!vol || !name) return;
    const file = this.host.file(name);
    if (!file) {
      this.host.message(`The file ${name} is no longer at hand: open the series again to see its tags.`, 'warning');
      return;
    }
    try {
      const bytes = await file.arrayBuffer();
      this.rows = await this.client.call({ kind: 'tags', bytes }, [bytes]);
      this.forVol = vol.id;
      this.ui.filter.disabled = false;
      this.render();
    } catch (err) {
      this.host.message(`Could not list the tags of ${name}: ${errText(err)}`, 'error');
    }
  }

  private render(): void {
    const q = this.ui.filter.value.trim().toLowerCase();
    const shown = q === '' ? this.rows : this.rows.filter((r) => `${r.tag} ${r.name} ${r.vr} ${r.value}`.toLowerCase().includes(q));
    const limit = 2000;
    this.ui.table.replaceChildren(
      ...shown.slice(0, limit).map((r) => {
        const tr = document.createElement('tr');
        for (const [text, cls] of [[r.tag, 'tag'], [r.vr, 'vr'], [`${'› '.repeat(r.depth)}${r.name}`, 'name'], [r.value, 'value']] as const) {
          const td = document.createElement('td');
          td.className = cls;
          td.textContent = text;
          tr.append(td);
        }
        tr.dataset.tag = r.tag;
        return tr;
      }),
    );
    this.ui.count.textContent = `${shown.length} of ${this.rows.length} elements${shown.length > limit ? ` (first ${limit} shown)` : ''}. Shown only here; nothing is sent.`;
  }
}
