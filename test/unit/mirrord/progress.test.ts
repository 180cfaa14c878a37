import { describe, expect, it } from 'vitest';
import {
  describeEvent,
  isReadyEvent,
  parseProgressLine,
  sessionIdOf,
  type ProgressEvent,
} from '../../../src/mirrord/progress.js';

describe('parseProgressLine: the shapes of MIRRORD.md §2', () => {
  it('NewTask without a parent', () => {
    expect(parseProgressLine('{"type":"NewTask","name":"mirrord exec","parent":null}')).toEqual({
      type: 'NewTask',
      name: 'mirrord exec',
      parent: null,
    });
  });

  it('NewTask with a parent', () => {
    expect(
      parseProgressLine('{"type":"NewTask","name":"preparing to launch process","parent":"mirrord exec"}'),
    ).toEqual({ type: 'NewTask', name: 'preparing to launch process', parent: 'mirrord exec' });
  });

  it('FinishedTask with a message', () => {
    expect(
      parseProgressLine(
        '{"type":"FinishedTask","name":"extracting layer","success":true,"message":"layer extracted"}',
      ),
    ).toEqual({ type: 'FinishedTask', name: 'extracting layer', success: true, message: 'layer extracted' });
  });

  it('FinishedTask with a null message', () => {
    expect(
      parseProgressLine('{"type":"FinishedTask","name":"version check","success":true,"message":null}'),
    ).toEqual({
      type: 'FinishedTask',
      name: 'version check',
      success: true,
      message: null,
    });
  });

  it('FinishedTask with success false', () => {
    expect(
      parseProgressLine(
        '{"type":"FinishedTask","name":"checking operator","success":false,"message":"no operator"}',
      ),
    ).toEqual({ type: 'FinishedTask', name: 'checking operator', success: false, message: 'no operator' });
  });

  it('FinishedTask: a success that is not exactly true counts as false', () => {
    for (const success of ['"true"', '1', 'null']) {
      const event = parseProgressLine(
        `{"type":"FinishedTask","name":"x","success":${success},"message":null}`,
      );
      expect(event).toMatchObject({ type: 'FinishedTask', success: false });
    }
    expect(parseProgressLine('{"type":"FinishedTask","name":"x"}')).toEqual({
      type: 'FinishedTask',
      name: 'x',
      success: false,
      message: null,
    });
  });

  it('Warning', () => {
    const line =
      '{"type":"Warning","message":"agent pod startup is taking over 20s, container state: waiting (ImagePullBackOff)"}';
    expect(parseProgressLine(line)).toEqual({
      type: 'Warning',
      message: 'agent pod startup is taking over 20s, container state: waiting (ImagePullBackOff)',
    });
  });

  it('Info', () => {
    expect(parseProgressLine('{"type":"Info","message":"session ID: 3f0c9a1b"}')).toEqual({
      type: 'Info',
      message: 'session ID: 3f0c9a1b',
    });
  });

  it('the Ready! line', () => {
    expect(
      parseProgressLine('{"type":"FinishedTask","name":"running process","success":true,"message":"Ready!"}'),
    ).toEqual({ type: 'FinishedTask', name: 'running process', success: true, message: 'Ready!' });
  });

  it('tolerates surrounding whitespace and a CR', () => {
    expect(parseProgressLine('  {"type":"Info","message":"hi"}\r')).toEqual({ type: 'Info', message: 'hi' });
  });

  it('fields of the wrong type become empty or null', () => {
    expect(parseProgressLine('{"type":"Info","message":5}')).toEqual({ type: 'Info', message: '' });
    expect(parseProgressLine('{"type":"Warning"}')).toEqual({ type: 'Warning', message: '' });
    expect(parseProgressLine('{"type":"NewTask","name":7,"parent":8}')).toEqual({
      type: 'NewTask',
      name: '',
      parent: null,
    });
  });

  it('another string type becomes Other with the whole line as message', () => {
    const line = '{"type":"IdeMessage","id":"x","level":"info","text":"hi"}';
    expect(parseProgressLine(line)).toEqual({ type: 'Other', message: line });
  });
});

describe('parseProgressLine: not progress', () => {
  it.each([
    '',
    '   ',
    'hello world',
    'Ready!',
    'Error: failed to create agent',
    '[1,2,3]',
    '"{"',
    '42',
    'null',
    '{',
    '{"type":"Info","message":"unterminated',
    '{"type":"Info"} trailing',
    '{not json}',
  ])('%j is undefined', (line) => {
    expect(parseProgressLine(line)).toBeUndefined();
  });

  it.each(['{}', '{"name":"x"}', '{"type":5}', '{"type":null}', '{"type":{"a":1}}'])(
    'an object without a string type (%s) is undefined',
    (line) => {
      expect(parseProgressLine(line)).toBeUndefined();
    },
  );
});

describe('isReadyEvent', () => {
  it('a successful FinishedTask whose message is exactly Ready!', () => {
    expect(
      isReadyEvent({ type: 'FinishedTask', name: 'running process', success: true, message: 'Ready!' }),
    ).toBe(true);
    expect(isReadyEvent({ type: 'FinishedTask', name: 'anything', success: true, message: 'Ready!' })).toBe(
      true,
    );
  });

  it.each<ProgressEvent>([
    { type: 'FinishedTask', name: 'running process', success: false, message: 'Ready!' },
    { type: 'FinishedTask', name: 'running process', success: true, message: null },
    { type: 'FinishedTask', name: 'running process', success: true, message: 'ready!' },
    { type: 'FinishedTask', name: 'running process', success: true, message: 'Ready! ' },
    { type: 'Info', message: 'Ready!' },
    { type: 'Warning', message: 'Ready!' },
    { type: 'NewTask', name: 'Ready!', parent: null },
    { type: 'Other', message: 'Ready!' },
  ])('not ready: %j', (event) => {
    expect(isReadyEvent(event)).toBe(false);
  });

  it('works on parsed lines', () => {
    const ready = parseProgressLine(
      '{"type":"FinishedTask","name":"running process","success":true,"message":"Ready!"}',
    );
    expect(ready && isReadyEvent(ready)).toBe(true);
  });
});

describe('sessionIdOf', () => {
  it('reads the id from an Info line', () => {
    expect(sessionIdOf({ type: 'Info', message: 'session ID: 3f0c-9a1b-AB12' })).toBe('3f0c-9a1b-AB12');
    expect(sessionIdOf({ type: 'Info', message: 'config summary; session ID:abc123 (operator off)' })).toBe(
      'abc123',
    );
  });

  it('undefined when the Info line has no id', () => {
    expect(sessionIdOf({ type: 'Info', message: 'config summary' })).toBeUndefined();
    expect(sessionIdOf({ type: 'Info', message: 'session ID: ' })).toBeUndefined();
  });

  it('undefined for other event types, even with an id in the text', () => {
    expect(sessionIdOf({ type: 'Warning', message: 'session ID: abc' })).toBeUndefined();
    expect(sessionIdOf({ type: 'Other', message: 'session ID: abc' })).toBeUndefined();
    expect(
      sessionIdOf({ type: 'FinishedTask', name: 'x', success: true, message: 'session ID: abc' }),
    ).toBeUndefined();
  });
});

describe('describeEvent', () => {
  it.each<[ProgressEvent, string]>([
    [{ type: 'NewTask', name: 'mirrord exec', parent: null }, 'mirrord: mirrord exec'],
    [
      { type: 'FinishedTask', name: 'extracting layer', success: true, message: 'layer extracted' },
      'mirrord: extracting layer done: layer extracted',
    ],
    [
      { type: 'FinishedTask', name: 'version check', success: true, message: null },
      'mirrord: version check done',
    ],
    [
      { type: 'FinishedTask', name: 'version check', success: true, message: '' },
      'mirrord: version check done',
    ],
    [
      { type: 'FinishedTask', name: 'creating agent', success: false, message: 'timeout' },
      'mirrord: creating agent failed: timeout',
    ],
    [
      { type: 'FinishedTask', name: 'creating agent', success: false, message: null },
      'mirrord: creating agent failed',
    ],
    [{ type: 'Warning', message: 'agent pod startup is slow' }, 'mirrord warning: agent pod startup is slow'],
    [{ type: 'Info', message: 'session ID: abc' }, 'mirrord: session ID: abc'],
    [{ type: 'Other', message: '{"type":"X"}' }, 'mirrord: {"type":"X"}'],
  ])('%j -> %s', (event, text) => {
    expect(describeEvent(event)).toBe(text);
  });
});
