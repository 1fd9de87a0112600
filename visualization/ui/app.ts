// The UI shell: hash routes → views, and live refresh. Every few seconds the store's span
// count is polled (/api/meshtrace/status); when it changed, the current cross-trace view is
// drawn again (a single trace's view does not change once its spans are in).
import { renderErrors, renderLatency, renderRegressions, renderSampling } from './analysis-views.ts';
import { api } from './api.ts';
import { h } from './dom.ts';
import { renderServiceMap } from './service-map-view.ts';
import { renderTrace } from './trace-view.ts';
import { renderTraces } from './traces-view.ts';

const POLL_MS = 3000;
const view = document.getElementById('view')!;
const live = document.getElementById('live')!;

function route(): { name: string; arg: string; params: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, '') || 'map';
  const [path = 'map', query = ''] = hash.split('?');
  const [name = 'map', ...rest] = path.split('/');
  return { name, arg: rest.join('/'), params: new URLSearchParams(query) };
}

let rendering = 0;
async function render(): Promise<void> {
  const r = route();
  const mine = ++rendering;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('data-view') === (r.name === 'trace' ? 'traces' : r.name));
  }
  const target = h('div');
  try {
    switch (r.name) {
      case 'traces':
        await renderTraces(target, r.params);
        break;
      case 'trace':
        await renderTrace(target, r.arg);
        break;
      case 'latency':
        await renderLatency(target);
        break;
      case 'errors':
        await renderErrors(target);
        break;
      case 'regressions':
        await renderRegressions(target);
        break;
      case 'sampling':
        await renderSampling(target);
        break;
      default:
        await renderServiceMap(target);
    }
  } catch (err) {
    target.replaceChildren(h('p', { class: 'error-text', id: 'view-error' }, (err as Error).message));
  }
  if (mine === rendering) view.replaceChildren(...target.childNodes);
}

let lastSpans: number | null = null;
async function poll(): Promise<void> {
  try {
    const s = await api.status();
    const spans = s.store?.spans ?? 0;
    live.textContent = `live · ${spans} spans · ${new Date().toLocaleTimeString()}`;
    live.classList.remove('stale');
    if (lastSpans !== null && spans !== lastSpans && route().name !== 'trace') await render();
    lastSpans = spans;
  } catch {
    live.textContent = 'server unreachable — retrying';
    live.classList.add('stale');
  }
  setTimeout(poll, POLL_MS);
}

window.addEventListener('hashchange', () => void render());
void render();
void poll();
