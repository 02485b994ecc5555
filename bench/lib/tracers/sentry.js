'use strict';
// Sentry's Node SDK with tracing (every transaction sampled). With `profiler: true`,
// @sentry/profiling-node profiles every transaction (`profilesSampleRate: 1`, Sentry's
// per-transaction mode). Envelopes go to an in-process transport double that drops them
// (or keeps the profile items for the accuracy scenario): no network, same in A and B.

function init(config) {
  const Sentry = require('@sentry/node');
  const integrations = [];
  if (config.profiler) {
    integrations.push(require('@sentry/profiling-node').nodeProfilingIntegration());
  }
  const kept = [];
  const counters = { envelopes: 0, profiles: 0 };
  const makeTransport = () => ({
    send(envelope) {
      counters.envelopes++;
      const items = envelope[1];
      for (const [header, payload] of items) {
        if (header.type === 'profile') {
          counters.profiles++;
          if (config.keepProfiles) kept.push(payload);
        }
      }
      return Promise.resolve({ statusCode: 200 });
    },
    flush: () => Promise.resolve(true),
  });

  const options = {
    dsn: 'http://public@127.0.0.1:9/1',
    tracesSampleRate: 1,
    integrations,
    transport: makeTransport,
    sendClientReports: false,
    sendDefaultPii: false,
  };
  if (config.profiler) options.profilesSampleRate = 1;
  Sentry.init(options);

  return {
    name: config.profiler ? 'sentry+profiling-node' : 'sentry',
    withSpan(name, fn) {
      return Sentry.startSpan({ name }, () => fn());
    },
    currentSpanId() {
      const span = Sentry.getActiveSpan();
      return span ? span.spanContext().spanId : undefined;
    },
    currentTraceId() {
      const span = Sentry.getActiveSpan();
      return span ? span.spanContext().traceId : undefined;
    },
    profilerStats() {
      return config.profiler ? { ...counters } : undefined;
    },
    /**
     * Sentry profiles are per transaction: each sample is charged to the transaction whose
     * profile holds it. spanId here is that transaction's root span id (its trace context).
     */
    async collectSamples() {
      await Sentry.flush(5000);
      const out = [];
      for (const profile of kept) {
        const spanId = profile.transaction && profile.transaction.id;
        const traceId = profile.transaction && profile.transaction.trace_id;
        const { samples, stacks, frames } = profile.profile;
        for (const s of samples) {
          const stack = stacks[s.stack_id] || [];
          out.push({ spanId, traceId, transactionName: profile.transaction.name, functions: stack.map((i) => frames[i].function) });
        }
      }
      return out;
    },
    shutdown: () => Sentry.close(2000),
  };
}

module.exports = { init };
