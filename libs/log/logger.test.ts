import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import test from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { createLogger, logLevelFromEnv } from './logger.ts';

function collector(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

test('the logger writes one JSON object a line, with its level, message, fields and a child\'s fields', () => {
  const out = collector();
  const logger = createLogger({ level: 'info', destination: out.stream });
  logger.debug('not at info');
  logger.child({ service: 'shelf' }).warn('could not publish', { topic: 'shelf.event-detected' });
  const [line, ...rest] = out.lines();
  assert.equal(rest.length, 0);
  assert.equal(line.level, 'warn');
  assert.equal(line.msg, 'could not publish');
  assert.equal(line.service, 'shelf');
  assert.equal(line.topic, 'shelf.event-detected');
  assert.equal(typeof line.time, 'number');
});

test('the level comes from WALKOUT_LOG_LEVEL; a misspelt level is an error that names the variable', () => {
  assert.equal(logLevelFromEnv({}), 'info');
  assert.equal(logLevelFromEnv({ WALKOUT_LOG_LEVEL: 'DEBUG' }), 'debug');
  assert.equal(logLevelFromEnv({ WALKOUT_LOG_LEVEL: 'silent' }), 'silent');
  assert.throws(() => logLevelFromEnv({ WALKOUT_LOG_LEVEL: 'verbose' }), (error: WalkoutError) => {
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /WALKOUT_LOG_LEVEL must be one of debug, info, warn, error, silent; got "verbose"/);
    return true;
  });
});
