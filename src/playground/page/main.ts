// The playground page: plain DOM and SVG/canvas over engine.ts. The work runs on the page's
// main thread (gpu.js needs the page's WebGL context; cpu and webgpu hand work to Web Workers
// from there); Model.fit yields to the browser between minibatches, so the curves update and
// the Stop button answers while training.
// A test pass (evaluation) is one synchronous loop: the page waits for it.
import {
  fetchBuiltin, fetchInfo, fetchSource, im2colOf, insideOneStep, predictWithFeatures, probeBackends, RunStopped, runPageExperiment,
  type BackendStatus, type EpochRecord, type ExperimentName, type PageBackend, type PageData, type RunResult, type StepReport,
} from './engine.js';
import { filesFromDrop, filesFromInput, folderData, type DroppedFile, type FolderResult } from './folder.js';
import { lineChart, planeCanvas, range, type Series } from './chart.js';
import { stepGraph } from './step-graph-view.js';
import { $, el } from './dom.js';
import type { WeightFile } from '../../formats/types.js';
import type { PlaygroundInfo } from '../wire.js';
import { registeredBackends } from '../../kernels/index.js';


const COLORS: Record<ExperimentName, string> = { scratch: '#7a7a7a', finetune: '#d62728', extract: '#1f77b4' };
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

interface State {
  info: PlaygroundInfo | null;
  source: WeightFile | null;
  folder: FolderResult | null;
  running: boolean;
  stop: boolean;
  runs: Map<ExperimentName, RunResult>;
  /** Live curves of the current or last runs. */
  curves: Map<ExperimentName, EpochRecord[]>;
  step: StepReport | null;
  /** The last run's message (errors included), for tests. */
  message: string;
  /** What runs each backend here (null until the backends have started). */
  backends: BackendStatus | null;
}
const state: State = { info: null, source: null, folder: null, running: false, stop: false, runs: new Map(), curves: new Map(), step: null, message: '', backends: null };

/**
 * The top line: the backend of the run that is shown (the running one, else the model
 * picked under "Inside a trained model"), or before any run the one the next run will use.
 */
function showBackendLine(name: PageBackend): void {
  if (!state.backends) return;
  $('backend-line').textContent = `backend: ${state.backends.lines[name]}`;
}

function setStatus(text: string, error = false): void {
  const s = $('run-status');
  s.textContent = text;
  s.className = error ? 'status error' : 'status';
  state.message = text;
}

// ---- data: built-in or a dropped folder ----

function dataChoice(): 'builtin' | 'folder' {
  return (document.querySelector('input[name=data]:checked') as HTMLInputElement).value as 'builtin' | 'folder';
}

async function useFiles(files: DroppedFile[]): Promise<FolderResult> {
  const out = $('folder-status');
  out.replaceChildren(el('p', { class: 'status' }, `reading ${files.length} files…`));
  const r = await folderData(files);
  state.folder = r;
  const kids: Node[] = [];
  if (r.problem) kids.push(el('p', { class: 'error', role: 'alert' }, r.problem));
  else {
    const d = r.data!;
    kids.push(el('p', {}, `${d.name}: ${d.classNames.map((c) => `${c} (${r.counts[c]})`).join(', ')}; ${d.train.n} training, ${d.test.n} test images`));
  }
  if (r.skipped.length) {
    kids.push(el('p', {}, `skipped ${r.skipped.length} file${r.skipped.length > 1 ? 's' : ''}:`));
    kids.push(el('ul', { class: 'skipped' }, ...r.skipped.map((s) => el('li', {}, `${s.path}: ${s.why}`))));
  }
  out.replaceChildren(...kids);
  (document.querySelector('input[name=data][value=folder]') as HTMLInputElement).checked = true;
  return r;
}

function setupFolder(): void {
  const drop = $('drop'), input = $<HTMLInputElement>('folder-input');
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => { if (input.files) void useFiles(filesFromInput(input.files)); });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer) void filesFromDrop(e.dataTransfer.items).then(useFiles);
  });
}

// ---- runs ----

function intInput(id: string, min: number): number {
  const v = Number($<HTMLInputElement>(id).value);
  if (!Number.isInteger(v) || v < min) throw new Error(`${$(id).previousElementSibling?.textContent ?? id} must be an integer ≥ ${min}`);
  return v;
}

function drawCurves(): void {
  const series = (pick: (r: EpochRecord) => number | undefined): Series[] => [...state.curves].map(([name, h]) => ({
    name, color: COLORS[name],
    points: h.flatMap((r) => { const v = pick(r); return v === undefined || Number.isNaN(v) ? [] : [[r.epoch, v] as [number, number]]; }),
  }));
  const epochs = Math.max(1, ...[...state.curves.values()].map((h) => h.length));
  lineChart($('chart-cost') as unknown as SVGSVGElement, series((r) => r.trainCost), { xMax: epochs, yLabel: 'cost' });
  lineChart($('chart-train') as unknown as SVGSVGElement, series((r) => r.trainAccuracy), { xMax: epochs, yMin: 0, yMax: 1, yLabel: 'accuracy', percent: true });
  // The test curve starts before training (epoch 0) when the run evaluated there.
  const test = series((r) => r.evalAccuracy);
  for (const s of test) {
    const start = state.runs.get(s.name as ExperimentName)?.initialAccuracy;
    if (start !== undefined) s.points.unshift([0, start]);
  }
  lineChart($('chart-test') as unknown as SVGSVGElement, test, { xMin: 0, xMax: epochs, yMin: 0, yMax: 1, yLabel: 'accuracy', percent: true });
}

function addResultRow(r: RunResult): void {
  const row = el('tr', { 'data-experiment': r.experiment },
    el('td', {}, el('span', { style: `color:${COLORS[r.experiment]}` }, '■ '), r.experiment),
    el('td', { class: 'num test-accuracy' }, pct(r.testAccuracy)),
    el('td', { class: 'num' }, `${r.testCorrect}/${r.testCount}`),
    el('td', { class: 'num' }, r.finalCost.toFixed(4)),
    el('td', { class: 'num' }, `${r.prepared.trainableParams.toLocaleString('en')} of ${r.prepared.totalParams.toLocaleString('en')}`),
    el('td', { class: 'num' }, r.seconds.toFixed(1)),
    el('td', {}, r.backend));
  $('results').querySelector('tbody')!.append(row);
}

async function runAll(): Promise<void> {
  if (state.running) return;
  const experiments = Array.from(document.querySelectorAll<HTMLInputElement>('input[name=exp]:checked'), (i) => i.value as ExperimentName);
  let settings;
  try {
    if (!experiments.length) throw new Error('tick at least one experiment');
    settings = { seed: intInput('seed', 0), perClass: intInput('per-class', 1), epochs: intInput('epochs', 1), evalEvery: intInput('eval-every', 0), lr: Number($<HTMLInputElement>('lr').value) };
    if (!(settings.lr > 0)) throw new Error('the base learning rate must be a number > 0');
  } catch (e) {
    setStatus((e as Error).message, true);
    return;
  }
  const info = state.info!;
  let data: PageData;
  state.running = true;
  state.stop = false;
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  try {
    if (dataChoice() === 'folder') {
      if (!state.folder) throw new Error('drop a folder of images first (or choose the built-in data)');
      if (!state.folder.data) throw new Error(state.folder.problem!);
      data = state.folder.data;
    } else {
      setStatus('loading the built-in data…');
      const max = 500;
      if (settings.perClass > max) throw new Error(`the built-in data has ${max} training images per class; ask for at most ${max}`);
      data = await fetchBuiltin(settings.perClass, settings.seed);
    }
    if (experiments.some((x) => x !== 'scratch')) {
      setStatus('loading the source model…');
      state.source ??= await fetchSource();
    }
  } catch (e) {
    setStatus((e as Error).message, true);
    finishRun();
    return;
  }
  state.curves.clear();
  state.runs.clear();
  $('results').querySelector('tbody')!.replaceChildren();
  drawCurves();
  const backend = $<HTMLSelectElement>('backend').value as PageBackend;
  showBackendLine(backend);
  for (const experiment of experiments) {
    const history: EpochRecord[] = [];
    state.curves.set(experiment, history);
    setStatus(`${experiment}: training on ${data.name} (${data.train.n} images), backend ${backend}…`);
    try {
      const r = await runPageExperiment({
        experiment, seed: settings.seed, epochs: settings.epochs, lr: settings.lr, evalEvery: settings.evalEvery, backend, mean: info.source.mean, ...info.model,
      }, data, state.source ?? undefined, (rec) => {
        history.push(rec);
        drawCurves();
        setStatus(`${experiment}: epoch ${rec.epoch}/${settings.epochs}, cost ${rec.trainCost.toFixed(3)}${rec.evalAccuracy !== undefined ? `, test accuracy ${pct(rec.evalAccuracy)}` : ''}`);
      }, () => state.stop);
      state.runs.set(experiment, r);
      drawCurves(); // with the test accuracy before training, known once the run returns
      addResultRow(r);
      updateModelSelect(experiment);
    } catch (e) {
      if (e instanceof RunStopped) setStatus(`stopped during ${experiment}; the runs before it are kept`);
      else setStatus(`${experiment} failed on the ${backend} backend: ${(e as Error).message}. The run is stopped; pick another backend or other settings and run again.`, true);
      finishRun();
      return;
    }
  }
  setStatus(`done: ${[...state.runs.values()].map((r) => `${r.experiment} ${pct(r.testAccuracy)}`).join(', ')} (seed ${settings.seed}, ${data.name})`);
  finishRun();
}

function finishRun(): void {
  state.running = false;
  $<HTMLButtonElement>('run').disabled = false;
  $<HTMLButtonElement>('stop').disabled = true;
}

// ---- inside a trained model ----

function selectedRun(): RunResult | undefined {
  return state.runs.get($<HTMLSelectElement>('model-exp').value as ExperimentName);
}

function updateModelSelect(select: ExperimentName): void {
  const s = $<HTMLSelectElement>('model-exp');
  s.replaceChildren(...[...state.runs.keys()].map((k) => el('option', { value: k }, k)));
  s.value = select;
  s.disabled = false;
  $<HTMLButtonElement>('predict').disabled = false;
  $<HTMLButtonElement>('open-step').disabled = false;
  showImportReport();
  showTestStrip();
}

function showImportReport(): void {
  const r = selectedRun();
  if (!r) return;
  $('import-lines').textContent = r.importLines.length ? r.importLines.join('\n') : `${r.experiment}: nothing imported; every layer starts from its initializer and trains at the base rate`;
  $('import-table').querySelector('tbody')!.replaceChildren(...r.rates.map((l) => el('tr', { class: l.lr === 0 ? 'frozen' : '' },
    el('td', {}, l.name), el('td', {}, l.className), el('td', {}, l.imported ? 'copied from the source' : 'new (initialized)'),
    el('td', { class: 'num' }, l.lr === 0 ? '0 (frozen)' : String(l.lr)))));
}

/** Buttons with the first test images of the selected run's data: a click (or Enter) predicts that image. */
function showTestStrip(): void {
  const r = selectedRun();
  const strip = $('test-strip');
  if (!r) return strip.replaceChildren();
  const [C, H, W] = r.data.test.lshape;
  const current = Number($<HTMLInputElement>('test-index').value);
  strip.replaceChildren(...Array.from({ length: Math.min(16, r.data.test.n) }, (_, i) => {
    const px = Float32Array.from(r.data.test.images.subarray(i * C * H * W, i * C * H * W + H * W));
    const b = el('button', { type: 'button', 'aria-label': `test image ${i} (${r.data.classNames[r.data.test.labels[i]!]})`, 'aria-pressed': String(i === current), title: `#${i}: ${r.data.classNames[r.data.test.labels[i]!]}` }, planeCanvas(px, H, W, ''));
    b.addEventListener('click', () => {
      $<HTMLInputElement>('test-index').value = String(i);
      for (const o of strip.querySelectorAll('button')) o.setAttribute('aria-pressed', String(o === b));
      predict();
    });
    return b;
  }));
}

function predict(): void {
  const r = selectedRun();
  if (!r) return;
  const out = $('prediction'), maps = $('feature-maps');
  const i = Number($<HTMLInputElement>('test-index').value);
  if (!Number.isInteger(i) || i < 0 || i >= r.data.test.n) {
    out.replaceChildren(el('p', { class: 'error' }, `pick a test image number from 0 to ${r.data.test.n - 1}`));
    return;
  }
  try {
    const p = predictWithFeatures(r, i);
    const names = r.data.classNames;
    const [C, H, W] = r.data.test.lshape;
    const raw = Float32Array.from(r.data.test.images.subarray(i * C * H * W, (i + 1) * C * H * W));
    out.replaceChildren(
      el('div', { class: 'block' }, planeCanvas(raw, H, W, 'input'),
        el('div', {},
          el('p', {}, el('strong', {}, `predicted: ${names[p.predicted]}`), ` — true class: ${names[p.target]} ${p.predicted === p.target ? '(right)' : '(wrong)'}`),
          el('ul', {}, ...p.probabilities.map((v, k) => el('li', {}, `${names[k]}: ${pct(v)}`))),
          el('p', { class: 'help' }, `frozen layers (learning rate 0) of this ${r.experiment} model: ${r.rates.filter((l) => l.lr === 0).map((l) => l.name).join(', ') || 'none'}`))));
    maps.replaceChildren(el('p', { class: 'help' }, 'Each conv block\'s output after its pooling layer (ReLU, so ≥ 0), first 8 channels, on one gray scale per block (black: the block\'s lowest value, white: its highest):'),
      el('div', { class: 'blocks' }, ...p.blocks.map((b) => {
        const [K, P, Q] = b.shape as [number, number, number];
        // One gray scale per block (its shown channels' range), so that 1×1 maps show too.
        const shown = b.values.subarray(0, Math.min(8, K) * P * Q), scale = range(shown);
        const canvases = Array.from({ length: Math.min(8, K) }, (_, k) => planeCanvas(shown.subarray(k * P * Q, (k + 1) * P * Q), P, Q, 'map', false, scale));
        const frozen = r.rates.filter((l) => l.name.startsWith(`conv${b.name.replace('pool', '')}_`)).every((l) => l.lr === 0);
        return el('div', { class: 'block feature-block', 'data-block': b.name }, el('span', { class: 'label' }, `${b.name} [${b.shape.join(', ')}]${frozen ? ' frozen' : ''}`), ...canvases);
      })));
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error' }, `prediction failed on the ${r.backend} backend: ${(e as Error).message}`));
  }
}

const shape = (s: number[] | null) => (s ? `[${s.join(', ')}]` : '—');

function openStep(): void {
  const r = selectedRun();
  if (!r) return;
  const out = $('step');
  let step: StepReport;
  try {
    step = insideOneStep(r);
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error' }, `the step failed on the ${r.backend} backend: ${(e as Error).message}`));
    return;
  }
  state.step = step;
  const norms = step.layers.flatMap((l) => l.gradNorms?.map((g) => g.norm ?? 0) ?? []);
  const maxNorm = Math.max(1e-12, ...norms);
  out.replaceChildren(
    el('p', {}, `minibatch x ${shape(step.batchShape)}, cost ${step.cost.toFixed(4)} (${r.experiment} model, ${r.backend} backend)`),
    el('table', { id: 'step-table' },
      el('thead', {}, el('tr', {}, ...['#', 'layer', 'type', 'input', 'output (fprop)', '∂cost/∂input (bprop)', 'learning rate', '‖gradient‖₂'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...step.layers.map((l) => el('tr', { class: l.frozen ? 'frozen' : '' },
        el('td', { class: 'num' }, String(l.index)), el('td', {}, l.name), el('td', {}, l.className),
        el('td', {}, shape(l.inShape)), el('td', {}, shape(l.outShape)),
        el('td', {}, l.backward ? shape(l.deltaShape) : 'not run (nothing below trains)'),
        el('td', { class: 'num' }, l.lr === undefined ? '' : l.lr === 0 ? '0 (frozen)' : String(l.lr)),
        el('td', {}, ...(l.gradNorms ?? []).map((g) => el('div', {}, g.norm === null ? `${g.param}: not computed (frozen)` : `${g.param} ${g.norm.toExponential(2)} `,
          ...(g.norm === null ? [] : [el('span', { class: 'bar', style: `width:${Math.max(1, 120 * g.norm / maxNorm)}px` })])))))))),
    stepGraph(r, step));
  const sel = $<HTMLSelectElement>('im2col-layer');
  sel.replaceChildren(...step.layers.filter((l) => l.className === 'Convolution').map((l) => el('option', { value: String(l.index) }, `${l.name} (input ${shape(l.inShape)})`)));
  sel.disabled = false;
  showIm2col();
}

function showIm2col(): void {
  const r = selectedRun(), step = state.step;
  if (!r || !step) return;
  const index = Number($<HTMLSelectElement>('im2col-layer').value);
  try {
    const m = im2colOf(r, step, index);
    const c = planeCanvas(m.values, m.rows, m.cols, 'im2col', true);
    c.style.height = `${Math.min(420, Math.max(90, m.rows * 3))}px`;
    $('im2col').replaceChildren(
      el('p', {}, m.geometry),
      el('p', { class: 'help' }, 'Each column is one output position\'s receptive field (C·R·S values), each row one (channel, kernel row, kernel column); red positive, blue negative, white zero; padding reads as zeros.'),
      c);
  } catch (e) {
    $('im2col').replaceChildren(el('p', { class: 'error' }, `im2col failed: ${(e as Error).message}`));
  }
}

// ---- start ----

async function start(): Promise<void> {
  setupFolder();
  $('run').addEventListener('click', () => void runAll());
  $('stop').addEventListener('click', () => { state.stop = true; setStatus('stopping after this minibatch…'); });
  $('model-exp').addEventListener('change', () => {
    showImportReport();
    showTestStrip();
    state.step = null;
    const r = selectedRun();
    if (r) showBackendLine(r.backend as PageBackend);
  });
  $('backend').addEventListener('change', () => {
    if (!state.running && state.runs.size === 0) showBackendLine($<HTMLSelectElement>('backend').value as PageBackend);
  });
  $('predict').addEventListener('click', predict);
  $('open-step').addEventListener('click', openStep);
  $('im2col-layer').addEventListener('change', showIm2col);
  drawCurves();
  try {
    state.info = await fetchInfo();
  } catch (e) {
    setStatus(`the playground server does not answer (${(e as Error).message}); restart 'tl-scratch playground'`, true);
    $<HTMLButtonElement>('run').disabled = true;
    return;
  }
  const i = state.info;
  $('builtin-desc').textContent = `Fashion-MNIST ${i.data.classNames.join(' vs ')} (${i.data.trainImages} training images, ${i.data.testImages} test images), VGG-16 ×${i.model.widthMult} pretrained on ${i.source.task} (${i.source.file})`;
  $<HTMLInputElement>('lr').value = String(i.defaults.lr);
  $<HTMLInputElement>('per-class').value = String(i.defaults.trainPerClass);
  const b = (state.backends = await probeBackends());
  const sel = $<HTMLSelectElement>('backend');
  sel.value = b.preferred;
  for (const o of Array.from(sel.options)) {
    o.title = b.lines[o.value as PageBackend];
    if (!b.ok[o.value as PageBackend]) o.disabled = true;
  }
  showBackendLine(b.preferred);
}

// For the browser test (test/playground/browser.test.ts): the state and the folder path without a drop.
(globalThis as { playground?: unknown }).playground = {
  state,
  useFiles,
  /** The registered backends (the test makes one fail mid-run). */
  backends: () => registeredBackends(),
  results: () => [...state.runs.values()].map((r) => ({ experiment: r.experiment, testAccuracy: r.testAccuracy, testCorrect: r.testCorrect, testCount: r.testCount, finalCost: r.finalCost, backend: r.backend, history: r.history })),
};
void start();
