/**
 * Renders Mermaid diagrams with Mermaid's own renderer (the `mermaid` package's browser build)
 * in the system's headless Chromium, to SVG and PNG: `npm run diagrams:render [-- <out dir>]`
 * renders every diagram of `docs/machines.md` and `docs/architecture.md` into `test-artifacts/diagrams/` and
 * exits 1 if any fails. The diagrams test renders them the same way.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from './chromium.js';
import { ARCHITECTURE_DOC, MACHINES_DOC } from './diagrams.js';

/** Mermaid's browser build, from node_modules: nothing is fetched from the network. */
export const MERMAID_SCRIPT = fileURLToPath(new URL('../../node_modules/mermaid/dist/mermaid.min.js', import.meta.url));
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** The little of the page's DOM used inside `page.evaluate` (the project compiles without the DOM library). */
declare const document: { getElementById(id: string): { innerHTML: string; remove(): void } | null };

export interface Diagram {
  /** Where it comes from, e.g. `docs/machines.md#3`. */
  readonly name: string;
  readonly text: string;
}

export interface Rendered {
  readonly name: string;
  /** Null when Mermaid rejected the diagram. */
  readonly svg: string | null;
  readonly png: Uint8Array | null;
  readonly error: string | null;
}

/** Every ```mermaid block of a Markdown text, in order. */
export function mermaidBlocks(markdown: string, source: string): Diagram[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((match, i) => ({ name: `${source}#${i + 1}`, text: match[1]! }));
}

/** Renders each diagram in one browser; a diagram Mermaid rejects gets its error, the rest go on. */
export async function renderDiagrams(diagrams: readonly Diagram[]): Promise<Rendered[]> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1600, height: 1000, deviceScaleFactor: 1 });
    await page.setContent('<!doctype html><html><body style="margin:0;background:white"><div id="out" style="display:inline-block;padding:16px"></div></body></html>');
    await page.addScriptTag({ path: MERMAID_SCRIPT });
    await page.evaluate(() => {
      (globalThis as unknown as { mermaid: { initialize(config: object): void } }).mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', state: { useMaxWidth: false }, flowchart: { useMaxWidth: false } });
    });
    const results: Rendered[] = [];
    for (const [i, diagram] of diagrams.entries()) {
      const outcome = await page.evaluate(
        async (id: string, text: string) => {
          const out = document.getElementById('out')!;
          out.innerHTML = '';
          try {
            const mermaid = (globalThis as unknown as { mermaid: { render(id: string, text: string): Promise<{ svg: string }> } }).mermaid;
            const { svg } = await mermaid.render(id, text);
            out.innerHTML = svg;
            return { svg, error: null };
          } catch (error) {
            // Mermaid leaves its error drawing in the page: remove it so the next render starts clean.
            document.getElementById(`d${id}`)?.remove();
            // This function runs in the browser page: it cannot call protocol/guards.ts's errorMessage.
            return { svg: null, error: error instanceof Error ? error.message : String(error) };
          }
        },
        `diagram${i}`,
        diagram.text,
      );
      let png: Uint8Array | null = null;
      if (outcome.svg !== null) {
        const element = await page.$('#out');
        png = element === null ? null : await element.screenshot({ type: 'png' });
      }
      results.push({ name: diagram.name, svg: outcome.svg, png, error: outcome.error });
    }
    return results;
  } finally {
    await browser.close();
  }
}

/** The diagrams of `docs/machines.md` and of `docs/architecture.md`. */
export async function projectDiagrams(): Promise<Diagram[]> {
  const [doc, architecture] = await Promise.all([readFile(MACHINES_DOC, 'utf8'), readFile(ARCHITECTURE_DOC, 'utf8')]);
  return [...mermaidBlocks(doc, 'docs/machines.md'), ...mermaidBlocks(architecture, 'docs/architecture.md')];
}

/** `docs/machines.md#3` as `docs-machines.md-3`, a file name. */
export function fileName(name: string): string {
  return name.replace(/[/#]/g, '-');
}

/** Writes each rendered diagram as `<name>.svg` and `<name>.png` into `dir`. */
export async function saveRendered(rendered: readonly Rendered[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const { name, svg, png } of rendered) {
    if (svg !== null) await writeFile(join(dir, `${fileName(name)}.svg`), svg);
    if (png !== null) await writeFile(join(dir, `${fileName(name)}.png`), png);
  }
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const dir = process.argv[2] ?? join(ARTIFACTS_DIR, 'diagrams');
  const rendered = await renderDiagrams(await projectDiagrams());
  await saveRendered(rendered, dir);
  let failed = 0;
  for (const { name, error } of rendered) {
    if (error === null) continue;
    failed++;
    process.stderr.write(`${name}: ${error}\n`);
  }
  process.stdout.write(`rendered ${rendered.length - failed} of ${rendered.length} diagrams into ${dir}\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}
