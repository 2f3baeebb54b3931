/**
 * Renders every diagram of docs/machines.md and docs/architecture.md with Mermaid's own renderer in the
 * system's headless Chromium (one browser for all), and keeps the PNGs in test-artifacts/diagrams/
 * for a person to look at.
 */
import { join } from 'node:path';
import test from 'ava';
import { NO_CHROMIUM, findChromium } from '../../scripts/chromium.js';
import { ARTIFACTS_DIR, mermaidBlocks, projectDiagrams, renderDiagrams, saveRendered } from '../../scripts/render-diagrams.js';

/** A diagram Mermaid refuses, as the host's was ("Group nodes can only have label"). */
const BROKEN = [
  'stateDiagram-v2',
  '  [*] --> listening',
  '  state listening {',
  '    [*] --> reading',
  '    reading --> paused : buffer.full',
  '  }',
  '  listening : invoke readRequests (readRequests)',
  '  listening : signal.sigusr1 / resetSessions',
  '',
].join('\n');

test('every diagram of docs/machines.md and docs/architecture.md renders, with every state name drawn', async (t) => {
  t.not(findChromium(), null, NO_CHROMIUM);
  const diagrams = await projectDiagrams();
  t.true(diagrams.length >= 7, `found ${diagrams.length} diagrams`);
  t.true(diagrams.some(({ text }) => text.includes('state "keyDeleted" as s_keyDeleted')), 'the subscription machine is among them');
  const rendered = await renderDiagrams([...diagrams, { name: 'broken', text: BROKEN }]);
  await saveRendered(rendered, join(ARTIFACTS_DIR, 'diagrams'));

  const broken = rendered.pop()!;
  // The renderer does report a diagram it cannot draw: the checks below can fail.
  t.not(broken.error, null);
  t.is(broken.svg, null);

  for (const [i, { name, svg, png, error }] of rendered.entries()) {
    t.is(error, null, `${name} did not render`);
    t.truthy(png, `${name} has no picture`);
    // Every state declared as `state "name" as id` shows its name as a label of its own.
    for (const [, label] of diagrams[i]!.text.matchAll(/state "([^"]+)" as /g)) {
      t.true(svg!.includes(`>${label}<`), `${name}: the state ${label} has no label of its own`);
    }
  }
});

test('mermaid blocks are found in Markdown in order', (t) => {
  const blocks = mermaidBlocks('x\n```mermaid\na\n```\n```sh\nb\n```\n```mermaid\nc\nd\n```\n', 'f.md');
  t.deepEqual(blocks, [
    { name: 'f.md#1', text: 'a\n' },
    { name: 'f.md#2', text: 'c\nd\n' },
  ]);
});
