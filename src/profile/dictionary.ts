import type { AttributeValue } from '@opentelemetry/api';
import type { ProfileFrame, ProfileStack } from './span-profile';
import type {
  PbAnyValue,
  PbFunction,
  PbKeyValueAndUnit,
  PbLink,
  PbLocation,
  PbProfilesDictionary,
  PbStack,
} from './otlp-model';

/** Display name of a function V8 reports without one. */
export const ANONYMOUS_FUNCTION_NAME = '(anonymous)';
/** Semantic-conventions value of `profile.frame.type` for V8/JavaScript frames. */
export const V8JS_FRAME_TYPE = 'v8js';
const FRAME_TYPE_KEY = 'profile.frame.type';
const VALID_TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/i;
const VALID_SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/i;

/**
 * Values to table indices by exact key. Index 0 is taken by the table's zero value from the
 * start, as ProfilesDictionary requires, so an index of 0 keeps meaning "unset".
 */
class Interner<T> {
  readonly table: T[];
  private readonly _index = new Map<string, number>();

  constructor(zero: T) {
    this.table = [zero];
  }

  /** The index of the entry with `key`, appending `make()` the first time the key is seen. */
  intern(key: string, make: () => T): number {
    let index = this._index.get(key);
    if (index === undefined) {
      index = this.table.length;
      this.table.push(make());
      this._index.set(key, index);
    }
    return index;
  }
}

/**
 * Builds the one ProfilesDictionary of an export request. Every table is deduplicated by exact
 * keys (never hashes: a collision would silently merge two stacks). Frames and stacks the sampler
 * interned are usually shared objects, so identity maps answer most lookups before any key is built.
 */
export class DictionaryBuilder {
  private readonly _strings = new Map<string, number>();
  private readonly _stringTable: string[] = [''];
  private readonly _functions = new Interner<PbFunction>({});
  private readonly _locations = new Interner<PbLocation>({});
  private readonly _stacks = new Interner<PbStack>({});
  private readonly _links = new Interner<PbLink>({});
  private readonly _attributes = new Interner<PbKeyValueAndUnit>({});
  private readonly _frameIndex = new Map<ProfileFrame, number>();
  private readonly _stackIndex = new Map<ProfileStack, number>();
  private _frameTypeAttributes: readonly number[] | undefined;

  constructor() {
    this._strings.set('', 0);
  }

  string(value: string): number {
    let index = this._strings.get(value);
    if (index === undefined) {
      index = this._stringTable.length;
      this._stringTable.push(value);
      this._strings.set(value, index);
    }
    return index;
  }

  /** The stack_table index of `stack` (leaf first, as ProfileStack already is). */
  stack(stack: ProfileStack): number {
    // An empty stack is the zero Stack{} already at index 0 (a duplicate would break the rules).
    if (stack.length === 0) return 0;
    let index = this._stackIndex.get(stack);
    if (index === undefined) {
      const locationIndices = new Array<number>(stack.length);
      for (let i = 0; i < stack.length; i++) locationIndices[i] = this.location(stack[i]);
      index = this._stacks.intern(locationIndices.join(','), () => ({ locationIndices }));
      this._stackIndex.set(stack, index);
    }
    return index;
  }

  /** The location_table index of one JS frame: one Line, no mapping, frame type v8js. */
  location(frame: ProfileFrame): number {
    let index = this._frameIndex.get(frame);
    if (index === undefined) {
      const functionIndex = this._function(frame);
      const line = positiveInt(frame.lineNumber);
      const column = positiveInt(frame.columnNumber);
      index = this._locations.intern(`${functionIndex}:${line}:${column}`, () => {
        const pbLine: { functionIndex: number; line?: number; column?: number } = { functionIndex };
        if (line > 0) pbLine.line = line;
        if (column > 0) pbLine.column = column;
        return { lines: [pbLine], attributeIndices: this._frameType() };
      });
      this._frameIndex.set(frame, index);
    }
    return index;
  }

  /**
   * The link_table index of (trace, span), given as hex (32 and 16 chars); 0 (no link) when
   * either id is malformed or all zeros, since the Collector rejects ids of other lengths.
   */
  link(traceIdHex: string, spanIdHex: string): number {
    if (!VALID_TRACE_ID.test(traceIdHex) || !VALID_SPAN_ID.test(spanIdHex)) return 0;
    const key = (traceIdHex + spanIdHex).toLowerCase();
    return this._links.intern(key, () => ({
      traceId: Buffer.from(traceIdHex, 'hex'),
      spanId: Buffer.from(spanIdHex, 'hex'),
    }));
  }

  /** The attribute_table index of `key = value`; `undefined` for values OTLP cannot carry. */
  attribute(key: string, value: AttributeValue): number | undefined {
    const anyValue = toAnyValue(value);
    if (anyValue === undefined) return undefined;
    const keyStrindex = this.string(key);
    // JSON.stringify keeps the value's kind ("1" vs 1 vs true) so equal keys mean equal entries.
    return this._attributes.intern(`${keyStrindex}:${JSON.stringify(anyValue)}`, () => ({
      keyStrindex,
      value: anyValue,
    }));
  }

  /** The finished tables; the builder must not be used afterwards. */
  build(): PbProfilesDictionary {
    return {
      mappingTable: [{}],
      locationTable: this._locations.table,
      functionTable: this._functions.table,
      linkTable: this._links.table,
      stringTable: this._stringTable,
      attributeTable: this._attributes.table,
      stackTable: this._stacks.table,
    };
  }

  private _function(frame: ProfileFrame): number {
    // Display name is never empty, so the Function always has a non-empty field as the spec
    // requires; system_name keeps V8's raw name (empty for anonymous functions).
    const systemNameStrindex = this.string(frame.functionName);
    const nameStrindex = frame.functionName === '' ? this.string(ANONYMOUS_FUNCTION_NAME) : systemNameStrindex;
    const filenameStrindex = this.string(frame.fileName);
    return this._functions.intern(`${nameStrindex}:${systemNameStrindex}:${filenameStrindex}`, () => {
      const fn: PbFunction = { nameStrindex };
      if (systemNameStrindex !== 0) fn.systemNameStrindex = systemNameStrindex;
      if (filenameStrindex !== 0) fn.filenameStrindex = filenameStrindex;
      return fn;
    });
  }

  // One attribute entry and one shared index list serve every location.
  private _frameType(): readonly number[] {
    if (this._frameTypeAttributes === undefined) {
      this._frameTypeAttributes = Object.freeze([this.attribute(FRAME_TYPE_KEY, V8JS_FRAME_TYPE)!]);
    }
    return this._frameTypeAttributes;
  }
}

function positiveInt(value: number): number {
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/**
 * An OpenTelemetry attribute value as AnyValue; integers become `int_value` and other numbers
 * `double_value`, as the OpenTelemetry JS OTLP transformer does. Integers beyond 2^53 are not
 * exact in a JS number anyway, so they stay doubles.
 */
export function toAnyValue(value: AttributeValue | null | undefined): PbAnyValue | undefined {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
    case 'object':
      if (Array.isArray(value)) {
        return { arrayValue: { values: value.map((v: AttributeValue | null | undefined) => toAnyValue(v) ?? {}) } };
      }
      return undefined;
    default:
      return undefined;
  }
}
