// One span per token fetch, from core's fetch events. The start event of a miss is published in
// the caller's async context, so the span joins the caller's trace. A background refresh serves a
// caller who does not wait for it: its span starts a trace of its own, linked to that caller's.
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Link, Span, Tracer } from '@opentelemetry/api';
import type { DiagnosticsPayloads } from '@portvakt/core';
import type { PairCap } from './counts.js';
import { PORTVAKT_ATTRIBUTES as A, PORTVAKT_SPANS } from './names.js';

/** Spans still open beyond this are ended as abandoned; a fetch is bounded by its deadline anyway. */
const MAX_OPEN = 10_000;

interface OpenFetch {
  readonly span: Span;
  readonly retryReasons: string[];
}

/** The spans of the fetches in flight, keyed by core's `fetchId`. */
export class FetchSpans {
  readonly #tracer: Tracer;
  readonly #cap: PairCap;
  readonly #open = new Map<number, OpenFetch>();

  /** `cap` names the scope on the span as on the metrics: `(other)` for a pair past the cap. */
  constructor(tracer: Tracer, cap: PairCap) {
    this.#tracer = tracer;
    this.#cap = cap;
  }

  start(e: DiagnosticsPayloads['fetchStart']): void {
    const attributes = { ...this.#cap.attributesOf(e.clientId, e.scope), [A.fetchReason]: e.reason, ...(e.issuer === undefined ? {} : { [A.issuer]: e.issuer }) };
    let span: Span;
    if (e.reason === 'miss') {
      span = this.#tracer.startSpan(PORTVAKT_SPANS.fetch, { kind: SpanKind.INTERNAL, attributes }, context.active());
    } else {
      const caller = trace.getSpanContext(context.active());
      const links: Link[] = caller === undefined ? [] : [{ context: caller }];
      span = this.#tracer.startSpan(PORTVAKT_SPANS.fetch, { kind: SpanKind.INTERNAL, attributes, root: true, links });
    }
    if (this.#open.size >= MAX_OPEN) this.#endOldest();
    this.#open.set(e.fetchId, { span, retryReasons: [] });
  }

  retry(e: DiagnosticsPayloads['fetchRetry']): void {
    const open = this.#open.get(e.fetchId);
    if (open === undefined) return;
    open.retryReasons.push(e.reason);
    open.span.addEvent(PORTVAKT_SPANS.retryEvent, {
      [A.retryAttempt]: e.attempt,
      [A.retryReason]: e.reason,
      [A.retryDelay]: e.delayMs / 1000,
      ...(e.status === undefined ? {} : { [A.httpStatus]: e.status }),
    });
  }

  end(e: DiagnosticsPayloads['fetchEnd']): void {
    const open = this.#take(e.fetchId);
    if (open === undefined) return;
    open.span.setAttributes({ [A.fetchAttempts]: e.attempts, [A.fetchFromStore]: e.fromStore, [A.tokenExpiresIn]: e.expiresIn, [A.fetchRetryReasons]: open.retryReasons });
    open.span.end();
  }

  error(e: DiagnosticsPayloads['fetchError']): void {
    const open = this.#take(e.fetchId);
    if (open === undefined) return;
    open.span.setAttributes({ [A.fetchAttempts]: e.attempts, [A.errorType]: e.code, [A.fetchRetryReasons]: open.retryReasons, ...(e.mpCode === undefined ? {} : { [A.mpCode]: e.mpCode }) });
    // The code, not the message: the message names endpoints and is meant for a log, not a label.
    open.span.setStatus({ code: SpanStatusCode.ERROR, message: e.mpCode === undefined ? e.code : `${e.code} (${e.mpCode})` });
    open.span.end();
  }

  /** Ends every span still open: the instrumentation is going away. */
  close(): void {
    for (const id of [...this.#open.keys()]) this.#abandon(id);
  }

  #take(fetchId: number): OpenFetch | undefined {
    const open = this.#open.get(fetchId);
    this.#open.delete(fetchId);
    return open;
  }

  #endOldest(): void {
    const oldest = this.#open.keys().next();
    if (oldest.done !== true) this.#abandon(oldest.value);
  }

  #abandon(fetchId: number): void {
    const open = this.#take(fetchId);
    open?.span.setStatus({ code: SpanStatusCode.ERROR, message: 'abandoned: the fetch had not ended when its instrumentation stopped' });
    open?.span.end();
  }
}
