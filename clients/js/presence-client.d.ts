// Types of presence-client.js. Field names of the presence model are the gateway's wire names.

// MARK: - The presence model

/** A user's activity. The gateway sets `Idle` after 30 s without activity and `Away` after 5 minutes, by default. */
export type ActivityType = 'Editing' | 'Viewing' | 'Selecting' | 'Idle' | 'Away';

/** A position in the text: 0-based line and column, and the 0-based offset from the start of the text.
 *  Columns and offsets count UTF-16 code units. Each value is an integer from 0 to 2^32 - 1. */
export interface CursorPosition {
  line: number;
  column: number;
  offset: number;
}

/** A selection from `anchor` (where it started) to `head` (where the cursor is). */
export interface Selection {
  anchor: CursorPosition;
  head: CursorPosition;
  /** True when `head` comes before `anchor` in the text. */
  is_backward: boolean;
}

/** The visible part of the document. */
export interface Viewport {
  top_line: number;
  bottom_line: number;
  /** From 0 (scrolled to the top) to 100 (scrolled to the bottom). */
  scroll_percentage: number;
}

export interface PresenceState {
  online: boolean;
  typing: boolean;
  focused: boolean;
  activity: ActivityType;
  viewport: Viewport | null;
}

/** One user's presence in one document. Timestamps are milliseconds since the Unix epoch. */
export interface UserPresence {
  user_id: string;
  document_id: string;
  workspace_id: string;
  name: string;
  avatar_url: string | null;
  /** The user's colour as a CSS colour, by default `hsl(H, 70%, 50%)` with H derived from the user id. */
  color: string;
  state: PresenceState;
  cursor: CursorPosition | null;
  selection: Selection | null;
  connected_at: number;
  last_active_at: number;
  last_cursor_update: number;
}

/** An event as the gateway sends it, externally tagged by variant name. */
export type PresenceEvent =
  | { UserJoined: UserPresence }
  | { UserLeft: string }
  | { CursorMoved: { user_id: string; cursor: CursorPosition; selection: Selection | null } }
  | { TypingChanged: { user_id: string; is_typing: boolean } }
  | { ViewportChanged: { user_id: string; viewport: Viewport } }
  | { ActivityChanged: { user_id: string; activity: ActivityType } }
  | { UserIdle: { user_id: string } }
  | { FocusChanged: { user_id: string; focused: boolean } };

// MARK: - Errors

/** Error codes of the gateway protocol. */
export type GatewayErrorCode =
  | 'DocumentAtCapacity'
  | 'NotJoined'
  | 'InvalidMessage'
  | 'UnknownMessageType'
  | 'Unauthorized'
  | 'Forbidden'
  | 'RateLimited'
  | 'PluginRejected'
  | 'Internal';

/** Codes the client uses for problems it finds itself: a message from the gateway that is not valid
 *  JSON with an `event_type`, or a join cut short by `leave`, `close` or a failed connection. */
export type ClientErrorCode = 'InvalidServerMessage' | 'Closed';

export class PresenceError extends Error {
  readonly name: 'PresenceError';
  readonly code: GatewayErrorCode | ClientErrorCode | string;
  /** The document the error concerns, when the gateway named one. */
  readonly documentId: string | null;
  /** The `ref` of the message that caused it, when it had one. */
  readonly ref: number | string | null;
  constructor(code: string, message: string, details?: { documentId?: string | null; ref?: number | string | null });
}

// MARK: - The client

export interface ReconnectOptions {
  /** Delay before the first retry, in milliseconds. Default 500. */
  initialDelayMs?: number;
  /** The largest delay between retries, in milliseconds. Default 15000. */
  maxDelayMs?: number;
  /** Factor applied to the delay after each failed retry. Default 2. */
  multiplier?: number;
  /** Largest fraction taken off each delay at random, from 0 to 1. Default 0.5. */
  jitter?: number;
}

export interface PresenceClientOptions {
  /** The gateway's WebSocket URL, such as `ws://127.0.0.1:8080/v1/ws`. */
  url: string;
  /** A token for `[auth] mode = "jwt"`, sent as `?token=` on the URL. A function is called before each
   *  connection attempt, so an expired token can be replaced. */
  token?: string | (() => string | Promise<string>);
  /** Identity sent with each join. The gateway ignores it when it takes identity from a token. */
  user?: { id?: string; name?: string; avatarUrl?: string | null };
  /** Workspace of the documents joined without their own `workspaceId`. Default `"default"`. */
  workspaceId?: string;
  /** WebSocket constructor; defaults to the global one. In Node 20 pass the `ws` package. */
  WebSocket?: new (url: string) => WebSocketLike;
  /** Cursor message throttle in milliseconds. Default 50. */
  cursorThrottleMs?: number;
  /** Viewport message throttle in milliseconds. Default 100. */
  viewportThrottleMs?: number;
  /** Keystroke message throttle in milliseconds; keep it well below the gateway's typing debounce.
   *  Default 100. */
  keystrokeThrottleMs?: number;
  /** Batching interval requested from the gateway in milliseconds; 0 turns batching off. Default 16. */
  batchMs?: number;
  /** Interval between application-level pings in milliseconds. Default 10000. */
  heartbeatIntervalMs?: number;
  /** A connection silent for this many milliseconds is dropped and reconnected. Default 25000. */
  heartbeatTimeoutMs?: number;
  /** Reconnect backoff, or `false` to stay closed after a drop. */
  reconnect?: ReconnectOptions | false;
  /** Watch `visibilitychange` (sets focus), `pagehide` (leaves at once) and `pageshow` (rejoins after
   *  the back-forward cache). Default: true when a `document` exists. */
  pageLifecycle?: boolean;
}

/** The part of the WebSocket interface the client uses; the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionStatusEvent {
  status: ConnectionStatus;
  /** Number of failed attempts since the gateway last sent a message. */
  attempt: number;
  /** With `reconnecting`: milliseconds until the next attempt. */
  delayMs?: number;
  /** With `reconnecting` or `closed`: the WebSocket close code and reason. */
  code?: number;
  reason?: string;
}

export interface ClientEvents {
  status: ConnectionStatusEvent;
  error: PresenceError;
}

export class PresenceClient {
  constructor(options: PresenceClientOptions);
  readonly status: ConnectionStatus;
  /** A copy of the joined documents by id. */
  readonly documents: Map<string, PresenceDocument>;
  on<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): void;
  /** Resolves once the socket is open; retries failed attempts; rejects only if `close` comes first. */
  connect(): Promise<void>;
  /** Returns the document's handle at once; `handle.ready` resolves after the snapshot. */
  join(documentId: string, options?: { workspaceId?: string }): PresenceDocument;
  /** Closes the connection with no reconnect; every document ends in status `left`. */
  close(): void;
}

export type DocumentStatus = 'joining' | 'joined' | 'rejoining' | 'left' | 'failed';

/** A change to one user. For `join` `previous` is null; for `leave` both are the last known presence. */
export interface UserEvent {
  user: UserPresence;
  previous: UserPresence | null;
}

export interface DocumentStatusEvent {
  status: DocumentStatus;
  /** With `failed`: why the join failed. */
  error: PresenceError | null;
}

export interface DocumentEvents {
  join: UserEvent;
  leave: UserEvent;
  /** Any change to a user, after the specific events below. */
  update: UserEvent;
  cursor: UserEvent;
  typing: UserEvent;
  activity: UserEvent;
  viewport: UserEvent;
  focus: UserEvent;
  status: DocumentStatusEvent;
  error: PresenceError;
}

export class PresenceDocument {
  private constructor();
  readonly id: string;
  readonly status: DocumentStatus;
  /** Resolves with this handle after the first snapshot; rejects if the join fails. */
  readonly ready: Promise<PresenceDocument>;
  /** A copy of everyone present, this user included, by user id. */
  readonly users: Map<string, UserPresence>;
  readonly self: UserPresence | null;
  readonly selfId: string | null;
  otherUsers(): UserPresence[];
  on<K extends keyof DocumentEvents>(type: K, listener: (event: DocumentEvents[K]) => void): () => void;
  off<K extends keyof DocumentEvents>(type: K, listener: (event: DocumentEvents[K]) => void): void;
  /** Throttled; the latest position always goes out. `is_backward` is derived when omitted. */
  moveCursor(
    cursor: CursorPosition,
    selection?: { anchor: CursorPosition; head: CursorPosition; is_backward?: boolean } | null,
  ): void;
  /** One keystroke: the gateway keeps the user typing until its debounce passes without another. */
  keystroke(): void;
  setTyping(isTyping: boolean): void;
  setViewport(viewport: Viewport): void;
  setFocus(focused: boolean): void;
  leave(): void;
}

export const DEFAULT_OPTIONS: Readonly<
  Required<Omit<PresenceClientOptions, 'url' | 'token' | 'user' | 'workspaceId' | 'WebSocket' | 'reconnect' | 'pageLifecycle'>> & {
    reconnect: Readonly<Required<ReconnectOptions>>;
  }
>;

// MARK: - Display

/** A position as CursorRenderer passes it to an adapter: 0-based line and column, and the offset when
 *  known, for editors that address text by offset (ProseMirror). */
export interface DisplayPosition {
  line: number;
  column: number;
  offset?: number;
}

/** The input of CursorRenderer for one user. Lines and columns are 0-based. */
export interface CursorDisplay {
  userId: string;
  name: string;
  color: string;
  position: DisplayPosition;
  /** In document order: start before end. */
  selection?: {
    startLine: number;
    startColumn: number;
    startOffset?: number;
    endLine: number;
    endColumn: number;
    endOffset?: number;
  };
  isTyping: boolean;
  lastActive: number;
}

/** Pixels relative to the adapter's container. */
export interface CaretCoordinates {
  x: number;
  y: number;
  height: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The interface CursorRenderer needs from an editor. */
export interface EditorAdapter {
  /** A positioned element over the text; the renderer adds carets and selections to it. */
  container: HTMLElement;
  /** Returns where a caret at this position is drawn, or null when it is out of view. */
  getCoordinates(position: DisplayPosition): CaretCoordinates | null;
  /** Returns the rectangles covering the text from `start` to `end`. Without it, only selections
   *  within one visual line are drawn. */
  getSelectionRects?(start: DisplayPosition, end: DisplayPosition): Rect[];
  /** Calls `callback` after the editor scrolls, resizes or changes; returns a function that stops it. */
  onLayoutChange?(callback: () => void): () => void;
}

export function describeTyping(names: string[]): string;
export function cursorDisplayFromPresence(user: UserPresence): CursorDisplay | null;

export class CursorRenderer {
  /** @param options.labelAfterMoveMs how long the name label stays after a move; default 1500. */
  constructor(editor: EditorAdapter, options?: { labelAfterMoveMs?: number });
  updateCursor(data: CursorDisplay): void;
  removeCursor(userId: string): void;
  clear(): void;
  refresh(): void;
  destroy(): void;
  attach(doc: PresenceDocument, options?: { includeSelf?: boolean }): () => void;
}

export class TypingIndicator {
  constructor(container: HTMLElement);
  readonly text: string;
  updateTyping(userId: string, userName: string, isTyping: boolean): void;
  clear(): void;
  attach(doc: PresenceDocument, options?: { includeSelf?: boolean }): () => void;
}

export class TextareaAdapter implements EditorAdapter {
  constructor(textarea: HTMLTextAreaElement);
  readonly textarea: HTMLTextAreaElement;
  readonly container: HTMLElement;
  getCoordinates(position: DisplayPosition): CaretCoordinates | null;
  getSelectionRects(start: DisplayPosition, end: DisplayPosition): Rect[];
  offsetAt(position: { line: number; column: number }): number;
  positionAt(offset: number): CursorPosition;
  readSelection(): { cursor: CursorPosition; selection: Selection | null };
  readViewport(): Viewport;
  onLayoutChange(callback: () => void): () => void;
  destroy(): void;
}
