/**
 * `--compat=course` speaks the course's own words where they differ from the default's stricter
 * rules (/work/shared/course-c-differences.md): HELP's text, and a WAIT line with more after its delay.
 */
import test from 'ava';
import { parseLine } from '../../protocol/job-language.js';
import { HELP_TEXT } from '../../protocol/output.js';

test('course mode reads WAIT\'s delay and ignores the rest of the line, as the course\'s code does', (t) => {
  t.deepEqual(parseLine('WAIT 10 5', 'course'), { kind: 'wait', ms: 10 });
  t.deepEqual(parseLine('  WAIT\t250   anything at all ', 'course'), { kind: 'wait', ms: 250 });
  // The delay itself is still checked.
  t.is(parseLine('WAIT ten 5', 'course')?.kind, 'invalid');
  t.is(parseLine('WAIT', 'course')?.kind, 'invalid');
});

test('the default style keeps its stricter rule: a WAIT line holds its delay alone, or a comment after it', (t) => {
  t.is(parseLine('WAIT 10 5')?.kind, 'invalid');
  t.is(parseLine('WAIT 10 5', 'seed')?.kind, 'invalid');
  t.deepEqual(parseLine('WAIT 10 # a comment'), { kind: 'wait', ms: 10 });
});

test('course mode\'s HELP is the course base code\'s text, with commas in its WRITE line; the rest is the default\'s', (t) => {
  const course = HELP_TEXT.course.split('\n');
  const seed = HELP_TEXT.seed.split('\n');
  t.is(course[1], '  WRITE [(key,value),(key2,value2),...]');
  t.is(seed[1], '  WRITE [(key,value)(key2,value2)...]');
  t.deepEqual(course.slice(2), seed.slice(2));
  t.is(course[0], seed[0]);
});
