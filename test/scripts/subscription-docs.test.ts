/**
 * The subscription machine is part of the pictures: docs/machines.md draws it with its three
 * states, and the overview names it, spawned by the session and told of DELETEs by the registry.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { MACHINES_DOC, findMachines } from '../../scripts/diagrams.js';
import { OVERVIEW_ACTORS, OVERVIEW_LINKS, drawOverview } from '../../scripts/overview.js';

test('docs/machines.md has a section for the subscription machine, after the session, with its states drawn', async (t) => {
  const doc = await readFile(MACHINES_DOC, 'utf8');
  const section = doc.slice(doc.indexOf('\n## subscription\n'));
  t.true(doc.indexOf('\n## session\n') < doc.indexOf('\n## subscription\n') && doc.includes('\n## subscription\n'));
  for (const state of ['active', 'keyDeleted', 'ended']) t.true(section.includes(`state "${state}" as s_${state}`), state);
  t.true(section.includes('s_active --> s_keyDeleted : key.deleted'));
  t.true(section.includes('s_keyDeleted --> s_active : key.created'));
  // The session's section links to it as the actor it spawns.
  t.true(doc.includes('`subscription` ([subscription](#subscription))'));
  t.true((await findMachines()).some((found) => found.machine.id === 'subscription' && found.file === 'actors/subscription.ts'));
});

test('the overview names the subscription actor, spawned by the session, ended by it, told of DELETEs by the registry', (t) => {
  t.true(OVERVIEW_ACTORS.some((actor) => actor.id === 'subscription' && actor.place === 'main'));
  t.true(OVERVIEW_LINKS.some((link) => link.from === 'session' && link.to === 'subscription' && link.kind === 'starts'));
  const text = drawOverview();
  t.true(text.includes('session -->|"event: subscription.end"| subscription'), text);
  t.true(text.includes('registry -->|"event: key.deleted, key.created"| subscription'), text);
});
