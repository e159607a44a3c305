import type { SharedBreakerSettings } from '../runtime/shared-breaker-store';

// A fleet breaker's settings travel as one line of text, the form the Redis script parses:
// 'type,size,buckets,width,consecutive,threshold,minimum,slowRate,halfOpenMax,quorum,d1;d2;…'
// (an empty field for a criterion not used). These turn it into the public, typed form and back.

const optional = (field: string | undefined): number | undefined =>
  field === undefined || field === '' ? undefined : Number(field);

/** The typed settings a settings line describes. */
export function settingsFromText(text: string): SharedBreakerSettings {
  const fields = text.split(',');
  const [type, size, buckets, width] = fields;
  return {
    window:
      type === 'time'
        ? { type: 'time', buckets: Number(buckets), bucketMs: Number(width) }
        : { type: 'count', size: Number(size) },
    consecutiveFailures: optional(fields[4]),
    failureRateThreshold: optional(fields[5]),
    minimumCalls: Number(fields[6]),
    slowCallRateThreshold: optional(fields[7]),
    halfOpenMaxCalls: Number(fields[8]),
    quorum: Number(fields[9]),
    openDurations: (fields[10] ?? '0').split(';').map(Number),
  };
}

/** The settings line of typed settings. */
export function settingsToText(settings: SharedBreakerSettings): string {
  const { window } = settings;
  const text = (value: number | undefined): string => (value === undefined ? '' : `${value}`);
  return [
    window.type,
    window.type === 'time' ? window.buckets * window.bucketMs : window.size,
    window.type === 'time' ? window.buckets : 0,
    window.type === 'time' ? window.bucketMs : 0,
    text(settings.consecutiveFailures),
    text(settings.failureRateThreshold),
    settings.minimumCalls,
    text(settings.slowCallRateThreshold),
    settings.halfOpenMaxCalls,
    settings.quorum,
    settings.openDurations.join(';'),
  ].join(',');
}
