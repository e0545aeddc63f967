// The client's pure display helpers, which need neither a gateway nor a DOM.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { cursorDisplayFromPresence, describeTyping } from '../presence-client.js';

function presence(overrides = {}) {
  return {
    user_id: 'ada',
    document_id: 'd1',
    workspace_id: 'w1',
    name: 'Ada',
    avatar_url: null,
    color: 'hsl(120, 70%, 50%)',
    state: { online: true, typing: false, focused: true, activity: 'Viewing', viewport: null },
    cursor: null,
    selection: null,
    connected_at: 1,
    last_active_at: 2,
    last_cursor_update: 3,
    ...overrides,
  };
}

describe('describeTyping', () => {
  it('names one or two typists and counts more', () => {
    assert.equal(describeTyping([]), '');
    assert.equal(describeTyping(['Ada']), 'Ada is typing...');
    assert.equal(describeTyping(['Ada', 'Grace']), 'Ada and Grace are typing...');
    assert.equal(describeTyping(['Ada', 'Grace', 'Linus']), '3 people are typing...');
  });
});

describe('cursorDisplayFromPresence', () => {
  it('returns null without a cursor', () => {
    assert.equal(cursorDisplayFromPresence(presence()), null);
  });

  it('orders a backward selection', () => {
    const anchor = { line: 4, column: 2, offset: 50 };
    const head = { line: 1, column: 7, offset: 12 };
    const display = cursorDisplayFromPresence(
      presence({ cursor: head, selection: { anchor, head, is_backward: true }, state: { ...presence().state, typing: true } }),
    );
    assert.deepEqual(display, {
      userId: 'ada',
      name: 'Ada',
      color: 'hsl(120, 70%, 50%)',
      position: { line: 1, column: 7, offset: 12 },
      selection: { startLine: 1, startColumn: 7, startOffset: 12, endLine: 4, endColumn: 2, endOffset: 50 },
      isTyping: true,
      lastActive: 2,
    });
  });

  it('drops an empty selection', () => {
    const point = { line: 2, column: 3, offset: 20 };
    const display = cursorDisplayFromPresence(presence({ cursor: point, selection: { anchor: point, head: point, is_backward: false } }));
    assert.equal(display.selection, undefined);
  });
});
