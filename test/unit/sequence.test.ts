import t from 'tap';
import { MAX_SEQUENCE_LENGTH, SequenceRecorder } from '../../src/log/sequence';

const record = (letters: string) => {
  const r = new SequenceRecorder();
  for (const l of letters) r.record(l);
  return r.toString();
};

t.equal(record('upsUrrrrddddq'), 'upsUr4d4q', 'runs are encoded');
t.equal(record(''), '', 'empty session');
t.equal(record('uu!u'), 'u2!u', 'runs only for adjacent repeats');
t.equal(record('r'.repeat(1000)), 'r1000', 'a long run stays short');
t.test('bounded: past the limit the sequence ends in +', async (t) => {
  const s = record('ab'.repeat(500));
  t.ok(s.length <= MAX_SEQUENCE_LENGTH + 1, `length ${s.length}`);
  t.match(s, /^(ab)+\+$/);
});
